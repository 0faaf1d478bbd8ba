package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/brokerd/brokerd/queue"
)

// TestQueueOverJournal runs the real queue on the journal through a crash:
// the store goes away while an operation runs and two wait, and a new
// queue recovers from the file. It checks the contract queue.Store states:
// nothing acknowledged is lost, nothing is executed twice, keys survive.
func TestQueueOverJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")

	// Before the crash: the first operation blocks in its executor.
	started := make(chan string, 10)
	unblock := make(chan struct{})
	executed := map[string]int{}
	execute := func(ctx context.Context, op queue.Operation) (queue.Result, error) {
		started <- op.ID
		<-unblock
		return queue.Result{Data: json.RawMessage(`{"entrust_no":"1"}`), Message: "done"}, nil
	}
	s1, err := Open(ctx, path, Options{})
	must(t, err)
	q1, err := queue.New(queue.Config{}, []queue.Lane{{Terminal: "sim", Execute: execute}},
		queue.Deps{Clock: queue.RealClock{}, Store: s1})
	must(t, err)
	q1.Start()
	submit := func(q *queue.Queue, key string) queue.Submitted {
		t.Helper()
		sub, err := q.Submit(ctx, queue.Request{Name: "buy", Params: json.RawMessage(`{"stock_code":"600000"}`),
			SideEffect: true, IdempotencyKey: key})
		must(t, err)
		return sub
	}
	running := submit(q1, "k-running").Operation.ID
	executed[<-started]++
	queuedA := submit(q1, "k-a").Operation.ID
	queuedB := submit(q1, "").Operation.ID

	// The crash: the journal goes away under the queue; what the old
	// queue does afterwards is never recorded.
	must(t, s1.Close())
	close(unblock)
	must(t, q1.Shutdown(ctx))
	if len(started) != 0 {
		t.Fatalf("the old queue executed %s without a journal", <-started)
	}

	// Restart on the same file.
	s2 := openAt(t, path, Options{})
	execute2 := func(ctx context.Context, op queue.Operation) (queue.Result, error) {
		executed[op.ID]++
		return queue.Result{Data: json.RawMessage(`{"entrust_no":"2"}`), Message: "done"}, nil
	}
	q2, err := queue.New(queue.Config{}, []queue.Lane{{Terminal: "sim", Execute: execute2}},
		queue.Deps{Clock: queue.RealClock{}, Store: s2})
	must(t, err)
	rec, err := q2.Recover(ctx)
	must(t, err)
	if rec.Interrupted != 1 || rec.Resumed != 2 || rec.Expired != 0 {
		t.Errorf("Recover = %+v, want 1 interrupted and 2 resumed", rec)
	}
	q2.Start()
	defer q2.Shutdown(ctx) //nolint:errcheck // nothing runs by then

	for _, id := range []string{queuedA, queuedB} {
		op, err := q2.Wait(ctx, id)
		if err != nil || op.Status != queue.StatusSuccess {
			t.Errorf("resumed %s = %s, %v; want success", id, op.Status, err)
		}
	}
	op, err := s2.Get(ctx, running)
	if err != nil || op.Status != queue.StatusFailed || op.ErrorCode != queue.CodeInterrupted {
		t.Errorf("the running one = %s/%s, %v; want failed/interrupted", op.Status, op.ErrorCode, err)
	}
	if executed[running] != 1 || executed[queuedA] != 1 || executed[queuedB] != 1 {
		t.Errorf("executions = %v, want each exactly once", executed)
	}

	// An idempotency key from before the restart is still answered.
	again := submit(q2, "k-a")
	if !again.Duplicate || again.Operation.ID != queuedA {
		t.Errorf("resubmit with key k-a = %s duplicate %v, want %s duplicate", again.Operation.ID, again.Duplicate, queuedA)
	}
	if un, err := s2.Unfinished(ctx); err != nil || len(un) != 0 {
		t.Errorf("Unfinished after recovery = %v, %v; want none", ids(un), err)
	}
}
