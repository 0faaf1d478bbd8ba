package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// unknownParamsBody is a buy whose params carry n unknown keys besides the
// valid ones.
func unknownParamsBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"params":{"stock_code":"600000","price":10.5,"quantity":100`)
	for i := range n {
		fmt.Fprintf(&b, `,"x%06d":1`, i)
	}
	b.WriteString(`}}`)
	return b.String()
}

// TestInvalidParamsAnswerIsBounded: a body of 60,000 unknown params (under
// the 1 MiB limit) gets an answer naming the first fields and how many
// more, not a 10 MB list.
func TestInvalidParamsAnswerIsBounded(t *testing.T) {
	h := newHarness(t)
	const n = 60000
	body := unknownParamsBody(n)
	if len(body) > defaultMaxBody {
		t.Fatalf("the body is %d bytes, over the limit", len(body))
	}
	w := h.post("/api/v1/operations/buy", body)
	e := expect(t, w, http.StatusUnprocessableEntity, codeInvalidParams)
	if w.Body.Len() > 32<<10 {
		t.Errorf("the answer is %d bytes", w.Body.Len())
	}
	fe := dataAs[fieldErrors](t, e)
	if len(fe.Errors) != maxReportedFields || fe.More != n-maxReportedFields {
		t.Errorf("lists %d fields and %d more, want %d and %d", len(fe.Errors), fe.More, maxReportedFields, n-maxReportedFields)
	}
	if want := fmt.Sprintf("and %d more", n-maxReportedFields); !strings.HasSuffix(e.message(), want) {
		t.Errorf("message does not end with %q: %.200s…", want, e.message())
	}
	if fe.Errors[0].Field != "params.x000000" {
		t.Errorf("first field %q", fe.Errors[0].Field)
	}

	// Below the cap every field is listed and nothing is said to be left out.
	e = expect(t, h.post("/api/v1/operations/buy", unknownParamsBody(3)), http.StatusUnprocessableEntity, codeInvalidParams)
	if fe := dataAs[fieldErrors](t, e); len(fe.Errors) != 3 || fe.More != 0 || strings.Contains(e.message(), "more") {
		t.Errorf("3 unknown params: %s", e.Data)
	}
}

// BenchmarkSubmitUnknownParams is a refused submit by the number of
// unknown params: the time per op should grow linearly with it.
func BenchmarkSubmitUnknownParams(b *testing.B) {
	h := newStubServer(b, &acceptingQueue{})
	handler := h.srv.Handler()
	for _, n := range []int{10, 100, 1000, 10000} {
		body := unknownParamsBody(n)
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/operations/buy", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusUnprocessableEntity {
					b.Fatalf("%d %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
