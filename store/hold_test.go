package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// savedState reads the ledger's row straight from the file, past the holds:
// what a crash now would leave.
func savedState(t *testing.T, s *Store, terminal string) string {
	t.Helper()
	var state []byte
	err := s.read.QueryRow(`SELECT state FROM sim_ledger WHERE terminal = ?`, terminal).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "<none>"
	}
	must(t, err)
	return string(state)
}

func statusOf(t *testing.T, s *Store, id string) queue.Status {
	t.Helper()
	op, err := s.Get(context.Background(), id)
	must(t, err)
	return op.Status
}

// running appends op and marks it running, as the queue does before
// calling the driver.
func running(t *testing.T, s *Store, op queue.Operation) queue.Operation {
	t.Helper()
	appendOps(t, s, op)
	must(t, s.MarkRunning(context.Background(), op.ID, t0))
	op.Status, op.StartedAt = queue.StatusRunning, t0
	return op
}

// TestHeldLedgerWritesCommitWithTheOutcome: the ledger write a driver makes
// under the operation's hold is not in the file until the outcome is, and
// then both are; a crash before (here: the store closed and opened again)
// leaves neither: the operation running, the ledger as it was.
func TestHeldLedgerWritesCommitWithTheOutcome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s := openAt(t, path, Options{})
	bg := context.Background()
	must(t, s.SaveLedger(bg, "sim", []byte(`{"cash":100}`)))
	op := running(t, s, queued("op1", 1, t0))

	ctx := s.HoldWrites(bg)
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":90}`)))
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{{Kind: "order", Day: t0, Seq: 1, Key: "k1", Body: []byte(`{"o":1}`)}}, []byte(`{"cash":80}`)))
	if got := savedState(t, s, "sim"); got != `{"cash":100}` {
		t.Fatalf("before the outcome the file holds %s, want the state before the operation", got)
	}

	// The crash: the process ends with the writes held.
	must(t, s.Close())
	s2 := openAt(t, path, Options{})
	if got := savedState(t, s2, "sim"); got != `{"cash":100}` {
		t.Errorf("after a crash before the outcome the ledger is %s, want it as before the operation", got)
	}
	if st := statusOf(t, s2, "op1"); st != queue.StatusRunning {
		t.Errorf("after a crash before the outcome the operation is %s, want running (interrupted at recovery)", st)
	}

	// The same again, this time to the outcome.
	ctx = s2.HoldWrites(bg)
	must(t, s2.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{{Kind: "order", Day: t0, Seq: 1, Key: "k1", Body: []byte(`{"o":1}`)}}, []byte(`{"cash":80}`)))
	must(t, s2.Finish(context.WithoutCancel(ctx), finished(op, queue.StatusSuccess, t0, t0.Add(time.Second))))
	if got := savedState(t, s2, "sim"); got != `{"cash":80}` {
		t.Errorf("after the outcome the file holds %s", got)
	}
	if st := statusOf(t, s2, "op1"); st != queue.StatusSuccess {
		t.Errorf("status %s", st)
	}
	if body, err := s2.FindLedgerArchive(bg, "sim", "order", "k1"); err != nil || string(body) != `{"o":1}` {
		t.Errorf("archived order: %s, %v", body, err)
	}
}

// TestAnOutcomeThatCannotBeRecordedTakesItsLedgerWritesWithIt: the
// outcome's own failure (here the operation is not in the journal) undoes
// the held writes in the same transaction; they wait on, and the next
// write of the terminal commits them first, in their order.
func TestAnOutcomeThatCannotBeRecordedTakesItsLedgerWritesWithIt(t *testing.T) {
	s := openTest(t, Options{})
	bg := context.Background()
	ctx := s.HoldWrites(bg)
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":90}`)))
	ghost := finished(queued("ghost", 1, t0), queue.StatusSuccess, t0, t0)
	if err := s.Finish(ctx, ghost); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Finish of an unrecorded operation: %v", err)
	}
	if got := savedState(t, s, "sim"); got != "<none>" {
		t.Fatalf("the failed outcome left the ledger write in the file: %s", got)
	}
	// Finish closed the hold: a write made under it now (a driver that
	// outlived its deadline) goes on its own, after the older one.
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":70}`)))
	if got := savedState(t, s, "sim"); got != `{"cash":70}` {
		t.Errorf("after the late write the file holds %s, want the newest state", got)
	}
}

// TestAWriteFromOutsideTheOperationTakesTheHeldOnesAlong: an operator's
// change to the ledger while an operation holds a write commits the held
// one first: the held (older) state can never be committed over a newer
// one. The outcome then commits alone.
func TestAWriteFromOutsideTheOperationTakesTheHeldOnesAlong(t *testing.T) {
	s := openTest(t, Options{})
	bg := context.Background()
	op := running(t, s, queued("op1", 1, t0))
	ctx := s.HoldWrites(bg)
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":90}`)))
	must(t, s.SaveLedger(ctx, "other", []byte(`{"cash":1}`)))
	must(t, s.SaveLedger(bg, "sim", []byte(`{"cash":91}`))) // the operator's
	if got := savedState(t, s, "sim"); got != `{"cash":91}` {
		t.Errorf("after the outside write: %s", got)
	}
	if got := savedState(t, s, "other"); got != "<none>" {
		t.Errorf("the outside write on sim committed other's held write: %s", got)
	}
	must(t, s.Finish(ctx, finished(op, queue.StatusSuccess, t0, t0)))
	if got := savedState(t, s, "sim"); got != `{"cash":91}` {
		t.Errorf("the outcome committed an older state over the newer: %s", got)
	}
	if got := savedState(t, s, "other"); got != `{"cash":1}` {
		t.Errorf("other's held write: %s", got)
	}
}

// TestAReadSeesTheWritesHeldBeforeIt: a driver reading its ledger in the
// middle of an operation sees what it wrote before.
func TestAReadSeesTheWritesHeldBeforeIt(t *testing.T) {
	s := openTest(t, Options{})
	ctx := s.HoldWrites(context.Background())
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{{Kind: "order", Day: t0, Seq: 1, Key: "k1", Body: []byte(`{"o":1}`)}}, []byte(`{"cash":80}`)))
	if body, err := s.FindLedgerArchive(ctx, "sim", "order", "k1"); err != nil || string(body) != `{"o":1}` {
		t.Errorf("FindLedgerArchive: %s, %v", body, err)
	}
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":70}`)))
	if got, err := s.LoadLedger(ctx, "sim"); err != nil || string(got) != `{"cash":70}` {
		t.Errorf("LoadLedger: %s, %v", got, err)
	}
	if bodies, err := s.LoadLedgerArchive(ctx, "sim", "order", time.Time{}); err != nil || len(bodies) != 1 {
		t.Errorf("LoadLedgerArchive: %q, %v", bodies, err)
	}
}

// TestAHeldWriteThatFailsFailsTheOutcome: a held archive write that
// conflicts (its record archived already) fails the outcome's transaction
// as a whole.
func TestAHeldWriteThatFailsFailsTheOutcome(t *testing.T) {
	s := openTest(t, Options{})
	bg := context.Background()
	rec := []automation.LedgerRecord{{Kind: "order", Day: t0, Seq: 1, Key: "k1", Body: []byte(`{"o":1}`)}}
	must(t, s.ArchiveLedger(bg, "sim", rec, []byte(`{"cash":80}`)))
	op := running(t, s, queued("op1", 1, t0))
	ctx := s.HoldWrites(bg)
	must(t, s.ArchiveLedger(ctx, "sim", rec, []byte(`{"cash":60}`)))
	if err := s.Finish(ctx, finished(op, queue.StatusSuccess, t0, t0)); !errors.Is(err, ErrConflict) {
		t.Fatalf("Finish with a conflicting held write: %v, want ErrConflict", err)
	}
	if st := statusOf(t, s, "op1"); st != queue.StatusRunning {
		t.Errorf("the outcome was recorded without its ledger write: %s", st)
	}
	if got := savedState(t, s, "sim"); got != `{"cash":80}` {
		t.Errorf("ledger %s", got)
	}
}

// TestFinishAndStartIsOneWrite: the handover records one operation's end
// and the next one's start together, or neither.
func TestFinishAndStartIsOneWrite(t *testing.T) {
	s := openTest(t, Options{})
	bg := context.Background()
	first := running(t, s, queued("op1", 1, t0))
	appendOps(t, s, queued("op2", 2, t0))
	ctx := s.HoldWrites(bg)
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":90}`)))

	// The next one is not queued (it ran already): neither half is recorded.
	must(t, s.MarkRunning(bg, "op2", t0))
	if err := s.FinishAndStart(ctx, finished(first, queue.StatusSuccess, t0, t0), "op2", t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("FinishAndStart onto a running operation: %v", err)
	}
	if st := statusOf(t, s, "op1"); st != queue.StatusRunning {
		t.Errorf("the first half was recorded alone: op1 is %s", st)
	}
	if got := savedState(t, s, "sim"); got != "<none>" {
		t.Errorf("the held write was recorded without its outcome: %s", got)
	}

	appendOps(t, s, queued("op3", 3, t0))
	must(t, s.FinishAndStart(ctx, finished(first, queue.StatusSuccess, t0, t0), "op3", t0.Add(time.Second)))
	if a, b := statusOf(t, s, "op1"), statusOf(t, s, "op3"); a != queue.StatusSuccess || b != queue.StatusRunning {
		t.Errorf("after the handover: op1 %s, op3 %s", a, b)
	}
	if got := savedState(t, s, "sim"); got != `{"cash":90}` {
		t.Errorf("ledger %s", got)
	}
}
