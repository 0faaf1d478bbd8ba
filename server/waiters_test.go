package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A thousand clients blocked on /result do not hold up the rest of the API:
// while they all wait, /ping and /queue/stats answer; when the operation
// finishes, every waiter gets the result.
func TestThousandResultWaitersDoNotBlockOtherEndpoints(t *testing.T) {
	const waiters = 1000
	h := newHarness(t)
	release := h.exec.hold()
	defer release()
	id := h.submitted("/api/v1/operations/funds_query", "")
	<-h.exec.started // running, held

	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: waiters}}
	defer client.CloseIdleConnections()

	type answer struct {
		code    int
		success bool
		err     error
	}
	answers := make(chan answer, waiters)
	for range waiters {
		go func() {
			resp, err := client.Get(ts.URL + "/api/v1/operations/" + id + "/result")
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			var e envelope
			err = json.NewDecoder(resp.Body).Decode(&e)
			answers <- answer{code: resp.StatusCode, success: e.Success, err: err}
		}()
	}
	h.awaitWaiters(waiters)
	if got := h.metrics.waiters.Load(); got != waiters {
		t.Fatalf("%d waiters counted", got)
	}

	// Every waiter is blocked and the operation still runs: other
	// endpoints answer all the same.
	for i := range 50 {
		path := "/api/v1/ping"
		if i%2 == 1 {
			path = "/api/v1/queue/stats"
		}
		resp, err := client.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	select {
	case a := <-answers:
		t.Fatalf("a waiter was answered before the operation finished: %+v", a)
	default:
	}

	release()
	for i := range waiters {
		a := <-answers
		if a.err != nil || a.code != 200 || !a.success {
			t.Fatalf("waiter %d: %+v", i, a)
		}
	}
	if got := h.metrics.waiters.Load(); got != 0 {
		t.Errorf("%d waiters still counted", got)
	}
}
