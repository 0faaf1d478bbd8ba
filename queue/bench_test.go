package queue_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

func noop(context.Context, Operation) (Result, error) { return Result{Message: "ok"}, nil }

var benchParams = params(map[string]any{"stock_code": "600000", "price": 10.5, "quantity": 100})

// BenchmarkSubmit measures a submit into a paused lane (no execution) that
// holds up to 1000 operations, the default max_size.
func BenchmarkSubmit(b *testing.B) {
	ctx := context.Background()
	fresh := func() *Queue {
		q, _ := New(Config{MaxSize: 1000}, []Lane{{Terminal: "sim", Execute: noop}},
			Deps{Clock: RealClock{}, Store: discardStore{}})
		q.Pause(context.Background(), "")
		return q
	}
	q := fresh()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n == 1000 {
			b.StopTimer()
			q = fresh()
			n = 0
			b.StartTimer()
		}
		if _, err := q.Submit(ctx, Request{Name: "buy", Params: benchParams}); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkSubmitExecute measures submit + execution by a no-op executor +
// wait, one at a time: the queue's own round trip.
func BenchmarkSubmitExecute(b *testing.B) {
	q, _ := New(Config{}, []Lane{{Terminal: "sim", Execute: noop}}, Deps{Clock: RealClock{}, Store: queuetest.NewMemStore()})
	q.Start()
	defer q.Shutdown(context.Background())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := q.Submit(ctx, Request{Name: "buy", Params: benchParams})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := q.Wait(ctx, s.Operation.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSubmitParallel measures submits from many goroutines into one lane
// that executes them as they come (a full lane answers at once; that counts).
func BenchmarkSubmitParallel(b *testing.B) {
	q, _ := New(Config{}, []Lane{{Terminal: "sim", Execute: noop}}, Deps{Clock: RealClock{}, Store: discardStore{}})
	q.Start()
	defer q.Shutdown(context.Background())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.Submit(ctx, Request{Name: "buy", Params: benchParams}); err != nil && !errors.Is(err, ErrQueueFull) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWaitFanOut10k blocks 10,000 waiters on queued operations and
// releases them all: the cost per waiter of waiting without polling.
func BenchmarkWaitFanOut10k(b *testing.B) {
	const waiters = 10_000
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		q, _ := New(Config{MaxSize: waiters}, []Lane{{Terminal: "sim", Execute: noop}}, Deps{Clock: RealClock{}, Store: queuetest.NewMemStore()})
		q.Pause(context.Background(), "")
		q.Start()
		var wg sync.WaitGroup
		for range waiters {
			s, _ := q.Submit(ctx, Request{Name: "buy"})
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.Wait(ctx, s.Operation.ID)
			}()
		}
		q.Resume(context.Background(), "")
		wg.Wait()
		q.Shutdown(ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*waiters), "ns/waiter")
}

// BenchmarkMemoryPerFinishedOp reports the heap kept per finished operation
// while it is within result_ttl.
func BenchmarkMemoryPerFinishedOp(b *testing.B) {
	const n = 20_000
	ctx := context.Background()
	for b.Loop() {
		store := &discardStore{}
		q, _ := New(Config{MaxSize: n, ResultTTL: time.Hour}, []Lane{{Terminal: "sim", Execute: noop}}, Deps{Clock: RealClock{}, Store: store})
		q.Start()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var last string
		for range n {
			s, _ := q.Submit(ctx, Request{Name: "buy", Params: benchParams})
			last = s.Operation.ID
		}
		q.Wait(ctx, last)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/finished-op")
		q.Shutdown(ctx)
	}
}

// discardStore keeps nothing, so that memory benchmarks see the queue only.
type discardStore struct{}

func (discardStore) Append(context.Context, Operation) error              { return nil }
func (discardStore) MarkRunning(context.Context, string, time.Time) error { return nil }
func (discardStore) Finish(context.Context, Operation) error              { return nil }
func (discardStore) Amend(context.Context, string, []byte, string) error  { return nil }
func (discardStore) Get(context.Context, string) (Operation, error)       { return Operation{}, ErrNotFound }
func (discardStore) MaxSeq(context.Context) (uint64, error)               { return 0, nil }
func (discardStore) Unfinished(context.Context) ([]Operation, error)      { return nil, nil }
func (discardStore) SetPaused(context.Context, string, bool) error        { return nil }
func (discardStore) PausedLanes(context.Context) ([]string, error)        { return nil, nil }
func (discardStore) FindByKey(context.Context, string, string, time.Time) (Operation, error) {
	return Operation{}, ErrNotFound
}
