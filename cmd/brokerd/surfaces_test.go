package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestSurfaceSwitchesDecode: [api] console, mcp and docs default to on,
// each is turned off on its own, they must be booleans, and a misspelt one
// is still an unknown key named with its line.
func TestSurfaceSwitchesDecode(t *testing.T) {
	const sim = "\n[[terminals]]\nname = \"sim\"\ndriver = \"sim\"\n"
	tests := []struct {
		name               string
		toml               string
		console, mcp, docs bool
		err                string // "" for none
	}{
		{name: "left out: all on", toml: "[api]\nport = 7648\n" + sim, console: true, mcp: true, docs: true},
		{name: "no [api] at all: all on", toml: sim, console: true, mcp: true, docs: true},
		{name: "all said on", toml: "[api]\nconsole = true\nmcp = true\ndocs = true\n" + sim, console: true, mcp: true, docs: true},
		{name: "console off", toml: "[api]\nconsole = false\n" + sim, mcp: true, docs: true},
		{name: "mcp off", toml: "[api]\nmcp = false\n" + sim, console: true, docs: true},
		{name: "docs off", toml: "[api]\ndocs = false\n" + sim, console: true, mcp: true},
		{name: "all off", toml: "[api]\nconsole = false\nmcp = false\ndocs = false\n" + sim},
		{name: "console quoted", toml: "[api]\nconsole = \"false\"\n" + sim,
			err: "line 2, column 11: api.console must be true or false, without quotes, not a string"},
		{name: "mcp as a number", toml: "[api]\nmcp = 0\n" + sim, err: "api.mcp must be true or false"},
		{name: "misspelt console", toml: "[api]\nconsol = false\n" + sim, err: "unknown key api.consol (line 2)"},
		{name: "mcp outside [api]", toml: "mcp = false\n" + sim, err: "unknown key mcp (line 1)"},
		{name: "a [server] table", toml: "[server]\nconsole = false\n" + sim, err: "unknown key server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig([]byte(tt.toml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.API.Console != tt.console || cfg.API.MCP != tt.mcp || cfg.API.Docs != tt.docs {
				t.Errorf("console, mcp, docs = %v, %v, %v; want %v, %v, %v",
					cfg.API.Console, cfg.API.MCP, cfg.API.Docs, tt.console, tt.mcp, tt.docs)
			}
		})
	}
}

// TestShippedConfigServesEverySurface: the shipped (and embedded) config
// keeps today's behaviour: the console, MCP and the docs are on.
func TestShippedConfigServesEverySurface(t *testing.T) {
	cfg, err := parseConfig(defaultConfigTOML) // TestEmbeddedConfigIsTheShippedOne: config.toml
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.API.Console || !cfg.API.MCP || !cfg.API.Docs {
		t.Errorf("console, mcp, docs = %v, %v, %v; want all on", cfg.API.Console, cfg.API.MCP, cfg.API.Docs)
	}
}

// TestSurfacesOffEndToEnd: brokerd started with the three switched off
// says so at start and answers their paths 404, the API still served.
func TestSurfacesOffEndToEnd(t *testing.T) {
	base, logs, stop := startBrokerdWith(t, func(dir string) string {
		return "[api]\nport = 0\nconsole = false\nmcp = false\ndocs = false\n" +
			"[store]\npath = \"" + filepath.ToSlash(filepath.Join(dir, "brokerd.db")) + "\"\n" +
			"[[terminals]]\nname = \"sim\"\ndriver = \"sim\"\n"
	})
	for _, c := range []struct{ method, path string }{
		{"GET", "/console/"}, {"POST", "/mcp"}, {"GET", "/docs/index.html"}, {"GET", "/docs/doc.json"},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, c.path, resp.StatusCode)
		}
	}
	if resp, err := http.Get(base + "/api/v1/ping"); err != nil || resp.StatusCode != 200 {
		t.Errorf("ping: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "console=off mcp=off docs=off") {
		t.Errorf("the start log does not say the surfaces are off:\n%s", logs.String())
	}
}
