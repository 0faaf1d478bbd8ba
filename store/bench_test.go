package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// Run with: go test -run '^$' -bench . -benchmem ./store
// ops/s is the figure to compare; "parallel" runs 16 callers per CPU, as
// concurrent submits do, and shows what group commit buys.

func reportOpsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run(sync+"/sequential", func(b *testing.B) {
			s := openTest(b, Options{synchronous: sync})
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if err := s.Append(ctx, queued(fmt.Sprint(i), uint64(i), t0)); err != nil {
					b.Fatal(err)
				}
			}
			reportOpsPerSecond(b)
		})
		b.Run(sync+"/parallel", func(b *testing.B) {
			s := openTest(b, Options{synchronous: sync})
			ctx := context.Background()
			var next atomic.Uint64
			before := s.CommitStats()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					if err := s.Append(ctx, queued(fmt.Sprint(i), i, t0)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportOpsPerSecond(b)
			after := s.CommitStats()
			records := after.GroupSize.Sum - before.GroupSize.Sum
			batches := after.GroupSize.Count - before.GroupSize.Count
			b.ReportMetric(records/float64(max(batches, 1)), "records/commit")
		})
	}
}

func BenchmarkFinish(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(map[bool]string{false: "sequential", true: "parallel"}[parallel], func(b *testing.B) {
			s := openTest(b, Options{})
			ctx := context.Background()
			bulkLoad(b, s, b.N, func(op *queue.Operation) {})
			var next atomic.Uint64
			finish := func() error {
				i := next.Add(1) - 1
				op := finished(queued(fmt.Sprintf("op%09d", i), i, t0), queue.StatusSuccess, t0, t0.Add(time.Second))
				return s.Finish(ctx, op)
			}
			b.ResetTimer()
			if !parallel {
				for range b.N {
					if err := finish(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := finish(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			reportOpsPerSecond(b)
		})
	}
}

// BenchmarkGet reads operations by id from a journal of 100,000, one
// caller at a time and many at once, while nothing writes.
func BenchmarkGet(b *testing.B) {
	const n = 100_000
	s := openTest(b, Options{})
	bulkLoad(b, s, n, func(op *queue.Operation) {})
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		for i := range b.N {
			if _, err := s.Get(ctx, fmt.Sprintf("op%09d", i*7919%n)); err != nil {
				b.Fatal(err)
			}
		}
		reportOpsPerSecond(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(1, 2))
			for pb.Next() {
				if _, err := s.Get(ctx, fmt.Sprintf("op%09d", r.IntN(n))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportOpsPerSecond(b)
	})
	// Reads do not queue behind commits: WAL readers have their own
	// connections and see the last committed state while the writer syncs.
	var written atomic.Uint64 // across the runs of the sub-benchmark
	b.Run("parallel while appending", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := written.Add(1)
				if err := s.Append(ctx, queued(fmt.Sprint("w", i), n+i, t0)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(1, 2))
			for pb.Next() {
				if _, err := s.Get(ctx, fmt.Sprintf("op%09d", r.IntN(n))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		close(stop)
		<-done
		reportOpsPerSecond(b)
	})
}

// BenchmarkHistoryPage reads one page of 100 (and the total) from a journal
// of 100,000 operations on 4 terminals, a quarter of them failed.
func BenchmarkHistoryPage(b *testing.B) {
	const n = 100_000
	s := openTest(b, Options{})
	bulkLoad(b, s, n, func(op *queue.Operation) {
		op.Terminal = fmt.Sprint("t", op.Seq%4)
		if op.Seq%4 == 1 {
			op.Status = queue.StatusFailed
		} else {
			op.Status = queue.StatusSuccess
		}
	})
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		f    HistoryFilter
	}{
		{"newest", HistoryFilter{}},
		{"page 500", HistoryFilter{Offset: 50_000}},
		{"failed", HistoryFilter{Status: queue.StatusFailed}},
		{"terminal and last hour", HistoryFilter{Terminal: "t2", Since: t0.Add(time.Duration(n-3600) * time.Second)}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			for range b.N {
				ops, total, err := s.History(ctx, tt.f)
				if err != nil || len(ops) == 0 || total == 0 {
					b.Fatalf("History = %d ops, total %d, %v", len(ops), total, err)
				}
			}
			reportOpsPerSecond(b)
		})
	}
}

// BenchmarkPruneBatch measures one Prune transaction of the default batch:
// the longest a write can wait behind retention.
func BenchmarkPruneBatch(b *testing.B) {
	s := openTest(b, Options{})
	bulkLoad(b, s, b.N*defaultPruneBatch, func(op *queue.Operation) { op.Status = queue.StatusSuccess })
	b.ResetTimer()
	n, err := s.Prune(context.Background(), t0.Add(1000*time.Hour))
	if err != nil || n != int64(b.N*defaultPruneBatch) {
		b.Fatalf("Prune = %d, %v", n, err)
	}
}

// bulkLoad inserts n operations (op%09d, one a second from t0) in one
// transaction on the writer's connection, before the timed part.
func bulkLoad(b *testing.B, s *Store, n int, change func(*queue.Operation)) {
	b.Helper()
	tx, err := s.write.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(insertOperation)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		op := queued(fmt.Sprintf("op%09d", i), uint64(i), t0.Add(time.Duration(i)*time.Second))
		change(&op)
		status := op.Status
		op.Status = queue.StatusQueued
		args, err := appendArgs(op)
		if err != nil {
			b.Fatal(err)
		}
		args[6] = string(status)
		if _, err := stmt.Exec(args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReopen opens a journal of 100,000 operations, 1,000 of them
// unfinished, and reads those back: the journal's part of a restart.
func BenchmarkReopen(b *testing.B) {
	const n, unfinished = 100_000, 1_000
	path := filepath.Join(b.TempDir(), "brokerd.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	bulkLoad(b, s, n, func(op *queue.Operation) {
		if op.Seq >= unfinished {
			op.Status = queue.StatusSuccess
		}
	})
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		s, err := Open(context.Background(), path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ops, err := s.Unfinished(context.Background())
		if err != nil || len(ops) != unfinished {
			b.Fatalf("Unfinished = %d, %v", len(ops), err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
