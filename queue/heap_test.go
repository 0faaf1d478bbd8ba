package queue

import (
	"math/rand/v2"
	"testing"
)

// TestHeapPushPosition checks the counted position of every push against a
// scan, with Seqs arriving out of order (racing submits), pops and removals
// in between, and checks that pops come out in run order.
func TestHeapPushPosition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h opHeap
	var live []*entry
	seq := uint64(0)
	for step := range 5000 {
		switch r := rng.IntN(10); {
		case r < 6 || h.Len() == 0:
			seq++
			s := seq
			if rng.IntN(5) == 0 && s > 3 {
				s -= uint64(rng.IntN(3) + 1) // an older Seq, journaled late
				seq++                        // keep Seqs unique
				s = s*2 + 1
			} else {
				s = s * 2
			}
			e := &entry{op: Operation{Priority: rng.IntN(MaxPriority + 1), Seq: s}, index: -1}
			if got, want := h.push(e), h.position(e); got != want {
				t.Fatalf("step %d: push says position %d, a scan %d", step, got, want)
			}
			live = append(live, e)
		case r < 8:
			top := h.pop()
			for _, e := range h.entries {
				if runsBefore(e, top) {
					t.Fatalf("step %d: popped %+v before %+v", step, top.op, e.op)
				}
			}
		default:
			e := live[rng.IntN(len(live))]
			h.remove(e)
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
