package queue

import "container/heap"

// opHeap orders a lane's queued entries: higher priority first, then lower
// Seq (FIFO within a priority). Each entry knows its index so that cancel
// and expiry remove it in O(log n).
type opHeap []*entry

func (h opHeap) Len() int { return len(h) }

func (h opHeap) Less(i, j int) bool { return runsBefore(h[i], h[j]) }

func (h opHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *opHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *opHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}

// runsBefore reports whether a is taken before b.
func runsBefore(a, b *entry) bool {
	if a.op.Priority != b.op.Priority {
		return a.op.Priority > b.op.Priority
	}
	return a.op.Seq < b.op.Seq
}

func (h *opHeap) push(e *entry) { heap.Push(h, e) }

func (h *opHeap) pop() *entry { return heap.Pop(h).(*entry) }

// remove takes e out of the heap; it reports whether e was in it.
func (h *opHeap) remove(e *entry) bool {
	if e.index < 0 || e.index >= len(*h) || (*h)[e.index] != e {
		return false
	}
	heap.Remove(h, e.index)
	return true
}

// position is e's place in the run order: the number of entries that run
// before it. It is O(n), which is fine for the bounded lanes (max_size).
func (h opHeap) position(e *entry) int {
	n := 0
	for _, other := range h {
		if other != e && runsBefore(other, e) {
			n++
		}
	}
	return n
}
