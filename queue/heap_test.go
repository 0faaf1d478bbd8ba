package queue

import (
	"math/rand/v2"
	"testing"
)

// TestHeapPushPosition checks the counted position of every push against a
// scan. Submits are reserved (Seq and mark given) and pushed in a random
// order, as racing journal writes finish, with pops and removals between,
// and more racers at once than the heap remembers; pops must come out in
// run order.
func TestHeapPushPosition(t *testing.T) {
	for _, racers := range []int{1, 8, 100, 2 * recentPushes} {
		rng := rand.New(rand.NewPCG(uint64(racers), 2))
		var h opHeap
		var live, pending []*entry
		seq := uint64(0)
		for step := range 20000 {
			switch r := rng.IntN(10); {
			case r < 4 && len(pending) < racers:
				seq++
				e := &entry{op: Operation{Priority: rng.IntN(3) * 5, Seq: seq}, index: -1, mark: h.mark()}
				pending = append(pending, e)
			case r < 7 && len(pending) > 0:
				i := rng.IntN(len(pending))
				e := pending[i]
				pending = append(pending[:i], pending[i+1:]...)
				if got, want := h.push(e, e.mark), h.position(e); got != want {
					t.Fatalf("racers %d, step %d: push says position %d, a scan %d", racers, step, got, want)
				}
				live = append(live, e)
			case r < 9 && h.Len() > 0:
				top := h.pop()
				for _, e := range h.entries {
					if runsBefore(e, top) {
						t.Fatalf("step %d: popped %+v before %+v", step, top.op, e.op)
					}
				}
			case len(live) > 0:
				h.remove(live[rng.IntN(len(live))])
			}
			total := 0
			for _, n := range h.byPriority {
				total += n
			}
			if total != h.Len() {
				t.Fatalf("step %d: counts %v sum to %d, heap holds %d", step, h.byPriority, total, h.Len())
			}
		}
	}
}

func BenchmarkHeap(b *testing.B) {
	var h opHeap
	entries := make([]*entry, 1000)
	for i := range entries {
		entries[i] = &entry{op: Operation{Priority: i % 11, Seq: uint64(i)}, index: -1}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range entries {
			h.push(e, h.mark())
		}
		for h.Len() > 0 {
			h.pop()
		}
	}
}
