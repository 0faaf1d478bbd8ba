package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// heldWriter installs hooks that stop the writer when it has taken its
// first write, until release is called, and count what happens.
type heldWriter struct {
	taken    chan struct{} // the writer holds a first write
	hold     chan struct{}
	enqueued chan struct{} // one per write handed over
	batches  chan int      // the size of each batch that ended
	once     sync.Once
}

func holdWriter(s *Store, capacity int) *heldWriter {
	h := &heldWriter{
		taken:    make(chan struct{}, 1),
		hold:     make(chan struct{}),
		enqueued: make(chan struct{}, capacity),
		batches:  make(chan int, capacity),
	}
	s.hooks = testHooks{
		gathering: func() {
			select {
			case h.taken <- struct{}{}:
			default:
			}
			<-h.hold
		},
		enqueued:  func() { h.enqueued <- struct{}{} },
		committed: func(n int) { h.batches <- n },
	}
	return h
}

func (h *heldWriter) release() { h.once.Do(func() { close(h.hold) }) }

// waitEnqueued waits until n writes have been handed to the writer.
func (h *heldWriter) waitEnqueued(n int) {
	for range n {
		<-h.enqueued
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
	s := openTest(t, Options{})
	h := holdWriter(s, 100)
	defer h.release()

	const n = 10
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	<-h.taken // the writer holds op0 and waits
	for i := 1; i < n; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	h.waitEnqueued(n)

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

	h.release()
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("Append op%d: %v", i, err)
		}
	}
	if got := <-h.batches; got != n {
		t.Errorf("first transaction held %d records, want all %d", got, n)
	}
	for i := range n {
		if _, err := s.Get(ctx, fmt.Sprint("op", i)); err != nil {
			t.Errorf("Get op%d after its Append returned: %v", i, err)
		}
	}
}

func TestBatchKeepsOrderAndIsolatesRecordErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	appendOps(t, s, queued("old", 0, t0))
	h := holdWriter(s, 100)
	defer h.release()

	// Hold the writer with a first write, then queue, in this order, a
	// lifecycle of one operation and a duplicate between them.
	first := appendAsync(ctx, s, queued("first", 1, t0))
	<-h.taken
	h.waitEnqueued(1)
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
		h.waitEnqueued(1) // one at a time: the queue's order is the order above
	}
	h.release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		err := <-results[i]
		if st.wantErr == nil && err != nil || st.wantErr != nil && !errors.Is(err, st.wantErr) {
			t.Errorf("%s = %v, want %v", st.name, err, st.wantErr)
		}
	}
	if got := <-h.batches; got != len(steps)+1 {
		t.Errorf("batch of %d records, want %d in one transaction", got, len(steps)+1)
	}
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
	s := openTest(t, Options{})
	h := holdWriter(s, 100)
	defer h.release()

	before := appendAsync(ctx, s, queued("before", 1, t0))
	<-h.taken
	h.waitEnqueued(1)
	boom := make(chan error, 1)
	go func() {
		_, err := s.submit(ctx, func(context.Context, *sql.Tx) (int64, error) {
			return 0, errors.New("disk on fire")
		})
		boom <- err
	}()
	h.waitEnqueued(1)
	after := appendAsync(ctx, s, queued("after", 2, t0))
	h.waitEnqueued(1)
	h.release()

	for name, r := range map[string]<-chan error{"before": before, "boom": boom, "after": after} {
		if err := <-r; err == nil {
			t.Errorf("%s: no error, want the batch's failure", name)
		}
	}
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
	s, err := Open(ctx, path, Options{})
	must(t, err)
	h := holdWriter(s, 100)

	const n = 20
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	<-h.taken
	for i := 1; i < n; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	h.waitEnqueued(n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	h.release()
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
	s := openTest(t, Options{})
	h := holdWriter(s, writeQueueDepth+10)
	defer h.release()

	// Fill the writer's hand and its whole queue.
	results := []<-chan error{appendAsync(ctx, s, queued("op0", 0, t0))}
	<-h.taken
	for i := 1; i <= writeQueueDepth; i++ {
		results = append(results, appendAsync(ctx, s, queued(fmt.Sprint("op", i), uint64(i), t0)))
	}
	h.waitEnqueued(writeQueueDepth + 1)

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

	h.release()
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("op%d: %v", i, err)
		}
	}
	for _, id := range []string{"late", "later"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s was recorded although its caller gave up: %v", id, err)
		}
	}
}

func TestEnqueuedWriteOutlivesItsContext(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	h := holdWriter(s, 10)
	defer h.release()

	cctx, cancel := context.WithCancel(ctx)
	r := appendAsync(cctx, s, queued("op", 1, t0))
	<-h.taken
	cancel() // after the writer took it: it is committed, and the caller told so
	h.release()
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
