package queue_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/brokerd/brokerd/queue"
)

// BenchmarkSubmitBacklog measures one submit into a paused lane that
// already holds backlog operations: what a submit costs when the lane runs
// behind (scenario 1 of cmd/brokerbench raises max_size so that none is
// refused). The store keeps nothing, so the figure is the queue's own.
func BenchmarkSubmitBacklog(b *testing.B) {
	ctx := context.Background()
	for _, backlog := range []int{0, 1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			const batch = 1000 // submits on one backlog before it is rebuilt
			fresh := func() *Queue {
				q, err := New(Config{MaxSize: backlog + batch + 1}, []Lane{{Terminal: "sim", Execute: noop}},
					Deps{Clock: RealClock{}, Store: discardStore{}})
				if err != nil {
					b.Fatal(err)
				}
				q.Pause(context.Background(), "")
				for range backlog {
					if _, err := q.Submit(ctx, Request{Name: "buy", Params: benchParams}); err != nil {
						b.Fatal(err)
					}
				}
				return q
			}
			q := fresh()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n == batch {
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
		})
	}
}
