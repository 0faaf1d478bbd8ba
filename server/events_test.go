package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// sseEvent is one parsed Server-Sent Event; comment lines are kept too.
type sseEvent struct {
	id, kind, data string
	comments       []string
}

// sseReader parses a text/event-stream.
type sseReader struct{ r *bufio.Reader }

func (s *sseReader) next(t *testing.T) (sseEvent, bool) {
	t.Helper()
	var e sseEvent
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return e, false
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if seen {
				return e, true
			}
		case strings.HasPrefix(line, ":"):
			e.comments = append(e.comments, strings.TrimSpace(line[1:]))
			seen = true
		case strings.HasPrefix(line, "id: "):
			e.id, seen = line[4:], true
		case strings.HasPrefix(line, "event: "):
			e.kind, seen = line[7:], true
		case strings.HasPrefix(line, "data: "):
			e.data, seen = line[6:], true
		case strings.HasPrefix(line, "retry: "):
			seen = true
		default:
			t.Fatalf("not an event-stream line: %q", line)
		}
	}
}

// openStream connects to /events on a live server.
func openStream(t *testing.T, base, query string) (*sseReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{r: bufio.NewReader(resp.Body)}
	if e, ok := r.next(t); !ok || len(e.comments) == 0 {
		t.Fatalf("no greeting: %+v", e)
	}
	return r, func() { cancel(); resp.Body.Close() }
}

func TestEventsStreamOperationChanges(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()

	all, closeAll := openStream(t, ts.URL, "?terminal=main")
	defer closeAll()
	named, closeNamed := openStream(t, ts.URL, "?operation=funds_query")
	defer closeNamed()

	buy := h.submitted("/api/v1/operations/buy?wait=10", buyBody)
	backupOp := h.submitted("/api/v1/operations/holding_query?wait=10", `{"terminal":"backup"}`)
	funds := h.submitted("/api/v1/operations/funds_query?wait=10", "")

	// ?terminal=main: every change of main's operations and lane, in
	// order; nothing of backup.
	var statuses []string
	for len(statuses) < 6 {
		e, ok := all.next(t)
		if !ok {
			t.Fatal("stream ended")
		}
		if e.id == "" {
			t.Errorf("event without id: %+v", e)
		}
		switch e.kind {
		case eventOperation:
			var v StatusView
			if err := json.Unmarshal([]byte(e.data), &v); err != nil {
				t.Fatal(err)
			}
			if v.Terminal != "main" || v.OperationID == backupOp {
				t.Fatalf("filtered out event delivered: %s", e.data)
			}
			statuses = append(statuses, v.Name+":"+v.Status)
			if v.Status == "success" && (v.Result == nil || !v.Result.Success) {
				t.Errorf("success event without result: %s", e.data)
			}
		case eventLane:
			if !strings.Contains(e.data, `"terminal":"main"`) {
				t.Fatalf("%s", e.data)
			}
		default:
			t.Fatalf("unexpected event %+v", e)
		}
	}
	want := "buy:queued buy:running buy:success funds_query:queued funds_query:running funds_query:success"
	if got := strings.Join(statuses, " "); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}

	// ?operation=funds_query: that operation's changes only.
	for _, status := range []string{"queued", "running", "success"} {
		e, ok := named.next(t)
		if !ok || e.kind != eventOperation {
			t.Fatalf("%+v", e)
		}
		var v StatusView
		_ = json.Unmarshal([]byte(e.data), &v)
		if v.OperationID != funds || v.Status != status {
			t.Fatalf("got %s %s, want %s %s (buy was %s)", v.OperationID, v.Status, funds, status, buy)
		}
	}
}

func TestEventsByOperationID(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	id := h.submitted("/api/v1/operations/funds_query", "")
	h.submitted("/api/v1/operations/funds_query", "")
	r, stop := openStream(t, ts.URL, "?operation="+id)
	defer stop()
	expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/" + id}), 200, "")
	if err := h.q.Resume(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	e, ok := r.next(t)
	if !ok || e.kind != eventOperation || !strings.Contains(e.data, id) || !strings.Contains(e.data, `"status":"cancelled"`) {
		t.Fatalf("%+v", e)
	}
}

func TestEventsTerminalChangesAndShutdown(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.TerminalPollInterval = time.Millisecond; c.HeartbeatInterval = time.Millisecond }))
	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()
	r, stop := openStream(t, ts.URL, "?terminal=backup")
	defer stop()

	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() { defer close(watching); h.srv.Run(ctx) }()
	h.backup.setState(automation.StateDisconnected)

	var heartbeat, changed bool
	for !heartbeat || !changed {
		e, ok := r.next(t)
		if !ok {
			t.Fatal("stream ended")
		}
		for _, c := range e.comments {
			heartbeat = heartbeat || c == "heartbeat"
		}
		if e.kind == eventTerminal {
			var v terminalEvent
			if err := json.Unmarshal([]byte(e.data), &v); err != nil {
				t.Fatal(err)
			}
			if v.Terminal != "backup" || v.State != "disconnected" || v.Previous != "ready" || v.Healthy {
				t.Fatalf("%s", e.data)
			}
			changed = true
		}
	}
	cancel()
	<-watching
	if !strings.Contains(h.logs.String(), "terminal state changed") {
		t.Error("the change was not logged")
	}

	h.srv.Close()
	for {
		e, ok := r.next(t)
		if !ok {
			t.Fatal("stream ended without a shutdown event")
		}
		if e.kind == "shutdown" {
			break
		}
	}
	if _, ok := r.next(t); ok {
		t.Error("stream goes on after shutdown")
	}
}

func TestEventsUnknownTerminal(t *testing.T) {
	h := newHarness(t)
	expect(t, h.get("/api/v1/events?terminal=nope"), 422, codeInvalidParams)
}

func TestEventBusNeverBlocksOnASlowSubscriber(t *testing.T) {
	b := NewEvents()
	slow := b.subscribe(eventFilter{})
	other := b.subscribe(eventFilter{terminal: "backup"})
	n := subscriberBuffer + 50
	for i := range n {
		b.OperationChanged(queue.Operation{ID: "x", Name: "buy", Terminal: "main", Status: queue.StatusQueued, Seq: uint64(i)})
	}
	if got := len(slow.ch); got != subscriberBuffer {
		t.Errorf("buffered %d", got)
	}
	if got := slow.dropped.Load(); got != 50 {
		t.Errorf("dropped %d, want 50", got)
	}
	if len(other.ch) != 0 || other.dropped.Load() != 0 {
		t.Error("a filtered-out subscriber was sent events")
	}
	b.unsubscribe(slow)
	b.unsubscribe(other)
	if b.subscribers() != 0 {
		t.Error("subscribers left")
	}
}

// stallingWriter is a ResponseWriter whose every write waits for the test
// to take it: a client that reads only when told.
type stallingWriter struct {
	header http.Header
	writes chan string
}

func (w *stallingWriter) Header() http.Header { return w.header }
func (w *stallingWriter) WriteHeader(int)     {}
func (w *stallingWriter) Flush()              {}
func (w *stallingWriter) Write(p []byte) (int, error) {
	w.writes <- string(p)
	return len(p), nil
}

func TestEventsSlowClientIsToldWhatItMissed(t *testing.T) {
	h := newHarness(t)
	w := &stallingWriter{header: http.Header{}, writes: make(chan string)}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", "/api/v1/events", nil).WithContext(ctx)
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		h.srv.Handler().ServeHTTP(w, req)
	}()
	if greeting := <-w.writes; !strings.HasPrefix(greeting, ":") {
		t.Fatalf("%q", greeting)
	}
	// The client reads nothing while more events than its buffer come.
	total := subscriberBuffer + 40
	for i := range total {
		h.events.OperationChanged(queue.Operation{ID: "op", Name: "buy", Terminal: "main", Status: queue.StatusQueued, Seq: uint64(i)})
	}
	delivered, dropped := 0, int64(0)
	for delivered+int(dropped) < total {
		chunk := <-w.writes
		for _, block := range strings.Split(strings.TrimSpace(chunk), "\n\n") {
			switch {
			case strings.Contains(block, "event: "+eventDropped):
				var n droppedNotice
				data := block[strings.Index(block, "data: ")+6:]
				if err := json.Unmarshal([]byte(data), &n); err != nil || n.Dropped <= 0 || n.Message == "" {
					t.Fatalf("notice %q", block)
				}
				dropped += n.Dropped
			case strings.Contains(block, "event: "+eventOperation):
				delivered++
			}
		}
	}
	if dropped == 0 || delivered < subscriberBuffer {
		t.Errorf("delivered %d, dropped %d", delivered, dropped)
	}
	cancel()
	go func() {
		for range w.writes {
		}
	}()
	served.Wait()
	close(w.writes)
	if h.events.subscribers() != 0 {
		t.Error("the subscription outlived its stream")
	}
}

// openStreamFrom is openStream with a Last-Event-ID header.
func openStreamFrom(t *testing.T, base, query, lastID string) (*sseReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Last-Event-ID", lastID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := &sseReader{r: bufio.NewReader(resp.Body)}
	if e, ok := r.next(t); !ok || len(e.comments) == 0 {
		t.Fatalf("no greeting: %+v", e)
	}
	return r, func() { cancel(); resp.Body.Close() }
}

// TestEventsReplayAfterLastEventID: a client that reconnects with the id of
// the last event it saw gets what happened while it was away, in order and
// once; one whose id is no longer kept is told to refetch (event: reset).
func TestEventsReplayAfterLastEventID(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()

	first, closeFirst := openStream(t, ts.URL, "?terminal=main")
	h.submitted("/api/v1/operations/funds_query?wait=10", "")
	var seen sseEvent
	for seen.kind != eventOperation || !strings.Contains(seen.data, `"status":"success"`) {
		var ok bool
		if seen, ok = first.next(t); !ok {
			t.Fatal("stream ended")
		}
	}
	closeFirst()

	// Away: three more operations on main, one on backup.
	var away []string
	for range 3 {
		away = append(away, h.submitted("/api/v1/operations/funds_query?wait=10", ""))
	}
	h.submitted("/api/v1/operations/funds_query?wait=10", `{"terminal":"backup"}`)

	back, closeBack := openStreamFrom(t, ts.URL, "?terminal=main", seen.id)
	defer closeBack()
	var got []string
	prev := seen.id
	for len(got) < 9 {
		e, ok := back.next(t)
		if !ok {
			t.Fatal("stream ended")
		}
		if e.kind == eventReset {
			t.Fatalf("reset although the events are kept: %s", e.data)
		}
		if len(e.id) < len(prev) || (len(e.id) == len(prev) && e.id <= prev) {
			t.Fatalf("event %s after %s: not in order, or replayed twice", e.id, prev)
		}
		prev = e.id
		if e.kind != eventOperation {
			continue
		}
		var v StatusView
		if err := json.Unmarshal([]byte(e.data), &v); err != nil {
			t.Fatal(err)
		}
		if v.Terminal != "main" {
			t.Fatalf("the filter was not applied to the replay: %s", e.data)
		}
		got = append(got, v.OperationID+":"+v.Status)
	}
	var want []string
	for _, id := range away {
		want = append(want, id+":queued", id+":running", id+":success")
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("replayed\n%v\nwant\n%v", got, want)
	}

	// Too old: more than the buffer happened since.
	for range replayBuffer + 10 {
		h.events.LaneChanged("main", queue.LaneIdle)
	}
	for _, lastID := range []string{seen.id, "1", "99999999999999999", "abc"} {
		r, closeR := openStreamFrom(t, ts.URL, "", lastID)
		e, ok := r.next(t)
		closeR()
		if !ok || e.kind != eventReset || !strings.Contains(e.data, "refetch") {
			t.Errorf("Last-Event-ID %s: first event %+v, want a reset", lastID, e)
		}
	}
}
