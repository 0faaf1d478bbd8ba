package queue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// TestAnOrderOnAnIdleLaneIsJournaledRunningWithItsSubmit: one durable write
// before the driver is called instead of two. The driver finds it
// journaled running; no MarkRunning follows; observers still see queued,
// then running, then the outcome. On a busy lane the next order is queued
// as before.
func TestAnOrderOnAnIdleLaneIsJournaledRunningWithItsSubmit(t *testing.T) {
	store := &handoverStore{Store: queuetest.NewMemStore()}
	q, s, obs := newHandoverQueue(t, store)
	q.Start()
	ctx := context.Background()
	first, err := q.Submit(ctx, Request{Name: "o1", SideEffect: true, Params: params(scriptParams{Block: true})})
	if err != nil {
		t.Fatal(err)
	}
	// The answer is the contract's (queued, first in line); the journal
	// already says running, so that a crash never runs it again.
	if first.Operation.Status != StatusQueued || first.Position != 0 {
		t.Errorf("submit to an idle lane answered %s (position %d), want queued at 0", first.Operation.Status, first.Position)
	}
	if got, _ := store.Get(ctx, first.Operation.ID); got.Status != StatusRunning || got.StartedAt.IsZero() {
		t.Errorf("journal says %s (started %v) at the acknowledgement, want running", got.Status, got.StartedAt)
	}
	<-s.started
	second, err := q.Submit(ctx, Request{Name: "o2", SideEffect: true})
	if err != nil {
		t.Fatal(err)
	}
	if second.Operation.Status != StatusQueued {
		t.Errorf("submit to a busy lane answered %s, want queued", second.Operation.Status)
	}
	close(s.gate("o1"))
	waitFinal(t, q, first.Operation.ID)
	waitFinal(t, q, second.Operation.ID)
	want := []string{"append o1", "append o2", "handover o1 o2", "finish o2"}
	if got := obs.statuses(first.Operation.ID); fmt.Sprint(got) != "[queued running success]" {
		t.Errorf("observed %v", got)
	}
	if got := store.journal(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal calls\n got %q\nwant %q", got, want)
	}
}

// TestWhatDoesNotStartAtOnce: a query (no running record to save), an
// order on a paused lane, and one scheduled for later are queued.
func TestWhatDoesNotStartAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		req   Request
		pause bool
	}{
		{"a query", Request{Name: "funds_query"}, false},
		{"an order on a paused lane", Request{Name: "buy", SideEffect: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.q.Start()
			if tt.pause {
				if err := h.q.Pause(context.Background(), "sim"); err != nil {
					t.Fatal(err)
				}
			}
			if s := h.submit(tt.req); s.Operation.Status != StatusQueued {
				t.Errorf("answered %s, want queued", s.Operation.Status)
			}
		})
	}
	t.Run("one scheduled for later", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.q.Start()
		s := h.submit(Request{Name: "buy", SideEffect: true, NotBefore: h.clock.Now().Add(3600e9)})
		if s.Operation.Status != StatusQueued {
			t.Errorf("answered %s, want queued", s.Operation.Status)
		}
	})
}

// TestAFailedSubmitFreesTheIdleLane: the journal refuses the submit of an
// order that would have started at once: the submit fails, nothing runs,
// and the lane takes the next one.
func TestAFailedSubmitFreesTheIdleLane(t *testing.T) {
	fs := &failingStore{Store: queuetest.NewMemStore(), failAppend: true}
	h := newHarnessWithStore(t, Config{}, fs)
	h.q.Start()
	if _, err := h.q.Submit(context.Background(), Request{Name: "lost", SideEffect: true}); !errors.Is(err, ErrJournal) {
		t.Fatalf("submit: %v, want ErrJournal", err)
	}
	if st := h.q.Stats().Lanes[0]; st.State != LaneIdle || st.Running != 0 {
		t.Errorf("lane after the failed submit: %+v", st)
	}
	fs.failAppend = false
	op := h.wait(h.submit(Request{Name: "next", SideEffect: true}).Operation.ID)
	if op.Status != StatusSuccess {
		t.Errorf("next: %s %s", op.Status, op.Error)
	}
	if calls := h.script["sim"].callOrder(); fmt.Sprint(calls) != "[next]" {
		t.Errorf("calls %v", calls)
	}
}

// TestShutdownRunsAnOrderItsSubmitStarted: acknowledged as running, it is
// run (not left to be found interrupted at the next start), and the lane
// stops after it.
func TestShutdownRunsAnOrderItsSubmitStarted(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	op := h.submit(Request{Name: "buy", SideEffect: true}).Operation
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	if err := h.q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.store.Get(context.Background(), op.ID); got.Status != StatusSuccess {
		t.Errorf("after shutdown the journal says %s, want success", got.Status)
	}
}
