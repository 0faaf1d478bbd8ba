package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/brokerd/brokerd/docs"
	"github.com/brokerd/brokerd/plugins"
)

// swagger2Host is the pattern Swagger 2.0's own JSON schema gives host:
// a name and an optional port, never empty. kin-openapi's conversion drops
// an empty host instead of refusing it, so it is checked here.
var swagger2Host = regexp.MustCompile(`^[^{}/ :\\]+(?::\d+)?$`)

// validateSwagger2 checks a Swagger 2.0 document with kin-openapi: it must
// decode as Swagger 2.0, convert to OpenAPI 3 and validate there, examples
// included (each error example against ErrorEnvelope, each request
// example against its schema).
func validateSwagger2(t *testing.T, doc []byte) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	if h, ok := raw["host"]; ok {
		if s, _ := h.(string); !swagger2Host.MatchString(s) {
			t.Errorf("host %q is not a valid Swagger 2.0 host", h)
		}
	}
	if sc, ok := raw["schemes"].([]any); ok && len(sc) == 0 {
		t.Error("schemes is an empty list")
	}
	var v2 openapi2.T
	if err := json.Unmarshal(doc, &v2); err != nil {
		t.Fatalf("not Swagger 2.0: %v", err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	if err := v3.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Errorf("invalid: %v", err)
	}
}

func TestServedSpecIsValid(t *testing.T) {
	h := newHarness(t)
	w := h.get("/docs/doc.json")
	if w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
	validateSwagger2(t, w.Body.Bytes())
}

func TestCommittedSpecIsValid(t *testing.T) {
	b, err := os.ReadFile("../docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	validateSwagger2(t, b)
}

// TestCommittedSpecIsTheServedOne: docs/swagger.json is the served spec,
// merged from the same swag output, less the "Supported by" lines that
// depend on the configured terminals.
func TestCommittedSpecIsTheServedOne(t *testing.T) {
	committed, err := os.ReadFile("../docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	merged, err := MergeSpec([]byte(docs.SwaggerInfo.ReadDoc()), plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet()))
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, committed, merged) {
		t.Fatal("docs/swagger.json is not the merged spec: run scripts/swag.sh")
	}
	served := newHarness(t).get("/docs/doc.json").Body.Bytes()
	supported := regexp.MustCompile(`(No configured terminal supports it|Supported by: [^.]*)\.\\n\\n`)
	if !sameJSON(t, committed, supported.ReplaceAll(served, nil)) {
		t.Error("the served spec differs from docs/swagger.json by more than the terminals")
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestSpecExamples: each error status shows its own code; the generic
// submit a real request; every example timestamp follows the one time
// zone rule (China time, +08:00).
func TestSpecExamples(t *testing.T) {
	doc := newHarness(t).get("/docs/doc.json").Body.Bytes()
	var spec struct {
		Paths       map[string]map[string]struct{ Responses map[string]map[string]any } `json:"paths"`
		Definitions map[string]map[string]any                                           `json:"definitions"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for path, methods := range spec.Paths {
		for m, op := range methods {
			for status, r := range op.Responses {
				if status < "400" {
					continue
				}
				ex, _ := dig(r, "examples", "application/json").(map[string]any)
				if ex == nil {
					continue
				}
				want := errorExamples[atoi(status)].code
				if ex["error_code"] != want {
					t.Errorf("%s %s %s: example error_code %v, want %s", m, path, status, ex["error_code"], want)
				}
				codes[want] = true
			}
		}
	}
	if len(codes) < 8 {
		t.Errorf("only %d distinct error codes in the examples: %v", len(codes), codes)
	}
	ex, _ := spec.Definitions["SubmitRequest"]["example"].(map[string]any)
	if p, _ := ex["params"].(map[string]any); p["stock_code"] != "600000" {
		t.Errorf("the generic submit example is %v", spec.Definitions["SubmitRequest"]["example"])
	}
	if strings.Contains(string(doc), "additionalProp1") {
		t.Error("placeholder additionalProp1 in the spec")
	}
	for _, ts := range regexp.MustCompile(`"20\d\d-\d\d-\d\dT[0-9:.]+([+-]\d\d:\d\d|Z)"`).FindAllSubmatch(doc, -1) {
		if string(ts[1]) != "+08:00" {
			t.Errorf("example time %s is not in China time", ts[0])
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestOneTimeZone: the envelope's timestamp is in China time (+08:00) like
// the results' and the examples', whatever the server's own zone.
func TestOneTimeZone(t *testing.T) {
	h := newStubServer(t, &stubQueue{}) // the wall clock, in this machine's zone
	ts := decode(t, h.get("/api/v1/ping")).Timestamp
	if !strings.HasSuffix(ts, "+08:00") {
		t.Errorf("timestamp %s is not in China time", ts)
	}
	if got := formatTime(time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC)); got != "2026-01-02T10:30:00.000000+08:00" {
		t.Errorf("formatTime = %s", got)
	}
}
