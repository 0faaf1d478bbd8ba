package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	. "github.com/brokerd/brokerd/queue"
)

// Amend changes a finished operation's result and message in memory and in
// the journal, tells the observers, and refuses a queued one.
func TestAmend(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	h.q.Start()
	sub := h.submit(Request{Name: "place_order", Params: params(map[string]any{"n": 1}), SideEffect: true})
	op := h.wait(sub.Operation.ID)
	result := json.RawMessage(`{"settled_at":"x"}`)
	if err := h.q.Amend(ctx, op.ID, result, "settled"); err != nil {
		t.Fatal(err)
	}
	got, _ := h.q.Get(ctx, op.ID)
	if got.Status != op.Status || string(got.Result) != string(result) || got.Message != "settled" {
		t.Errorf("in memory: %+v", got)
	}
	stored, _ := h.store.Get(ctx, op.ID)
	if string(stored.Result) != string(result) || stored.Message != "settled" {
		t.Errorf("journal: %+v", stored)
	}
	if err := h.q.Amend(ctx, "nope", result, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}

	if err := h.q.Pause(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	queued := h.submit(Request{Name: "place_order", Params: params(map[string]any{"n": 2}), SideEffect: true})
	if err := h.q.Amend(ctx, queued.Operation.ID, result, "x"); !errors.Is(err, ErrNotFinished) {
		t.Errorf("queued: %v", err)
	}
}
