package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/queue"
)

// BenchmarkSubmit is a submit through the whole handler chain (auth,
// body decoding, schema validation, canonical params, the envelope) over a
// queue that accepts at once: the server's own cost. Compare it with
// BenchmarkBareGinDecode, a Gin handler that only decodes the same JSON.
// (The queue's and the journal's costs are measured in their packages.)
func BenchmarkSubmit(b *testing.B) {
	h := newStubServer(b, &acceptingQueue{}, withStubKeys(allKey))
	handler := h.srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/operations/buy", strings.NewReader(buyBody))
		req.Header.Set("Authorization", "Bearer "+allKey)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}

// acceptingQueue queues every submit at once, in memory, forgetting it.
type acceptingQueue struct{ stubQueue }

func (acceptingQueue) Submit(_ context.Context, req queue.Request) (queue.Submitted, error) {
	return queue.Submitted{Operation: queue.Operation{ID: "0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69", Name: req.Name,
		Terminal: req.Terminal, Status: queue.StatusQueued}}, nil
}

func BenchmarkBareGinDecode(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/api/v1/operations/:name", func(c *gin.Context) {
		var body map[string]any
		if err := json.NewDecoder(c.Request.Body).Decode(&body); err != nil {
			c.JSON(400, gin.H{"success": false})
			return
		}
		c.JSON(200, gin.H{"success": true, "data": gin.H{"operation_id": "x", "status": "queued"}})
	})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/operations/buy", strings.NewReader(buyBody))
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
	}
}

// BenchmarkSubmitWait is the round trip of a submit that waits for its
// result (?wait=) on an idle lane.
func BenchmarkSubmitWait(b *testing.B) {
	h := newHarness(b)
	handler := h.srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/operations/funds_query?wait=10", nil)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"success"`) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}
