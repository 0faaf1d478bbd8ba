package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

func TestSubmitRejectsBadRequestsAndQueuesNothing(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		path   string
		body   string
		header map[string]string
		status int
		code   string
		fields []string // the fields an invalid_params answer must name
	}{
		{name: "not JSON", path: "/api/v1/operations/buy", body: `{"params":`, status: 400, code: codeBadRequest},
		{name: "not JSON at all", path: "/api/v1/operations/buy", body: `stock_code=600000`, status: 400, code: codeBadRequest},
		{name: "JSON but not an object", path: "/api/v1/operations/buy", body: `[1,2]`, status: 422, code: codeInvalidParams, fields: []string{"body"}},
		{name: "unknown operation", path: "/api/v1/operations/teleport", body: buyBody, status: 404, code: codeUnknownOperation},
		{name: "empty body lacks the required params", path: "/api/v1/operations/buy", status: 422, code: codeInvalidParams,
			fields: []string{"params.stock_code", "params.price", "params.quantity"}},
		{name: "priority of the wrong type", path: "/api/v1/operations/funds_query", body: `{"priority":"high"}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority"}},
		{name: "priority out of range", path: "/api/v1/operations/funds_query", body: `{"priority":11}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority"}},
		{name: "negative priority", path: "/api/v1/operations/funds_query", body: `{"priority":-1}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority"}},
		{name: "fractional priority", path: "/api/v1/operations/funds_query", body: `{"priority":2.5}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority"}},
		{name: "quantity not a number", path: "/api/v1/operations/buy",
			body:   `{"params":{"stock_code":"600000","price":10.5,"quantity":"abc"}}`,
			status: 422, code: codeInvalidParams, fields: []string{"params.quantity"}},
		{name: "params not an object", path: "/api/v1/operations/funds_query", body: `{"params":[1]}`,
			status: 422, code: codeInvalidParams, fields: []string{"params"}},
		{name: "unknown top-level field", path: "/api/v1/operations/funds_query", body: `{"priorty":5}`,
			status: 422, code: codeInvalidParams, fields: []string{"priorty"}},
		{name: "unknown terminal", path: "/api/v1/operations/funds_query", body: `{"terminal":"nope"}`,
			status: 422, code: codeInvalidParams, fields: []string{"terminal"}},
		{name: "terminal of the wrong type", path: "/api/v1/operations/funds_query", body: `{"terminal":3}`,
			status: 422, code: codeInvalidParams, fields: []string{"terminal"}},
		{name: "operation unsupported by the terminal's kind", path: "/api/v1/operations/funds_query", body: `{"terminal":"gw"}`,
			status: 422, code: codeUnsupported},
		{name: "bad timeout", path: "/api/v1/operations/funds_query", body: `{"timeout":-1}`,
			status: 422, code: codeInvalidParams, fields: []string{"timeout"}},
		{name: "timeout as a string", path: "/api/v1/operations/funds_query", body: `{"timeout":"30s"}`,
			status: 422, code: codeInvalidParams, fields: []string{"timeout"}},
		{name: "zero expire_after", path: "/api/v1/operations/funds_query", body: `{"expire_after":0}`,
			status: 422, code: codeInvalidParams, fields: []string{"expire_after"}},
		{name: "bad wait", path: "/api/v1/operations/funds_query?wait=soon", status: 422, code: codeInvalidParams, fields: []string{"wait"}},
		{name: "negative wait", path: "/api/v1/operations/funds_query?wait=-1", status: 422, code: codeInvalidParams, fields: []string{"wait"}},
		{name: "client_id of the wrong type", path: "/api/v1/operations/funds_query", body: `{"client_id":7}`,
			status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		{name: "key and client_id disagree", path: "/api/v1/operations/funds_query", body: `{"client_id":"a"}`,
			header: map[string]string{"Idempotency-Key": "b"}, status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		// One rule for both keys: white space around one is refused, so
		// " ws-1", "ws-1" and "ws-1 " cannot become three orders.
		{name: "client_id with a leading space", path: "/api/v1/operations/funds_query", body: `{"client_id":" ws-1"}`,
			status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		{name: "client_id with a trailing space", path: "/api/v1/operations/funds_query", body: `{"client_id":"ws-1 "}`,
			status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		{name: "client_id with a trailing tab", path: "/api/v1/operations/funds_query", body: `{"client_id":"ws-1\t"}`,
			status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		{name: "header key with a trailing no-break space", path: "/api/v1/operations/funds_query",
			header: map[string]string{"Idempotency-Key": "ws-1\u00a0"}, status: 422, code: codeInvalidParams, fields: []string{"Idempotency-Key"}},
		{name: "header key with a leading space", path: "/api/v1/operations/funds_query",
			header: map[string]string{"Idempotency-Key": " ws-1"}, status: 422, code: codeInvalidParams, fields: []string{"Idempotency-Key"}},
		{name: "key too long", path: "/api/v1/operations/funds_query", header: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)},
			status: 422, code: codeInvalidParams, fields: []string{"Idempotency-Key"}},
		// A key given twice at the top level: a proxy reading the first
		// value would see another request than the last one brokerd runs.
		{name: "params twice", path: "/api/v1/operations/buy",
			body:   `{"params":{"stock_code":"600000","price":10.5,"quantity":100},"params":{"stock_code":"600000","price":10.5,"quantity":9000}}`,
			status: 422, code: codeInvalidParams, fields: []string{"params"}},
		{name: "priority twice", path: "/api/v1/operations/funds_query", body: `{"priority":1,"priority":9}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority"}},
		{name: "client_id twice", path: "/api/v1/operations/funds_query", body: `{"client_id":"a","client_id":"b"}`,
			status: 422, code: codeInvalidParams, fields: []string{"client_id"}},
		{name: "a key twice, once escaped", path: "/api/v1/operations/funds_query", body: `{"terminal":"main","termin\u0061l":"backup"}`,
			status: 422, code: codeInvalidParams, fields: []string{"terminal"}},
		{name: "a key three times and another twice", path: "/api/v1/operations/funds_query",
			body:   `{"timeout":1,"priority":1,"timeout":2,"priority":2,"timeout":3}`,
			status: 422, code: codeInvalidParams, fields: []string{"priority", "timeout"}},
		{name: "every bad field named at once", path: "/api/v1/operations/buy",
			body:   `{"params":{"stock_code":"60000","price":10.5,"quantity":"150x"},"priority":"x","terminal":"nope","timeout":0}`,
			status: 422, code: codeInvalidParams,
			fields: []string{"priority", "timeout", "terminal", "params.stock_code", "params.quantity"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.submits()
			w := h.serve(request{method: http.MethodPost, path: tc.path, body: tc.body, header: tc.header})
			e := expect(t, w, tc.status, tc.code)
			if e.message() == "" {
				t.Errorf("no message: %s", w.Body.String())
			}
			if tc.fields != nil {
				got := e.fields(t)
				for _, f := range tc.fields {
					if !slices.Contains(got, f) {
						t.Errorf("answer names %v, not %q: %s", got, f, w.Body.String())
					}
					if !strings.Contains(e.message(), f) {
						t.Errorf("message %q does not name %q", e.message(), f)
					}
				}
				if len(got) != len(tc.fields) {
					t.Errorf("answer names %v, want exactly %v", got, tc.fields)
				}
			}
			if after := h.submits(); after != before {
				t.Errorf("an operation was queued: %d submits before, %d after", before, after)
			}
		})
	}
}

func TestSubmitQueuesAndAnswersEasyTHSShape(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, tc := range []struct {
		body     string
		position int
	}{
		{`{"params":{"stock_code":"600000","price":10.5,"quantity":100},"priority":1}`, 0},
		{buyBody, 0}, // priority 5 runs before the first
		{`{"params":{"stock_code":"600000","price":10.5,"quantity":100}}`, 2},
	} {
		w := h.post("/api/v1/operations/buy", tc.body)
		e := expect(t, w, http.StatusOK, "")
		var data map[string]json.RawMessage
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"operation_id", "status", "queue_position", "terminal", "duplicate"} {
			if _, ok := data[k]; !ok {
				t.Errorf("submit %d: data lacks %q: %s", i, k, e.Data)
			}
		}
		v := dataAs[SubmitView](t, e)
		if v.Status != "queued" || v.Terminal != "main" || v.Duplicate || v.QueuePosition == nil || *v.QueuePosition != tc.position {
			t.Errorf("submit %d: %+v (position %v), want queued on main at %d", i, v, v.QueuePosition, tc.position)
		}
		ids = append(ids, v.OperationID)
	}
	op, err := h.q.Get(t.Context(), ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if op.Priority != 5 || !op.SideEffect || op.Name != "buy" {
		t.Errorf("queued %+v: want priority 5, a side effect, buy", op)
	}
	// The params are the canonical, validated ones.
	if string(op.Params) != `{"price":10.5,"quantity":100,"stock_code":"600000"}` {
		t.Errorf("params %s", op.Params)
	}
}

func TestSubmitEmptyBodyMeansNoParams(t *testing.T) {
	h := newHarness(t)
	id := h.submitted("/api/v1/operations/funds_query", "")
	op := h.waitFinal(id)
	if op.Status != queue.StatusSuccess || op.Terminal != "main" {
		t.Fatalf("%+v", op)
	}
}

func TestSubmitOptionsReachTheQueue(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), "backup"); err != nil {
		t.Fatal(err)
	}
	id := h.submitted("/api/v1/operations/holding_query",
		`{"params":{"return_type":"json"},"terminal":"backup","timeout":1.5,"expire_after":60,"priority":null}`)
	op, err := h.q.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if op.Terminal != "backup" || op.Timeout.Seconds() != 1.5 || op.ExpireAt.Sub(op.SubmittedAt).Seconds() != 60 || op.Priority != 0 || op.SideEffect {
		t.Errorf("%+v", op)
	}
}

func TestSubmitUnsupportedByTheDriver(t *testing.T) {
	h := newHarness(t)
	h.backup.unsupported = map[string]bool{automation.OpReverseRepoBuy: true}
	before := h.submits()
	w := h.post("/api/v1/operations/reverse_repo_buy", `{"params":{"market":"上海","time_range":"1天期","amount":10000},"terminal":"backup"}`)
	e := expect(t, w, 422, codeUnsupported)
	if !strings.Contains(e.message(), "backup") {
		t.Errorf("message %q does not name the terminal", e.message())
	}
	if h.submits() != before {
		t.Error("queued")
	}
}

func TestSubmitTooLarge(t *testing.T) {
	h := newHarness(t)
	big := `{"params":{"stock_code":"` + strings.Repeat("6", 1<<20) + `"}}`
	w := h.post("/api/v1/operations/buy", big)
	expect(t, w, http.StatusRequestEntityTooLarge, codeTooLarge)
	if h.submits() != 0 {
		t.Error("queued")
	}
}

func TestSubmitQueueFull(t *testing.T) {
	h := newHarness(t) // MaxSize 5
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.submitted("/api/v1/operations/funds_query", "")
	}
	w := h.post("/api/v1/operations/funds_query", "")
	expect(t, w, http.StatusServiceUnavailable, codeQueueFull)
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestSubmitAfterQueueShutdown(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := h.post("/api/v1/operations/funds_query", "")
	expect(t, w, http.StatusServiceUnavailable, codeUnavailable)
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestIdempotency(t *testing.T) {
	h := newHarness(t)
	if err := h.q.Pause(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	first := expect(t, h.serve(request{method: "POST", path: "/api/v1/operations/buy", body: buyBody,
		header: map[string]string{"Idempotency-Key": "k1"}}), 200, "")
	id := dataAs[SubmitView](t, first).OperationID

	tests := []struct {
		name      string
		path      string
		body      string
		key       string
		status    int
		code      string
		duplicate bool
		sameID    bool
	}{
		{name: "same key and payload replays", path: "/api/v1/operations/buy", body: buyBody, key: "k1", status: 200, duplicate: true, sameID: true},
		{name: "client_id is the same key", path: "/api/v1/operations/buy",
			body: `{"params":{"stock_code":"600000","price":10.5,"quantity":100},"client_id":"k1"}`, status: 200, duplicate: true, sameID: true},
		{name: "same params written differently replay", path: "/api/v1/operations/buy",
			body: `{"params":{"quantity":100,"price":"10.50","stock_code":"600000"}}`, key: "k1", status: 200, duplicate: true, sameID: true},
		{name: "another payload conflicts", path: "/api/v1/operations/buy",
			body: `{"params":{"stock_code":"600000","price":10.6,"quantity":100}}`, key: "k1", status: 409, code: codeConflict},
		{name: "another operation conflicts", path: "/api/v1/operations/funds_query", key: "k1", status: 409, code: codeConflict},
		{name: "keys are per terminal", path: "/api/v1/operations/buy",
			body: `{"params":{"stock_code":"600000","price":10.5,"quantity":100},"terminal":"backup"}`, key: "k1", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.key != "" {
				hdr["Idempotency-Key"] = tc.key
			}
			before := h.submits()
			e := expect(t, h.serve(request{method: "POST", path: tc.path, body: tc.body, header: hdr}), tc.status, tc.code)
			if tc.code == codeConflict {
				var d map[string]any
				_ = json.Unmarshal(e.Data, &d)
				if d["operation_id"] != id {
					t.Errorf("conflict does not name the existing operation: %s", e.Data)
				}
				if h.submits() != before {
					t.Error("queued on conflict")
				}
				return
			}
			v := dataAs[SubmitView](t, e)
			if v.Duplicate != tc.duplicate || (v.OperationID == id) != tc.sameID {
				t.Errorf("%+v: want duplicate %v, same id %v", v, tc.duplicate, tc.sameID)
			}
			if tc.duplicate && h.submits() != before {
				t.Error("a replay queued a new operation")
			}
		})
	}
	if got := testCounter(t, h.metrics, "brokerd_idempotent_replays_total", map[string]string{"terminal": "main"}); got != 3 {
		t.Errorf("replays counted %v, want 3", got)
	}
}

func TestSubmitWait(t *testing.T) {
	h := newHarness(t)

	t.Run("finished within the wait", func(t *testing.T) {
		e := expect(t, h.post("/api/v1/operations/funds_query?wait=10", ""), 200, "")
		v := dataAs[SubmitWaitView](t, e)
		if v.Status != "success" || v.Result == nil || !v.Result.Success || v.QueuePosition != nil || v.OperationID == "" {
			t.Fatalf("%s", e.Data)
		}
		if e.message() != "done: funds_query" {
			t.Errorf("message %q", e.message())
		}
	})

	t.Run("failed within the wait", func(t *testing.T) {
		h.exec.respond(func(op queue.Operation) (queue.Result, error) {
			return queue.Result{}, automation.Rejected("insufficient funds")
		})
		defer h.exec.respond(nil)
		w := h.post("/api/v1/operations/buy?wait=10", buyBody)
		e := decode(t, w)
		if w.Code != 200 || e.Success || e.code() != "rejected" || e.message() != "insufficient funds" {
			t.Fatalf("%d %s", w.Code, w.Body.String())
		}
		v := dataAs[SubmitWaitView](t, e)
		if v.Status != "failed" || v.Result == nil || v.Result.Success || v.ErrorCode == nil || *v.ErrorCode != "rejected" {
			t.Fatalf("%s", e.Data)
		}
	})

	t.Run("not finished within the wait", func(t *testing.T) {
		if err := h.q.Pause(context.Background(), "main"); err != nil {
			t.Fatal(err)
		}
		defer h.q.Resume(context.Background(), "main")
		e := expect(t, h.post("/api/v1/operations/funds_query?wait=0.01", ""), 200, "")
		v := dataAs[SubmitWaitView](t, e)
		if v.Status != "queued" || v.Result != nil || v.QueuePosition == nil {
			t.Fatalf("%s", e.Data)
		}
		if !strings.Contains(e.message(), "/result") {
			t.Errorf("message %q does not say how to wait", e.message())
		}
	})
}

// Over real HTTP, an oversized body is answered 413, not dropped.
func TestSubmitTooLargeOverHTTP(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv.Handler())
	defer ts.Close()
	body := `{"params":{"stock_code":"` + strings.Repeat("6", 3<<20) + `"}}`
	resp, err := http.Post(ts.URL+"/api/v1/operations/buy", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("the connection was dropped instead of answered: %v", err)
	}
	defer resp.Body.Close()
	var e envelope
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || e.code() != codeTooLarge {
		t.Fatalf("%d %+v", resp.StatusCode, e)
	}
}
