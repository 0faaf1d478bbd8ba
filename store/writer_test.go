package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// heldBusyTimeout is the BusyTimeout of the tests that hold the journal's
// write lock from outside: far longer than they hold it, so that the
// writer waits for the lock instead of failing its batch.
const heldBusyTimeout = 2 * time.Minute

// waitDeadline bounds each wait for the writer to reach a state, so that a
// broken writer fails the test instead of hanging it.
const waitDeadline = 30 * time.Second

// outsideLock holds SQLite's write lock on a journal from a connection of
// its own, as another program would (a sqlite3 shell running BEGIN
// IMMEDIATE): the case Options.BusyTimeout exists for. While it is held,
// the writer's transaction waits in its BEGIN with the batch it has
// gathered, and further writes wait in s.writes.
type outsideLock struct {
	db   *sql.DB
	conn *sql.Conn
	once sync.Once
}

func lockOutside(t testing.TB, path string) *outsideLock {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_busy_timeout=%d", path, heldBusyTimeout.Milliseconds()))
	must(t, err)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		db.Close()
		t.Fatal(err)
	}
	l := &outsideLock{db: db, conn: conn}
	t.Cleanup(l.release) // before the store's Close, which would wait for the lock
	return l
}

// release rolls the outside transaction back and closes its connection.
func (l *outsideLock) release() {
	l.once.Do(func() {
		l.conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // closing the connection ends it anyway
		l.conn.Close()
		l.db.Close()
	})
}

// waitFor polls cond until it holds, failing the test after waitDeadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting until %s", waitDeadline, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitInTransaction waits until the writer has begun a batch's transaction
// (it takes its one connection, s.write, only in commit, after gathering
// the batch): with the write lock held outside, it then waits in its BEGIN
// with that batch, which nothing enqueued from now on can join.
func waitInTransaction(t testing.TB, s *Store) {
	t.Helper()
	waitFor(t, "the writer is in a transaction", func() bool { return s.write.Stats().InUse == 1 })
}

// waitQueued waits until n writes wait in s.writes for the writer.
func waitQueued(t testing.TB, s *Store, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d writes are queued", n), func() bool { return len(s.writes) == n })
}

// wantCommits checks what the writer did since before: commits
// transactions committed and failures not, of exactly the sizes given
// (in any order), as far as CommitStats tells: their number, their total,
// and the GroupSize bucket of each.
func wantCommits(t testing.TB, s *Store, before CommitStats, commits, failures uint64, sizes ...int) {
	t.Helper()
	after := s.CommitStats()
	if got := after.Commits - before.Commits; got != commits {
		t.Errorf("%d transactions committed, want %d", got, commits)
	}
	if got := after.Failures - before.Failures; got != failures {
		t.Errorf("%d transactions failed, want %d", got, failures)
	}
	var want histogram
	for _, n := range sizes {
		want.observe(groupSizeBounds, float64(n))
	}
	w, a, b := want.snapshot(groupSizeBounds), after.GroupSize, before.GroupSize
	got := Histogram{Bounds: a.Bounds, Counts: make([]uint64, len(a.Counts)), Count: a.Count - b.Count, Sum: a.Sum - b.Sum}
	for i := range a.Counts {
		got.Counts[i] = a.Counts[i] - b.Counts[i]
	}
	if got.Count != w.Count || got.Sum != w.Sum || !slices.Equal(got.Counts, w.Counts) {
		t.Errorf("%d transactions of %v records in all, GroupSize buckets %v; want sizes %v, buckets %v",
			got.Count, got.Sum, got.Counts, sizes, w.Counts)
	}
}

// appendAsync appends op in a goroutine and delivers the result.
func appendAsync(ctx context.Context, s *Store, op queue.Operation) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Append(ctx, op) }()
	return done
}

func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	before := s.CommitStats()
	lock := lockOutside(t, s.Path())

	const n = 10
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	waitInTransaction(t, s) // the writer holds op0 alone and waits for the lock
	for i := 1; i < n; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	waitQueued(t, s, n-1)

	// Nothing is committed yet: no caller has returned, no reader sees it.
	for i, r := range results {
		select {
		case err := <-r:
			t.Fatalf("Append op%d returned (%v) before its transaction committed", i, err)
		default:
		}
	}
	if _, err := s.Get(ctx, "op0"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("op0 readable before its commit: %v", err)
	}

	lock.release()
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("Append op%d: %v", i, err)
		}
	}
	// op0's transaction, then one for all the writes that waited meanwhile.
	wantCommits(t, s, before, 2, 0, 1, n-1)
	for i := range n {
		if _, err := s.Get(ctx, fmt.Sprint("op", i)); err != nil {
			t.Errorf("Get op%d after its Append returned: %v", i, err)
		}
	}
}

func TestBatchKeepsOrderAndIsolatesRecordErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	appendOps(t, s, queued("old", 0, t0))
	before := s.CommitStats()
	lock := lockOutside(t, s.Path())

	// Hold the writer with a first write, then queue, in this order, a
	// lifecycle of one operation and a duplicate between them.
	first := appendAsync(ctx, s, queued("first", 1, t0))
	waitInTransaction(t, s)
	steps := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"append a", func() error { return s.Append(ctx, queued("a", 2, t0)) }, nil},
		{"append duplicate", func() error { return s.Append(ctx, queued("old", 3, t0)) }, ErrConflict},
		{"mark a running", func() error { return s.MarkRunning(ctx, "a", t0.Add(time.Second)) }, nil},
		{"mark missing", func() error { return s.MarkRunning(ctx, "missing", t0) }, queue.ErrNotFound},
		{"finish a", func() error {
			return s.Finish(ctx, finished(queued("a", 2, t0), queue.StatusSuccess, t0.Add(time.Second), t0.Add(2*time.Second)))
		}, nil},
	}
	results := make([]chan error, len(steps))
	for i, st := range steps {
		results[i] = make(chan error, 1)
		go func() { results[i] <- st.call() }()
		waitQueued(t, s, i+1) // one at a time: the queue's order is the order above
	}
	lock.release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		err := <-results[i]
		if st.wantErr == nil && err != nil || st.wantErr != nil && !errors.Is(err, st.wantErr) {
			t.Errorf("%s = %v, want %v", st.name, err, st.wantErr)
		}
	}
	// first's transaction, then the steps in one transaction.
	wantCommits(t, s, before, 2, 0, 1, len(steps))
	a, err := s.Get(ctx, "a")
	if err != nil || a.Status != queue.StatusSuccess || !a.StartedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("a = %s started %v, %v; want success, started at t0+1s", a.Status, a.StartedAt, err)
	}
	if old, _ := s.Get(ctx, "old"); old.Seq != 0 {
		t.Errorf("the duplicate overwrote old: seq %d", old.Seq)
	}
}

func TestFailedBatchRecordsNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	before := s.CommitStats()
	lock := lockOutside(t, s.Path())

	// Hold the writer with a first write of its own transaction, then queue
	// a batch whose middle write fails it.
	first := appendAsync(ctx, s, queued("first", 0, t0))
	waitInTransaction(t, s)
	beforeBoom := appendAsync(ctx, s, queued("before", 1, t0))
	waitQueued(t, s, 1)
	boom := make(chan error, 1)
	go func() {
		_, err := s.submit(ctx, func(context.Context, *sql.Tx) (int64, error) {
			return 0, errors.New("disk on fire")
		})
		boom <- err
	}()
	waitQueued(t, s, 2)
	after := appendAsync(ctx, s, queued("after", 2, t0))
	waitQueued(t, s, 3)
	lock.release()

	if err := <-first; err != nil {
		t.Errorf("first, alone in its transaction: %v", err)
	}
	for name, r := range map[string]<-chan error{"before": beforeBoom, "boom": boom, "after": after} {
		if err := <-r; err == nil {
			t.Errorf("%s: no error, want the batch's failure", name)
		}
	}
	wantCommits(t, s, before, 1, 1, 1, 3)
	for _, id := range []string{"before", "after"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s recorded although its transaction failed: %v", id, err)
		}
	}
	// The writer goes on with the next batch.
	appendOps(t, s, queued("later", 3, t0))
}

func TestCloseDrainsAcceptedWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s, err := Open(ctx, path, Options{BusyTimeout: heldBusyTimeout})
	must(t, err)
	lock := lockOutside(t, path)

	const n = 20
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	waitInTransaction(t, s)
	for i := 1; i < n; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	waitQueued(t, s, n-1)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	lock.release()
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("Append op%d accepted before Close: %v", i, err)
		}
	}
	must(t, <-closed)

	s = openAt(t, path, Options{})
	un, err := s.Unfinished(ctx)
	if err != nil || len(un) != n {
		t.Errorf("after reopen: %d operations, %v; want %d", len(un), err, n)
	}
}

func TestContextBoundsOnlyTheWaitToEnqueue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	before := s.CommitStats()
	lock := lockOutside(t, s.Path())

	// Fill the writer's hand and its whole queue.
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	waitInTransaction(t, s)
	for i := 1; i <= writeQueueDepth; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	waitQueued(t, s, writeQueueDepth)

	// A caller that cannot enqueue gives up with its context...
	cctx, cancel := context.WithCancel(ctx)
	late := appendAsync(cctx, s, queued("late", 99999, t0))
	cancel()
	if err := <-late; !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context = %v, want context.Canceled", err)
	}
	// ...and one already cancelled does not even try.
	if err := s.Append(cctx, queued("later", 99999, t0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context = %v", err)
	}

	lock.release()
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("op%d: %v", i, err)
		}
	}
	// op0 alone, then the full queue in transactions of maxBatch.
	wantCommits(t, s, before, 1+writeQueueDepth/maxBatch, 0,
		append([]int{1}, slices.Repeat([]int{maxBatch}, writeQueueDepth/maxBatch)...)...)
	for _, id := range []string{"late", "later"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s was recorded although its caller gave up: %v", id, err)
		}
	}
}

func TestEnqueuedWriteOutlivesItsContext(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	lock := lockOutside(t, s.Path())

	cctx, cancel := context.WithCancel(ctx)
	r := appendAsync(cctx, s, queued("op", 1, t0))
	waitInTransaction(t, s)
	cancel() // after the writer took it: it is committed, and the caller told so
	lock.release()
	if err := <-r; err != nil {
		t.Errorf("Append = %v, want its commit reported", err)
	}
	if _, err := s.Get(ctx, "op"); err != nil {
		t.Errorf("Get: %v", err)
	}
}

// TestDurableOnReturn checks with a connection of its own, outside the
// store, that every acknowledged write is already in the file.
func TestDurableOnReturn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s := openAt(t, path, Options{})
	outside := rawDB(t, path)
	var sync int
	must(t, s.write.QueryRow("PRAGMA synchronous").Scan(&sync))
	if sync != 2 {
		t.Errorf("writer synchronous = %d, want 2 (FULL)", sync)
	}
	status := func(id string) string {
		var st string
		if err := outside.QueryRow(`SELECT status FROM operations WHERE id = ?`, id).Scan(&st); err != nil {
			return err.Error()
		}
		return st
	}
	for i := range 20 {
		id := fmt.Sprint("op", i)
		appendOps(t, s, queued(id, uint64(i), t0))
		if got := status(id); got != "queued" {
			t.Fatalf("after Append(%s) returned, a fresh connection reads %q", id, got)
		}
		must(t, s.MarkRunning(ctx, id, t0))
		if got := status(id); got != "running" {
			t.Fatalf("after MarkRunning(%s) returned, a fresh connection reads %q", id, got)
		}
		must(t, s.Finish(ctx, finished(queued(id, uint64(i), t0), queue.StatusFailed, t0, t0)))
		if got := status(id); got != "failed" {
			t.Fatalf("after Finish(%s) returned, a fresh connection reads %q", id, got)
		}
	}
}

func TestConcurrentLifecycles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s, err := Open(ctx, path, Options{})
	must(t, err)
	const workers, each = 16, 24
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%02d-%03d", w, i)
				op := queued(id, uint64(w*each+i), t0.Add(time.Duration(i)*time.Millisecond))
				op.Terminal = fmt.Sprint("t", w%4)
				if err := s.Append(ctx, op); err != nil {
					errs <- err
					return
				}
				if err := s.MarkRunning(ctx, id, op.SubmittedAt); err != nil {
					errs <- err
					return
				}
				if i%2 == 0 { // leave half running, as a crash would
					continue
				}
				if err := s.Finish(ctx, finished(op, queue.StatusSuccess, op.SubmittedAt, op.SubmittedAt.Add(time.Second))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Readers meanwhile: they must never fail nor see a half-written record.
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ops, _, err := s.History(ctx, HistoryFilter{Limit: 50})
			if err != nil {
				readErr <- err
				return
			}
			for _, op := range ops {
				if op.Status == queue.StatusSuccess && (op.Result == nil || op.FinishedAt.IsZero()) {
					readErr <- fmt.Errorf("half-written record %+v", op)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := <-readErr; err != nil {
		t.Error(err)
	}
	must(t, s.Close())

	s = openAt(t, path, Options{})
	_, total, err := s.History(ctx, HistoryFilter{})
	if err != nil || total != workers*each {
		t.Errorf("%d operations after reopen, %v; want %d", total, err, workers*each)
	}
	_, done, _ := s.History(ctx, HistoryFilter{Status: queue.StatusSuccess})
	un, _ := s.Unfinished(ctx)
	if done != workers*each/2 || len(un) != workers*each/2 {
		t.Errorf("%d success and %d unfinished, want %d each", done, len(un), workers*each/2)
	}
	for i := 1; i < len(un); i++ {
		if un[i-1].Seq >= un[i].Seq {
			t.Fatalf("Unfinished out of Seq order at %d: %d then %d", i, un[i-1].Seq, un[i].Seq)
		}
	}
}
