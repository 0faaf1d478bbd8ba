package queue

import (
	"context"
	"testing"
)

// TestBlockHoldsEveryLane: a journal found damaged blocks every lane at
// once, saying why; nothing queued starts until a lane is resumed.
func TestBlockHoldsEveryLane(t *testing.T) {
	h := newHarness(t, Config{}, "a", "b")
	h.q.Start()
	h.q.Block("journal is damaged: malformed")
	for _, name := range []string{"a", "b"} {
		h.waitLaneState(name, LaneBlocked)
	}
	for _, l := range h.q.Stats().Lanes {
		if l.Blocked != "journal is damaged: malformed" || !l.Paused {
			t.Errorf("lane %s: %+v", l.Terminal, l)
		}
	}
	s := h.submit(Request{Name: "funds_query", Terminal: "a"})
	select {
	case op := <-h.script["a"].started:
		t.Fatalf("%s started on a blocked lane", op.ID)
	default:
	}
	if err := h.q.Resume(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if op := h.wait(s.Operation.ID); op.Status != StatusSuccess {
		t.Errorf("after resume: %s", op.Status)
	}
	h.waitLaneState("b", LaneBlocked)
}
