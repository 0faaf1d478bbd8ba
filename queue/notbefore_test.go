package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

func TestNotBeforeHoldsAnOperationWithoutBlockingTheOthers(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	at := h.clock.Now().Add(time.Hour)
	later := h.submit(Request{Name: "later", Priority: 10, NotBefore: at})
	if later.Position != -1 || !later.Operation.NotBefore.Equal(at) {
		t.Fatalf("held operation: position %d, not_before %v; want -1, %v", later.Position, later.Operation.NotBefore, at)
	}
	if st := h.q.Stats().Lanes[0]; st.Queued != 1 || st.Scheduled != 1 {
		t.Fatalf("stats %+v: want 1 queued, 1 of them scheduled", st)
	}
	now := h.submit(Request{Name: "now"}).Operation
	if op := h.started("sim"); op.ID != now.ID {
		t.Fatalf("started %s first; want the one without not_before (the scheduled one is priority 10 but not due)", op.Name)
	}
	h.wait(now.ID)
	h.clock.Advance(59 * time.Minute)
	select {
	case op := <-h.script["sim"].started:
		t.Fatalf("%s started a minute before its not_before", op.Name)
	default:
	}
	h.clock.Advance(time.Minute)
	if op := h.started("sim"); op.ID != later.Operation.ID {
		t.Fatalf("started %s; want the scheduled one at its time", op.Name)
	}
	if op := h.wait(later.Operation.ID); op.Status != StatusSuccess {
		t.Fatalf("scheduled op ended %s", op.Status)
	}
}

func TestNotBeforeInThePastRunsAtOnce(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	sub := h.submit(Request{Name: "past", NotBefore: h.clock.Now().Add(-time.Minute)})
	if sub.Position != 0 || !sub.Operation.NotBefore.IsZero() {
		t.Fatalf("position %d, not_before %v: a past not_before is no hold", sub.Position, sub.Operation.NotBefore)
	}
	h.wait(sub.Operation.ID)
}

func TestHeldOperationCancelsAndExpires(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	a := h.submit(Request{Name: "a", NotBefore: h.clock.Now().Add(time.Hour)}).Operation
	b := h.submit(Request{Name: "b", NotBefore: h.clock.Now().Add(time.Hour), ExpireAfter: time.Minute}).Operation
	if op, err := h.q.Cancel(context.Background(), a.ID); err != nil || op.Status != StatusCancelled {
		t.Fatalf("cancel held: %v %v", op.Status, err)
	}
	h.clock.Advance(time.Minute)
	if op := h.wait(b.ID); op.ErrorCode != CodeExpired {
		t.Fatalf("held op past expire_after: %s %s", op.Status, op.ErrorCode)
	}
	h.clock.Advance(time.Hour)
	select {
	case op := <-h.script["sim"].started:
		t.Fatalf("%s ran after it was cancelled", op.Name)
	default:
	}
	if st := h.q.Stats().Lanes[0]; st.Queued != 0 || st.Scheduled != 0 {
		t.Fatalf("stats %+v after cancel and expiry", st)
	}
}

func TestNotBeforeSurvivesRecovery(t *testing.T) {
	store := queuetest.NewMemStore()
	h := newHarnessWithStore(t, Config{ResumeMaxAge: time.Minute}, store)
	op := h.submit(Request{Name: "repo", NotBefore: h.clock.Now().Add(2 * time.Hour)}).Operation

	h2 := newHarnessWithStore(t, Config{ResumeMaxAge: time.Minute}, store)
	h2.clock.Advance(time.Hour) // restarted an hour later: older than resume_max_age, but not yet due
	rec, err := h2.q.Recover(context.Background())
	if err != nil || rec.Resumed != 1 {
		t.Fatalf("recover: %+v, %v; want it resumed", rec, err)
	}
	h2.q.Start()
	h2.clock.Advance(59 * time.Minute)
	select {
	case <-h2.script["sim"].started:
		t.Fatal("ran before its not_before after a restart")
	default:
	}
	h2.clock.Advance(time.Minute)
	if got := h2.started("sim"); got.ID != op.ID {
		t.Fatalf("started %s", got.ID)
	}
}

type refuseAll struct {
	undone  int
	revoked error // what Revoked says
}

func (r *refuseAll) Revoked(Operation) error { return r.revoked }

func (r *refuseAll) Admit(op Operation) (func(), error) {
	if op.Name == "refused" {
		return nil, errors.New("refused by admission")
	}
	return func() { r.undone++ }, nil
}

func TestAdmissionRefusesBeforeTheJournalButNotAReplay(t *testing.T) {
	store := queuetest.NewMemStore()
	adm := &refuseAll{}
	q, err := New(Config{}, []Lane{{Terminal: "sim", Execute: newScript().execute}}, Deps{Clock: newFakeClock(), Store: store, Admission: adm})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Shutdown(context.Background())
	if _, err := q.Submit(context.Background(), Request{Name: "refused"}); err == nil || err.Error() != "refused by admission" {
		t.Fatalf("submit: %v; want the admission's error as it is", err)
	}
	if ops, _ := store.Unfinished(context.Background()); len(ops) != 0 {
		t.Fatalf("a refused submit was journaled: %v", ops)
	}
	first, err := q.Submit(context.Background(), Request{Name: "ok", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Submit(context.Background(), Request{Name: "ok", IdempotencyKey: "k"})
	if err != nil || !again.Duplicate || again.Operation.ID != first.Operation.ID {
		t.Fatalf("replay: %+v %v", again, err)
	}
}

func TestCancelQueuedTakesMatchingHeldAndQueued(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Pause(context.Background(), "sim")
	h.q.Start()
	order := h.submit(Request{Name: "buy", SideEffect: true}).Operation
	held := h.submit(Request{Name: "buy", SideEffect: true, NotBefore: h.clock.Now().Add(time.Hour)}).Operation
	query := h.submit(Request{Name: "query"}).Operation
	got, err := h.q.CancelQueued(context.Background(), "sim", func(op Operation) bool { return op.SideEffect }, "halted", "halted by the kill switch")
	if err != nil || len(got) != 2 {
		t.Fatalf("cancelled %d, %v; want 2", len(got), err)
	}
	for _, id := range []string{order.ID, held.ID} {
		if op := h.wait(id); op.Status != StatusCancelled || op.ErrorCode != "halted" {
			t.Fatalf("%s: %s %s", id, op.Status, op.ErrorCode)
		}
	}
	if op, _ := h.q.Get(context.Background(), query.ID); op.Status != StatusQueued {
		t.Fatalf("the query was %s; want still queued", op.Status)
	}
}

// slowAppend holds each Append until released, so that a test can act
// while a submit's journal write is under way.
type slowAppend struct {
	Store
	writing chan struct{}
	release chan struct{}
}

func (s *slowAppend) Append(ctx context.Context, op Operation) error {
	s.writing <- struct{}{}
	<-s.release
	return s.Store.Append(ctx, op)
}

type haltCode struct{}

func (haltCode) Error() string     { return "halted meanwhile" }
func (haltCode) ErrorCode() string { return "risk_limit" }

func TestAdmissionRevokedDuringTheJournalWriteNeverQueues(t *testing.T) {
	mem := queuetest.NewMemStore()
	store := &slowAppend{Store: mem, writing: make(chan struct{}), release: make(chan struct{})}
	adm := &refuseAll{}
	sc := newScript()
	q, err := New(Config{}, []Lane{{Terminal: "sim", Execute: sc.execute}}, Deps{Clock: newFakeClock(), Store: store, Admission: adm})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Shutdown(context.Background())
	q.Start()
	type result struct {
		sub Submitted
		err error
	}
	done := make(chan result, 1)
	go func() {
		sub, err := q.Submit(context.Background(), Request{Name: "buy", SideEffect: true})
		done <- result{sub, err}
	}()
	<-store.writing
	adm.revoked = haltCode{} // the kill switch, pulled while the record is written
	close(store.release)
	r := <-done
	if !errors.Is(r.err, haltCode{}) && (r.err == nil || r.err.Error() != "halted meanwhile") {
		t.Fatalf("submit: %v; want the revocation", r.err)
	}
	if r.sub.Operation.Status != StatusCancelled || r.sub.Operation.ErrorCode != "risk_limit" {
		t.Fatalf("operation %s %s; want cancelled risk_limit", r.sub.Operation.Status, r.sub.Operation.ErrorCode)
	}
	if op, _ := mem.Get(context.Background(), r.sub.Operation.ID); op.Status != StatusCancelled {
		t.Fatalf("journal says %s; want cancelled", op.Status)
	}
	select {
	case op := <-sc.started:
		t.Fatalf("%s ran after its admission was revoked", op.ID)
	default:
	}
	if st := q.Stats().Lanes[0]; st.Queued != 0 || st.Cancelled != 1 {
		t.Fatalf("stats %+v", st)
	}
}
