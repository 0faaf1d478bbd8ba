package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestConsoleFiles(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/console/", http.StatusOK, "text/html", `<script src="console.js" defer></script>`},
		{"/console/console.js", http.StatusOK, "text/javascript", "followEvents"},
		{"/console/console.css", http.StatusOK, "text/css", "--bg"},
	}
	for _, tt := range tests {
		w := h.get(tt.path)
		if w.Code != tt.status || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.contentType) || !strings.Contains(w.Body.String(), tt.contains) {
			t.Errorf("%s: %d %s, want %d %s with %q", tt.path, w.Code, w.Header().Get("Content-Type"), tt.status, tt.contentType, tt.contains)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", tt.path, csp)
		}
	}
	if w := h.get("/console"); w.Code != http.StatusFound || w.Header().Get("Location") != "/console/" {
		t.Errorf("/console: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := h.get("/console/nope.js"); w.Code != http.StatusNotFound {
		t.Errorf("a missing file: %d", w.Code)
	}
	// No inline script or style: the CSP forbids them, so the page would
	// break silently.
	page := h.get("/console/").Body.String()
	for _, inline := range []string{"<script>", "style=", "onclick=", "javascript:"} {
		if strings.Contains(page, inline) {
			t.Errorf("index.html has inline %q", inline)
		}
	}
}

func TestMCPRefusesForeignOrigins(t *testing.T) {
	h := newHarness(t)
	w := h.serve(request{method: http.MethodPost, path: "/mcp", body: `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		header: map[string]string{"Origin": "https://evil.example", "Accept": "application/json, text/event-stream"}})
	expect(t, w, http.StatusForbidden, codeForbidden)
}

func FuzzMCPSubmission(f *testing.F) {
	f.Add([]byte(`{"stock_code":"600000","price":10.5,"quantity":100,"priority":5,"idempotency_key":"k","wait":0}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"terminal":1,"timeout":-1,"expire_after":"x","wait":1e9}`))
	f.Add([]byte(`[1,2]`))
	params := map[string]bool{"stock_code": true, "price": true, "quantity": true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, wait, errs := mcpSubmission(raw, params)
		if len(errs) > 0 {
			return
		}
		if wait < 0 || wait > mcpMaxWait*1e9 || in.priority < 0 || in.priority > 10 {
			t.Fatalf("out of range: wait %v priority %d", wait, in.priority)
		}
		if fields, ferrs, err := decodeObject(in.params); err != nil || ferrs != nil || fields == nil {
			t.Fatalf("params %s are not an object", in.params)
		}
	})
}
