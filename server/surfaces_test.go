package server

import (
	"net/http"
	"strings"
	"testing"
)

// mcpInitialize is the first message an MCP client sends.
const mcpInitialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
	`"capabilities":{},"clientInfo":{"name":"surfaces-test","version":"1"}}}`

// surfaceCall is one request to an optional surface and what it answers
// while the surface is on.
type surfaceCall struct {
	surface      string // "console", "mcp" or "docs": the switch it belongs to
	method, path string
	body         string
	status       int    // while on
	location     string // while on, for a redirect
	contains     string // while on, in the body
}

var surfaceCalls = []surfaceCall{
	{surface: "console", method: "GET", path: "/console", status: http.StatusFound, location: "/console/"},
	{surface: "console", method: "GET", path: "/console/", status: http.StatusOK, contains: "console.js"},
	{surface: "console", method: "GET", path: "/console/console.js", status: http.StatusOK, contains: "followEvents"},
	{surface: "mcp", method: "POST", path: "/mcp", body: mcpInitialize, status: http.StatusOK, contains: `"serverInfo"`},
	{surface: "mcp", method: "GET", path: "/mcp"}, // on: whatever the MCP SDK answers, but not brokerd's 404
	{surface: "docs", method: "GET", path: "/docs", status: http.StatusMovedPermanently, location: "/docs/index.html"},
	{surface: "docs", method: "GET", path: "/redoc", status: http.StatusFound, location: "/docs/index.html"},
	{surface: "docs", method: "GET", path: "/docs/index.html", status: http.StatusOK, contains: "swagger"},
	{surface: "docs", method: "GET", path: "/docs/doc.json", status: http.StatusOK, contains: `"swagger":"2.0"`},
}

// TestOptionalSurfaces switches the console, MCP and the docs on and off,
// each alone and all together: a surface that is on answers, one that is
// off answers 404 not_found in the envelope, as an unknown path does, and
// no switch touches another surface or the API.
func TestOptionalSurfaces(t *testing.T) {
	tests := []struct {
		name               string
		console, mcp, docs bool
	}{
		{name: "all on", console: true, mcp: true, docs: true},
		{name: "console off", mcp: true, docs: true},
		{name: "mcp off", console: true, docs: true},
		{name: "docs off", console: true, mcp: true},
		{name: "only the console", console: true},
		{name: "all off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *Config) { c.Console, c.MCP, c.Docs = tt.console, tt.mcp, tt.docs }))
			on := map[string]bool{"console": tt.console, "mcp": tt.mcp, "docs": tt.docs}
			for _, sc := range surfaceCalls {
				r := request{method: sc.method, path: sc.path, body: sc.body}
				if sc.surface == "mcp" {
					r.header = map[string]string{"Accept": "application/json, text/event-stream"}
				}
				w := h.serve(r)
				if !on[sc.surface] {
					e := expect(t, w, http.StatusNotFound, codeNotFound)
					if !strings.Contains(e.message(), "no such endpoint: "+sc.method+" "+sc.path) {
						t.Errorf("%s %s off: message %q is not the unknown path's", sc.method, sc.path, e.message())
					}
					if mentions := strings.Contains(e.message(), "see /docs"); mentions != tt.docs {
						t.Errorf("%s %s: the 404 mentions /docs = %v with docs on = %v: %q", sc.method, sc.path, mentions, tt.docs, e.message())
					}
					continue
				}
				if sc.status == 0 {
					if w.Code == http.StatusNotFound && strings.Contains(w.Body.String(), codeNotFound) {
						t.Errorf("%s %s on: brokerd's 404: %s", sc.method, sc.path, w.Body.String())
					}
					continue
				}
				if w.Code != sc.status {
					t.Errorf("%s %s on: %d, want %d: %.300s", sc.method, sc.path, w.Code, sc.status, w.Body.String())
				}
				if loc := w.Header().Get("Location"); loc != sc.location {
					t.Errorf("%s %s on: Location %q, want %q", sc.method, sc.path, loc, sc.location)
				}
				if !strings.Contains(w.Body.String(), sc.contains) {
					t.Errorf("%s %s on: the body lacks %q: %.300s", sc.method, sc.path, sc.contains, w.Body.String())
				}
			}
			// The API and the unauthenticated routes do not depend on the switches.
			expect(t, h.get("/api/v1/ping"), http.StatusOK, "")
			if w := h.get("/metrics"); w.Code != http.StatusOK {
				t.Errorf("/metrics: %d", w.Code)
			}
			expect(t, h.get("/api/v1/operations/"), http.StatusOK, "")
		})
	}
}
