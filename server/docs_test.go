package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestDocs(t *testing.T) {
	h := newHarness(t, withKeys(false))

	for _, path := range []string{"/docs", "/docs/"} {
		w := h.get(path)
		if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/docs/index.html" {
			t.Errorf("%s: %d → %q", path, w.Code, w.Header().Get("Location"))
		}
	}
	w := h.get("/docs/index.html")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "swagger") {
		t.Fatalf("index: %d", w.Code)
	}
	for _, asset := range []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-initializer.js", "/docs/swagger-ui.css"} {
		if w := h.get(asset); w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("%s: %d", asset, w.Code)
		}
	}
	if w := h.get("/docs/swagger-initializer.js"); !strings.Contains(w.Body.String(), "doc.json") {
		t.Errorf("the UI does not load doc.json")
	}
	expect(t, h.get("/docs/nothing-here"), 404, codeNotFound)

	w = h.get("/docs/doc.json")
	if w.Code != 200 {
		t.Fatalf("doc.json: %d", w.Code)
	}
	var spec struct {
		Swagger     string                            `json:"swagger"`
		BasePath    string                            `json:"basePath"`
		Paths       map[string]map[string]specOp      `json:"paths"`
		Security    map[string]map[string]any         `json:"securityDefinitions"`
		Tags        []struct{ Name string }           `json:"tags"`
		Definitions map[string]map[string]interface{} `json:"definitions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Swagger != "2.0" || spec.BasePath != "/api/v1" {
		t.Errorf("swagger %q basePath %q", spec.Swagger, spec.BasePath)
	}
	if spec.Security["BearerAuth"]["in"] != "header" || spec.Security["BearerAuth"]["name"] != "Authorization" {
		t.Errorf("security %v", spec.Security)
	}
	// Every route of the API is documented.
	for path, methods := range map[string][]string{
		"/operations/{id}/status": {"get"}, "/operations/{id}/result": {"get"},
		"/operations/{id}": {"delete"}, "/operations/": {"get"}, "/history": {"get"}, "/queue/stats": {"get"},
		"/queue/pause": {"post"}, "/queue/resume": {"post"}, "/system/health": {"get"}, "/system/status": {"get"},
		"/system/info": {"get"}, "/system/reconnect": {"post"}, "/events": {"get"}, "/ping": {"get"},
		"/sim/quote": {"get", "post"},
	} {
		for _, m := range methods {
			if _, ok := spec.Paths[path][m]; !ok {
				t.Errorf("%s %s is not documented", m, path)
			}
		}
	}
	// One concrete path per operation, with its parameters and an example.
	list := h.srv.operationList()
	for _, name := range list.Names {
		op, ok := spec.Paths["/operations/"+name]["post"]
		if !ok {
			t.Errorf("no path for %s", name)
			continue
		}
		if len(op.Tags) != 1 || op.Tags[0] != "operation: "+name {
			t.Errorf("%s tags %v", name, op.Tags)
		}
		var body *specParam
		for i := range op.Parameters {
			if op.Parameters[i].In == "body" {
				body = &op.Parameters[i]
			}
			if op.Parameters[i].In == "path" {
				t.Errorf("%s keeps the {name} parameter", name)
			}
		}
		if body == nil {
			t.Errorf("%s has no body", name)
			continue
		}
		params := body.Schema.Properties["params"]
		for pname := range list.Operations[name].Parameters {
			if _, ok := params.Properties[pname]; !ok {
				t.Errorf("%s: parameter %s is not in the schema", name, pname)
			}
		}
		if ex, _ := body.Schema.Example.(map[string]any); ex["params"] == nil {
			t.Errorf("%s has no example request", name)
		}
		if len(op.Security) == 0 {
			t.Errorf("%s has no security", name)
		}
	}
	buy := spec.Paths["/operations/buy"]["post"]
	for _, p := range buy.Parameters {
		if p.In != "body" {
			continue
		}
		sc := p.Schema.Properties["params"].Properties["stock_code"]
		if sc.Type != "string" || sc.Pattern == "" {
			t.Errorf("buy stock_code schema %+v", sc)
		}
		if got := p.Schema.Properties["params"].Required; len(got) != 3 {
			t.Errorf("buy required %v", got)
		}
		ex := p.Schema.Example.(map[string]any)["params"].(map[string]any)
		if ex["stock_code"] != "600000" {
			t.Errorf("buy example %v", ex)
		}
	}
}

type specOp struct {
	Tags       []string         `json:"tags"`
	Parameters []specParam      `json:"parameters"`
	Security   []map[string]any `json:"security"`
}

type specParam struct {
	In     string     `json:"in"`
	Schema specSchema `json:"schema"`
}

type specSchema struct {
	Type       string                `json:"type"`
	Pattern    string                `json:"pattern"`
	Properties map[string]specSchema `json:"properties"`
	Required   []string              `json:"required"`
	Example    any                   `json:"example"`
}

func TestDocsOff(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Docs = false }))
	for _, path := range []string{"/docs", "/docs/index.html", "/docs/doc.json"} {
		expect(t, h.get(path), 404, codeNotFound)
	}
}

// TestDocsAssets checks every static file of Swagger UI that its index
// page loads or links: served from the embedded copy, whole, with its type.
func TestDocsAssets(t *testing.T) {
	h := newHarness(t, withKeys(false))
	index := h.get("/docs/index.html").Body.String()
	for _, tc := range []struct {
		path, contentType string
		inIndex           bool
	}{
		{"/docs/swagger-ui-bundle.js", "javascript", true},
		{"/docs/swagger-ui-standalone-preset.js", "javascript", true},
		{"/docs/swagger-ui.css", "text/css", true},
		{"/docs/favicon-16x16.png", "image/png", true},
		{"/docs/favicon-32x32.png", "image/png", true},
		{"/docs/swagger-ui.js", "javascript", false},
		{"/docs/oauth2-redirect.html", "text/html", false},
	} {
		name := strings.TrimPrefix(tc.path, "/docs/")
		want, err := swaggerUI.ReadFile("swaggerui/" + name)
		if err != nil {
			t.Fatalf("%s is not embedded: %v", name, err)
		}
		w := h.get(tc.path)
		if w.Code != 200 || w.Body.String() != string(want) {
			t.Errorf("%s: %d, %d bytes of the %d embedded", tc.path, w.Code, w.Body.Len(), len(want))
		}
		if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, tc.contentType) {
			t.Errorf("%s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if tc.inIndex && !strings.Contains(index, name) {
			t.Errorf("index.html no longer loads %s: is the list of assets stale?", name)
		}
	}
}
