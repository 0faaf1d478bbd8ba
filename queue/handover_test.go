package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// handoverStore is a Store with Handover and WriteHolder, over another
// Store: FinishAndStart is its Finish and MarkRunning under one lock (what
// one transaction is to SQLite), and it records each journal call and
// whether the outcome's ctx carried the execution's hold.
type handoverStore struct {
	Store
	mu           sync.Mutex
	calls        []string // "append op1", "running op1", "finish op1", "handover op1 op2"
	failHandover bool
	unheld       []string // outcomes journaled without their execution's hold
}

type testHoldKey struct{}

func (s *handoverStore) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

func (s *handoverStore) journal() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *handoverStore) HoldWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, testHoldKey{}, true)
}

func (s *handoverStore) checkHold(ctx context.Context, id string) {
	if ctx.Value(testHoldKey{}) == nil {
		s.mu.Lock()
		s.unheld = append(s.unheld, id)
		s.mu.Unlock()
	}
}

func (s *handoverStore) Append(ctx context.Context, op Operation) error {
	s.note("append %s", op.Name)
	return s.Store.Append(ctx, op)
}

func (s *handoverStore) MarkRunning(ctx context.Context, id string, at time.Time) error {
	op, _ := s.Store.Get(ctx, id)
	s.note("running %s", op.Name)
	return s.Store.MarkRunning(ctx, id, at)
}

func (s *handoverStore) Finish(ctx context.Context, op Operation) error {
	if op.Status != StatusCancelled {
		s.checkHold(ctx, op.ID)
	}
	s.note("finish %s", op.Name)
	return s.Store.Finish(ctx, op)
}

func (s *handoverStore) FinishAndStart(ctx context.Context, op Operation, next string, at time.Time) error {
	s.checkHold(ctx, op.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	nextOp, _ := s.Store.Get(ctx, next)
	if s.failHandover {
		s.calls = append(s.calls, fmt.Sprintf("failed handover %s %s", op.Name, nextOp.Name))
		return errDisk
	}
	if nextOp.Status != StatusQueued {
		return fmt.Errorf("handover onto %s, which is %s", next, nextOp.Status)
	}
	if err := s.Store.Finish(ctx, op); err != nil {
		return err
	}
	s.calls = append(s.calls, fmt.Sprintf("handover %s %s", op.Name, nextOp.Name))
	return s.Store.MarkRunning(ctx, next, at)
}

// checkedLane is an executor that fails the test when the journal does not
// say its operation (one with a side effect) is running when it is called.
func checkedLane(t *testing.T, store Store, s *script) Executor {
	return func(ctx context.Context, op Operation) (Result, error) {
		if got, err := store.Get(ctx, op.ID); op.SideEffect && (err != nil || got.Status != StatusRunning) {
			t.Errorf("%s called while the journal says %s (%v)", op.Name, got.Status, err)
		}
		return s.execute(ctx, op)
	}
}

func newHandoverQueue(t *testing.T, store *handoverStore) (*Queue, *script, *recorder) {
	t.Helper()
	s := newScript()
	obs := &recorder{changed: make(chan struct{}, 1)}
	q, err := New(Config{}, []Lane{{Terminal: "sim", Execute: checkedLane(t, store, s)}}, Deps{Clock: RealClock{}, Store: store, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.releaseAll()
		shutdown(t, q)
	})
	return q, s, obs
}

func waitFinal(t *testing.T, q *Queue, id string) Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op, err := q.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	return op
}

// TestABacklogHandsOverInOneWriteEach: a paused lane with three orders and
// a query queued, resumed: the first order is journaled running on its
// own, each later order's start shares the previous one's end, and the
// query (no running record) is not handed over to. Every driver call finds
// its operation journaled running, and every outcome is journaled with its
// execution's hold.
func TestABacklogHandsOverInOneWriteEach(t *testing.T) {
	store := &handoverStore{Store: queuetest.NewMemStore()}
	q, _, _ := newHandoverQueue(t, store)
	ctx := context.Background()
	if err := q.Pause(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	q.Start()
	var ids []string
	for _, name := range []string{"o1", "o2", "o3", "query"} {
		s, err := q.Submit(ctx, Request{Name: name, SideEffect: name != "query"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.Operation.ID)
	}
	if err := q.Resume(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if op := waitFinal(t, q, id); op.Status != StatusSuccess {
			t.Errorf("%s ended %s %s", op.Name, op.Status, op.Error)
		}
	}
	want := []string{"append o1", "append o2", "append o3", "append query",
		"running o1", "handover o1 o2", "handover o2 o3", "finish o3", "finish query"}
	if got := store.journal(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal calls\n got %q\nwant %q", got, want)
	}
	if len(store.unheld) > 0 {
		t.Errorf("outcomes journaled without their hold: %v", store.unheld)
	}
}

// TestAFailedHandoverSettlesAloneAndTheNextRunsLater: when the journal
// cannot take the handover, nothing of it is recorded: the operation's end
// is journaled alone, the next one goes back to the queue and starts with
// its own running record, and the lane is not blocked.
func TestAFailedHandoverSettlesAloneAndTheNextRunsLater(t *testing.T) {
	store := &handoverStore{Store: queuetest.NewMemStore(), failHandover: true}
	q, _, _ := newHandoverQueue(t, store)
	ctx := context.Background()
	if err := q.Pause(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	q.Start()
	a, _ := q.Submit(ctx, Request{Name: "o1", SideEffect: true})
	b, _ := q.Submit(ctx, Request{Name: "o2", SideEffect: true})
	if err := q.Resume(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.Operation.ID, b.Operation.ID} {
		if op := waitFinal(t, q, id); op.Status != StatusSuccess {
			t.Errorf("%s ended %s %s", op.Name, op.Status, op.Error)
		}
	}
	want := []string{"append o1", "append o2", "running o1", "failed handover o1 o2", "finish o1", "running o2", "finish o2"}
	if got := store.journal(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal calls\n got %q\nwant %q", got, want)
	}
	for _, l := range q.Stats().Lanes {
		if l.Blocked != "" {
			t.Errorf("lane blocked: %s", l.Blocked)
		}
	}
}

// TestAnExclusiveActionIsNotKeptOutByABacklog: a reconnect waiting for the
// terminal gets it between two operations of a backlog; the lane does not
// hand over past it.
func TestAnExclusiveActionIsNotKeptOutByABacklog(t *testing.T) {
	store := &handoverStore{Store: queuetest.NewMemStore()}
	q, s, _ := newHandoverQueue(t, store)
	ctx := context.Background()
	q.Start()
	first, _ := q.Submit(ctx, Request{Name: "o1", SideEffect: true, Params: params(scriptParams{Block: true})})
	<-s.started // o1 runs, blocked
	second, _ := q.Submit(ctx, Request{Name: "o2", SideEffect: true})

	done := make(chan error, 1)
	go func() {
		done <- q.Exclusive(ctx, "sim", func(context.Context) error { return nil })
	}()
	for { // the action is waiting for the terminal
		if q.ExclusiveWaiting("sim") > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(s.gate("o1"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFinal(t, q, first.Operation.ID)
	waitFinal(t, q, second.Operation.ID)
	for _, c := range store.journal() {
		if c == "handover o1 o2" {
			t.Error("the lane handed over to o2 while an Exclusive action waited")
		}
	}
}
