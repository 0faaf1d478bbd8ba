package queue_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
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

// TestShutdownSaysWhatTheJournalHolds: a shutdown that gives up on a
// stalled driver reports what the journal holds for its operation, not
// what it might have held (defects #21: it said "journaled as running,
// will be marked interrupted" of an order journaled as outcome_unknown).
func TestShutdownSaysWhatTheJournalHolds(t *testing.T) {
	tests := []struct {
		name       string
		failFinish bool
		says       string
		status     Status
	}{
		{"outcome journaled", false, "is journaled as failed (outcome_unknown) and its driver has not returned", StatusFailed},
		{"outcome not journaled", true, "could not record it: it still says running there, and the next start marks it failed (interrupted)", StatusRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &failingStore{Store: queuetest.NewMemStore(), failFinish: tt.failFinish}
			s := newScript()
			q, err := New(Config{}, []Lane{{Terminal: "sim", Execute: s.execute}}, Deps{Clock: newFakeClock(), Store: fs})
			if err != nil {
				t.Fatal(err)
			}
			q.Start()
			defer q.WaitWorkers()
			defer close(s.gate("buy")) // the stalled driver returns at the end
			sub, err := q.Submit(context.Background(), Request{Name: "buy", Params: params(scriptParams{Block: true}), SideEffect: true})
			if err != nil {
				t.Fatal(err)
			}
			<-s.started
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = q.Shutdown(ctx)
			if err == nil || !strings.Contains(err.Error(), sub.Operation.ID) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Shutdown = %v\nwant it to say %q", err, tt.says)
			}
			if got, _ := fs.Store.Get(context.Background(), sub.Operation.ID); got.Status != tt.status {
				t.Errorf("the journal holds %s", got.Status)
			}
		})
	}
}

// TestStuckIsLoggedOnlyWhenTheDriverStaysOut: a driver that returns just
// after its deadline is not logged as having made its lane stuck (defects
// #21: "lane is stuck" in the same millisecond the driver returned); one
// still out after stuckGrace is.
func TestStuckIsLoggedOnlyWhenTheDriverStaysOut(t *testing.T) {
	for _, staysOut := range []bool{false, true} {
		t.Run(map[bool]string{false: "returns at once", true: "stays out"}[staysOut], func(t *testing.T) {
			logs := &lockedLog{}
			clock := newFakeClock()
			s := newScript()
			obs := &recorder{changed: make(chan struct{}, 1)}
			q, err := New(Config{DefaultTimeout: 10 * time.Second}, []Lane{{Terminal: "sim", Execute: s.execute}},
				Deps{Clock: clock, Store: queuetest.NewMemStore(), Observer: obs, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			h := &harness{t: t, q: q, clock: clock, obs: obs, script: map[string]*script{"sim": s}}
			q.Start()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				q.Shutdown(ctx)
			}()
			sub := h.submit(Request{Name: "slow", Params: params(scriptParams{Block: true}), SideEffect: true})
			h.started("sim")
			clock.Advance(10 * time.Second)
			h.wait(sub.Operation.ID)
			h.waitLaneState("sim", LaneStuck)
			if staysOut {
				clock.Advance(StuckGrace)
				deadline := time.Now().Add(10 * time.Second)
				for !strings.Contains(logs.String(), "lane is stuck") {
					if time.Now().After(deadline) {
						t.Fatalf("a driver out past the grace was not logged as stuck:\n%s", logs.String())
					}
					time.Sleep(time.Millisecond)
				}
			}
			close(s.gate("slow"))
			h.waitLaneState("sim", LaneIdle)
			if !staysOut && strings.Contains(logs.String(), "lane is stuck") {
				t.Errorf("logged stuck although the driver returned within the grace:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "after the") {
				t.Errorf("the late return is not logged:\n%s", logs.String())
			}
		})
	}
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
