package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSubmitBody: whatever the body, the answer is an envelope and never a
// 5xx (but for a full queue), and decoding never panics.
func FuzzSubmitBody(f *testing.F) {
	for _, seed := range []string{
		"", "{}", "null", "[]", `"x"`, "0", "{", `{"params":null}`, buyBody,
		`{"params":{"stock_code":"600000","price":"10.50","quantity":100},"priority":10,"timeout":0.5,"expire_after":3,"client_id":"a"}`,
		`{"params":{"stock_code":600000}}`, `{"priority":1e400}`, `{"priority":"5"}`, `{"timeout":1e308}`,
		`{"terminal":"gw"}`, `{"params":{"quantity":-0}}`, `{"params":{"a":1,"a":2}}`, "{\"params\":{\"\xff\":1}}",
		`{"client_id":""}`, `{"params":{}, "params":[]}`, "\ufeff{}", `{"priority":-0.0}`,
	} {
		f.Add("buy", seed)
		f.Add("funds_query", seed)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, name, body string) {
		if _, _, err := decodeSubmit([]byte(body)); err != nil && err != errMalformed {
			t.Fatalf("decodeSubmit: %v", err)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/operations/"+pathSegment(name), strings.NewReader(body))
		w := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, req)
		var e envelope
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("%d: not an envelope: %q", w.Code, w.Body.String())
		}
		switch {
		case w.Code == http.StatusServiceUnavailable && e.code() == codeQueueFull:
		case w.Code >= 500:
			t.Fatalf("%d for %q: %s", w.Code, body, w.Body.String())
		case w.Code != 200 && e.Success:
			t.Fatalf("%d with success: %s", w.Code, w.Body.String())
		}
	})
}

// pathSegment keeps a fuzzed name inside one path segment.
func pathSegment(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "buy"
	}
	return string(out)
}
