package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/brokerd/brokerd/client"
	"github.com/brokerd/brokerd/internal/brokerdtest"
	"github.com/brokerd/brokerd/server"
)

func newClient(t *testing.T, b *brokerdtest.Brokerd, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(b.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var buy = map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}

func TestSubmitWaitAndReplay(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	c := newClient(t, b)
	ctx := testContext(t)

	sub, err := c.Submit(ctx, "buy", buy, client.SubmitOptions{Priority: 5, IdempotencyKey: "k-1", Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != client.StatusSuccess || sub.Result == nil || !sub.Result.Success || sub.Duplicate {
		t.Fatalf("submit with wait: %+v", sub)
	}
	again, err := c.Submit(ctx, "buy", buy, client.SubmitOptions{Priority: 5, IdempotencyKey: "k-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.OperationID != sub.OperationID {
		t.Fatalf("replay: %+v, want the duplicate of %s", again, sub.OperationID)
	}

	_, err = c.Submit(ctx, "buy", map[string]any{"stock_code": "600000", "price": 10.60, "quantity": 100},
		client.SubmitOptions{IdempotencyKey: "k-1"})
	if client.Code(err) != "conflict" {
		t.Fatalf("same key, other payload: %v, want conflict", err)
	}

	res, err := c.Wait(ctx, sub.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.ErrorCode != "" || len(res.Data) == 0 {
		t.Fatalf("result: %+v", res)
	}
	op, err := c.Status(ctx, sub.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	if op.Name != "buy" || op.Status != client.StatusSuccess || op.Priority != 5 || op.FinishedAt == nil || op.Result == nil {
		t.Fatalf("status: %+v", op)
	}
}

func TestSubmitRefused(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	c := newClient(t, b)
	ctx := testContext(t)

	tests := []struct {
		name, op   string
		params     any
		opts       client.SubmitOptions
		status     int
		code       string
		wantFields []string
	}{
		{"bad params", "buy", map[string]any{"stock_code": 600000, "price": 0, "quantity": 0}, client.SubmitOptions{},
			422, "invalid_params", []string{"params.price", "params.quantity", "params.stock_code"}},
		{"bad priority", "buy", buy, client.SubmitOptions{Priority: 11}, 422, "invalid_params", []string{"priority"}},
		{"unknown terminal", "buy", buy, client.SubmitOptions{Terminal: "nope"}, 422, "invalid_params", []string{"terminal"}},
		{"unknown operation", "fly", nil, client.SubmitOptions{}, 404, "unknown_operation", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Submit(ctx, tt.op, tt.params, tt.opts)
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *client.Error", err)
			}
			if e.Status != tt.status || e.Code != tt.code || e.Message == "" {
				t.Fatalf("got %d %s %q, want %d %s", e.Status, e.Code, e.Message, tt.status, tt.code)
			}
			var fields []string
			for _, f := range e.Fields() {
				fields = append(fields, f.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.wantFields) {
				t.Fatalf("fields %v, want %v", fields, tt.wantFields)
			}
		})
	}
}

func TestPauseCancelResume(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{Terminals: []string{"sim", "paper"}})
	c := newClient(t, b)
	ctx := testContext(t)

	paused, err := c.Pause(ctx, "paper")
	if err != nil || !slices.Equal(paused, []string{"paper"}) {
		t.Fatalf("pause: %v %v", paused, err)
	}
	sub, err := c.Submit(ctx, "sell", map[string]any{"stock_code": "600000", "price": 10.60, "quantity": 100},
		client.SubmitOptions{Terminal: "paper"})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != client.StatusQueued || sub.QueuePosition == nil || *sub.QueuePosition != 0 || sub.Terminal != "paper" {
		t.Fatalf("submitted: %+v", sub)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := st.Terminals["paper"]; !l.Paused || l.Queued != 1 || l.State != "paused" {
		t.Fatalf("paper lane: %+v", l)
	}
	if _, err := c.Result(ctx, sub.OperationID, 10*time.Millisecond); client.Code(err) != "timeout" {
		t.Fatalf("result of a held operation: %v, want timeout", err)
	}
	op, err := c.Cancel(ctx, sub.OperationID)
	if err != nil || op.Status != client.StatusCancelled {
		t.Fatalf("cancel: %+v %v", op, err)
	}
	if _, err := c.Cancel(ctx, sub.OperationID); client.Code(err) != "conflict" {
		t.Fatalf("second cancel: %v, want conflict", err)
	}
	if _, err := c.Status(ctx, "no-such-id"); client.Code(err) != "not_found" {
		t.Fatalf("status of an unknown id: %v", err)
	}
	res, err := c.Wait(ctx, sub.OperationID)
	if err != nil || res.Success || res.ErrorCode != "cancelled" {
		t.Fatalf("result of a cancelled operation: %+v %v", res, err)
	}
	if _, err := c.Resume(ctx, ""); err != nil {
		t.Fatal(err)
	}

	h, err := c.History(ctx, client.HistoryFilter{Name: "sell", Status: client.StatusCancelled, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if h.Total != 1 || len(h.Operations) != 1 || h.Operations[0].ID != sub.OperationID || len(h.Operations[0].Params) == 0 {
		t.Fatalf("history: %+v", h)
	}
	if _, err := c.History(ctx, client.HistoryFilter{Status: "lost"}); client.Code(err) != "invalid_params" {
		t.Fatalf("bad history filter: %v", err)
	}
}

func TestQueries(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	c := newClient(t, b)
	ctx := testContext(t)

	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(ctx)
	if err != nil || !h.Healthy() || h.Components.Terminals["sim"] != "ready" {
		t.Fatalf("health: %+v %v", h, err)
	}
	ops, err := c.Operations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := ops.Operations["buy"]
	if !ok || !info.SideEffect || !info.Parameters["stock_code"].Required || !slices.Contains(info.Terminals, "sim") {
		t.Fatalf("buy in the listing: %+v", info)
	}
	if !slices.Contains(ops.Names, "holding_query") {
		t.Fatalf("names: %v", ops.Names)
	}
	sub, err := c.Submit(ctx, "funds_query", nil, client.SubmitOptions{Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if sub.Result == nil || json.Unmarshal(sub.Result.Data, &data) != nil || len(data) == 0 {
		t.Fatalf("funds_query: %+v", sub)
	}
}

func TestEvents(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	c := newClient(t, b)
	ctx := testContext(t)

	streamCtx, stop := context.WithCancel(ctx)
	events, err := c.Events(streamCtx, client.EventFilter{Operation: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	// The subscription is registered before the first byte is written,
	// so a submit from here on is seen.
	sub, err := c.Submit(ctx, "buy", buy, client.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for e := range events {
		if e.Type != "operation" || e.ID == "" {
			t.Fatalf("event %+v", e)
		}
		var op client.Operation
		if err := json.Unmarshal(e.Data, &op); err != nil || op.ID != sub.OperationID {
			t.Fatalf("event data %s: %v", e.Data, err)
		}
		seen = append(seen, op.Status)
		if client.Final(op.Status) {
			break
		}
	}
	if !slices.Equal(seen, []string{"queued", "running", "success"}) {
		t.Fatalf("statuses %v", seen)
	}
	stop()
	for range events { // closed once the context is done
	}

	if _, err := c.Events(ctx, client.EventFilter{Terminal: "nope"}); client.Code(err) != "invalid_params" {
		t.Fatalf("events of an unknown terminal: %v", err)
	}
}

func TestAuth(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{Keys: []server.APIKey{
		{Name: "ops", Key: "ops-key-0123456789abcdef"},
		{Name: "viewer", Key: "viewer-key-0123456789abcdef", Scopes: []server.Scope{server.ScopeRead}},
	}})
	ctx := testContext(t)

	anon := newClient(t, b)
	if _, err := anon.Stats(ctx); client.Code(err) != "unauthorized" {
		t.Fatalf("no key: %v", err)
	}
	viewer := newClient(t, b, client.WithAPIKey("viewer-key-0123456789abcdef"))
	if _, err := viewer.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	var e *client.Error
	if _, err := viewer.Submit(ctx, "buy", buy, client.SubmitOptions{}); !errors.As(err, &e) || e.Status != http.StatusForbidden {
		t.Fatalf("read key submits: %v", err)
	}
	if _, err := viewer.Events(ctx, client.EventFilter{}); err != nil {
		t.Fatalf("read key follows events: %v", err)
	}
	ops := newClient(t, b, client.WithAPIKey("ops-key-0123456789abcdef"))
	if _, err := ops.Submit(ctx, "buy", buy, client.SubmitOptions{Wait: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := client.New("http://"+addr, client.WithRetries(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if _, err := c.Stats(ctx); !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("stats: %v, want ErrUnreachable", err)
	}
	if _, err := c.Events(ctx, client.EventFilter{}); !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("events: %v, want ErrUnreachable", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:7648", "ftp://host", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
