package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

var statusKeys = []string{"operation_id", "name", "terminal", "status", "priority", "result", "error", "error_code",
	"submitted_at", "started_at", "finished_at", "timestamp"}

func statusData(t *testing.T, e envelope) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range statusKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("status lacks %q: %s", k, e.Data)
		}
	}
	return m
}

func TestStatus(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	id := h.submitted("/api/v1/operations/buy", buyBody)

	e := expect(t, h.get("/api/v1/operations/"+id+"/status"), 200, "")
	m := statusData(t, e)
	for _, k := range []string{"result", "error", "error_code", "started_at", "finished_at"} {
		if string(m[k]) != "null" {
			t.Errorf("queued operation: %s = %s, want null", k, m[k])
		}
	}
	v := dataAs[StatusView](t, e)
	if v.OperationID != id || v.Name != "buy" || v.Terminal != "main" || v.Status != "queued" || v.Priority != 5 || v.SubmittedAt == nil {
		t.Errorf("%+v", v)
	}

	if err := h.q.Resume(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	h.waitFinal(id)
	e = expect(t, h.get("/api/v1/operations/"+id+"/status"), 200, "")
	statusData(t, e)
	v = dataAs[StatusView](t, e)
	if v.Status != "success" || v.StartedAt == nil || v.FinishedAt == nil || v.Result == nil || !v.Result.Success ||
		v.Result.Message == nil || *v.Result.Message != "done: buy" || v.Error != nil {
		t.Fatalf("%s", e.Data)
	}
	var data map[string]any
	if err := json.Unmarshal(v.Result.Data, &data); err != nil || data["operation"] != "buy" {
		t.Errorf("result data %s", v.Result.Data)
	}

	expect(t, h.get("/api/v1/operations/no-such-id/status"), 404, codeNotFound)
}

func TestResult(t *testing.T) {
	h := newHarness(t)

	t.Run("success in EasyTHS's shape", func(t *testing.T) {
		id := h.submitted("/api/v1/operations/buy", buyBody)
		e := expect(t, h.get("/api/v1/operations/"+id+"/result"), 200, "")
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil || data["operation"] != "buy" || data["success"] != true {
			t.Errorf("data %s", e.Data)
		}
		if e.message() != "done: buy" {
			t.Errorf("message %q", e.message())
		}
	})

	t.Run("a failed operation is a 200 with its code", func(t *testing.T) {
		h.exec.respond(func(queue.Operation) (queue.Result, error) {
			return queue.Result{}, automation.NotConnected("xiadan.exe is not running")
		})
		defer h.exec.respond(nil)
		id := h.submitted("/api/v1/operations/funds_query", "")
		w := h.get("/api/v1/operations/" + id + "/result?timeout=10")
		e := decode(t, w)
		if w.Code != 200 || e.Success || e.code() != "not_connected" || e.message() != "xiadan.exe is not running" || string(e.Data) != "null" {
			t.Fatalf("%d %s", w.Code, w.Body.String())
		}
	})

	t.Run("timeout while queued is a 408 with the status", func(t *testing.T) {
		if err := h.q.Pause(context.Background(), "main"); err != nil {
			t.Fatal(err)
		}
		defer h.q.Resume(context.Background(), "main")
		id := h.submitted("/api/v1/operations/funds_query", "")
		e := expect(t, h.get("/api/v1/operations/"+id+"/result?timeout=0.01"), http.StatusRequestTimeout, codeTimeout)
		if v := dataAs[StatusView](t, e); v.OperationID != id || v.Status != "queued" {
			t.Errorf("%s", e.Data)
		}
		// timeout=0 answers at once.
		expect(t, h.get("/api/v1/operations/"+id+"/result?timeout=0"), http.StatusRequestTimeout, codeTimeout)
	})

	t.Run("bad timeouts", func(t *testing.T) {
		for _, q := range []string{"abc", "-1", "NaN", "1e9"} {
			e := expect(t, h.get("/api/v1/operations/x/result?timeout="+q), 422, codeInvalidParams)
			if f := e.fields(t); !slices.Equal(f, []string{"timeout"}) {
				t.Errorf("timeout=%s names %v", q, f)
			}
		}
	})

	t.Run("unknown id", func(t *testing.T) {
		expect(t, h.get("/api/v1/operations/nope/result?timeout=1"), 404, codeNotFound)
	})
}

func TestResultWaitsUntilTheOperationFinishes(t *testing.T) {
	h := newHarness(t)
	release := h.exec.hold()
	defer release()
	id := h.submitted("/api/v1/operations/funds_query", "")
	<-h.exec.started

	answered := make(chan envelope)
	go func() {
		w := h.get("/api/v1/operations/" + id + "/result")
		answered <- decode(t, w)
	}()
	h.awaitWaiters(1)
	select {
	case e := <-answered:
		t.Fatalf("answered before the operation finished: %+v", e)
	default:
	}
	release()
	if e := <-answered; !e.Success {
		t.Fatalf("%+v", e)
	}
}

func TestResultReleasedByShutdown(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	id := h.submitted("/api/v1/operations/funds_query", "")
	answered := make(chan *httpAnswer)
	go func() {
		w := h.get("/api/v1/operations/" + id + "/result")
		answered <- &httpAnswer{code: w.Code, body: w.Body.String(), retry: w.Header().Get("Retry-After")}
	}()
	h.awaitWaiters(1)
	h.srv.Close()
	a := <-answered
	if a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, `"error_code":"unavailable"`) || a.retry == "" {
		t.Fatalf("%+v", a)
	}
}

type httpAnswer struct {
	code        int
	body, retry string
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	queued := h.submitted("/api/v1/operations/buy", buyBody)

	e := expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/" + queued}), 200, "")
	if v := dataAs[StatusView](t, e); v.Status != "cancelled" || v.ErrorCode == nil || *v.ErrorCode != "cancelled" {
		t.Errorf("%s", e.Data)
	}
	if e.message() == "" {
		t.Error("no message")
	}
	// Cancelled again: it is finished.
	expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/" + queued}), 409, codeConflict)

	release := h.exec.hold()
	defer release()
	running := h.submitted("/api/v1/operations/funds_query", "")
	if err := h.q.Resume(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	<-h.exec.started
	e = expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/" + running}), 409, codeConflict)
	if v := dataAs[StatusView](t, e); v.Status != "running" {
		t.Errorf("%s", e.Data)
	}
	if !strings.Contains(e.message(), "running") {
		t.Errorf("message %q", e.message())
	}
	release()
	h.waitFinal(running)
	expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/" + running}), 409, codeConflict)
	expect(t, h.serve(request{method: "DELETE", path: "/api/v1/operations/unknown"}), 404, codeNotFound)
}

func TestListOperations(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/api/v1/operations/", "/api/v1/operations"} {
		e := expect(t, h.get(path), 200, "")
		list := dataAs[OperationList](t, e)
		all := slices.Concat(automation.StockOperations, automation.ExchangeOperations)
		if list.Count != len(all) || len(list.Operations) != list.Count {
			t.Fatalf("%s: count %d", path, list.Count)
		}
		if !slices.Equal(list.Names, all) {
			t.Errorf("names %v", list.Names)
		}
		buy := list.Operations["buy"]
		if buy.Name != "BuyOperation" || buy.Version == "" || buy.Description.Description == "" || !buy.SideEffect {
			t.Errorf("buy: %+v", buy.Description)
		}
		if p, ok := buy.Parameters["stock_code"]; !ok || p.Type != "string" || !p.Required {
			t.Errorf("buy.stock_code: %+v", p)
		}
		if len(buy.Example) == 0 {
			t.Error("buy has no example")
		}
		// gw is no StockBroker: it supports none of the A-share set.
		if !slices.Equal(buy.Terminals, []string{"main", "backup", "paper"}) {
			t.Errorf("buy terminals %v", buy.Terminals)
		}
	}
}

// fakeHistory answers History from a slice, recording the filter.
type fakeHistory struct {
	ops    []queue.Operation
	filter queue.HistoryFilter
	err    error
}

func (f *fakeHistory) History(_ context.Context, hf queue.HistoryFilter) ([]queue.Operation, int, error) {
	f.filter = hf
	return f.ops, len(f.ops) + 10, f.err
}

type codedErr struct{ code string }

func (e codedErr) Error() string     { return "history filter limit: too big" }
func (e codedErr) ErrorCode() string { return e.code }

func TestHistory(t *testing.T) {
	submitted := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	fh := &fakeHistory{ops: []queue.Operation{{ID: "a", Name: "buy", Terminal: "main", Status: queue.StatusSuccess,
		Params: json.RawMessage(`{"stock_code":"600000"}`), Result: json.RawMessage(`{"x":1}`), SubmittedAt: submitted,
		StartedAt: submitted, FinishedAt: submitted.Add(time.Second)}}}
	h := newHarness(t, withHistory(fh))

	e := expect(t, h.get("/api/v1/history?status=success&name=buy&terminal=main&since=2026-01-05T00:00:00+08:00&until=2026-01-06&limit=5&offset=2"), 200, "")
	v := dataAs[HistoryView](t, e)
	if v.Total != 11 || v.Limit != 5 || v.Offset != 2 || len(v.Operations) != 1 {
		t.Fatalf("%s", e.Data)
	}
	item := v.Operations[0]
	if item.OperationID != "a" || string(item.Params) != `{"stock_code":"600000"}` || item.Result == nil || !item.Result.Success {
		t.Errorf("%+v", item)
	}
	f := fh.filter
	wantSince := time.Date(2026, 1, 5, 0, 0, 0, 0, time.FixedZone("", 8*3600))
	if f.Status != queue.StatusSuccess || f.Name != "buy" || f.Terminal != "main" || !f.Since.Equal(wantSince) ||
		f.Until.IsZero() || f.Limit != 5 || f.Offset != 2 {
		t.Errorf("filter %+v", f)
	}

	for _, tc := range []struct {
		query string
		field string
	}{
		{"status=done", "status"},
		{"since=yesterday", "since"},
		{"until=2026-13-01", "until"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"offset=-1", "offset"},
		{"since=2026-01-06&until=2026-01-05", "until"},
	} {
		e := expect(t, h.get("/api/v1/history?"+tc.query), 422, codeInvalidParams)
		if got := e.fields(t); !slices.Equal(got, []string{tc.field}) {
			t.Errorf("%s names %v, want %s", tc.query, got, tc.field)
		}
	}

	fh.err = codedErr{code: "invalid_params"}
	expect(t, h.get("/api/v1/history"), 422, codeInvalidParams)
	fh.err = errBoom
	expect(t, h.get("/api/v1/history"), 500, codeInternal)

	noJournal := newHarness(t)
	expect(t, noJournal.get("/api/v1/history"), 503, codeUnavailable)
}

// TestResultCarriesItsTimestamp: data.result is EasyTHS's {success, data,
// message, timestamp}, the timestamp being when the operation finished,
// in the submit's ?wait= answer and in /status alike.
func TestResultCarriesItsTimestamp(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"reverse_repo_query", "condition_order_query", "funds_query"} {
		e := expect(t, h.post("/api/v1/operations/"+name+"?wait=10", ""), 200, "")
		var waited struct {
			ID     string                     `json:"operation_id"`
			Result map[string]json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(e.Data, &waited); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"success", "data", "message", "timestamp"} {
			if _, ok := waited.Result[k]; !ok {
				t.Errorf("%s: data.result lacks %q: %s", name, k, e.Data)
			}
		}
		st := dataAs[StatusView](t, expect(t, h.get("/api/v1/operations/"+waited.ID+"/status"), 200, ""))
		if st.Result == nil || st.Result.Timestamp == nil || st.FinishedAt == nil || *st.Result.Timestamp != *st.FinishedAt {
			t.Errorf("%s: status result %+v, finished_at %v", name, st.Result, st.FinishedAt)
		}
		if string(waited.Result["timestamp"]) != `"`+*st.FinishedAt+`"` {
			t.Errorf("%s: wait's result.timestamp %s, finished_at %s", name, waited.Result["timestamp"], *st.FinishedAt)
		}
	}
}
