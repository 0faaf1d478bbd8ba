package queue

import "container/heap"

// opHeap orders a lane's queued entries: higher priority first, then lower
// Seq (FIFO within a priority). Each entry knows its index so that cancel
// and expiry remove it in O(log n). It counts its entries by priority so
// that a new entry's place in the run order is known without a scan.
type opHeap struct {
	entries    []*entry
	byPriority [MaxPriority + 1]int
	// maxSeq is the highest Seq ever pushed at each priority: an entry
	// above it is the last of its priority.
	maxSeq [MaxPriority + 1]uint64
}

// heap.Interface, for container/heap only.

func (h *opHeap) Len() int { return len(h.entries) }

func (h *opHeap) Less(i, j int) bool { return runsBefore(h.entries[i], h.entries[j]) }

func (h *opHeap) Swap(i, j int) {
	h.entries[i], h.entries[j] = h.entries[j], h.entries[i]
	h.entries[i].index = i
	h.entries[j].index = j
}

func (h *opHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(h.entries)
	h.entries = append(h.entries, e)
	h.byPriority[e.op.Priority]++
}

func (h *opHeap) Pop() any {
	n := len(h.entries)
	e := h.entries[n-1]
	h.entries[n-1] = nil
	h.entries = h.entries[:n-1]
	e.index = -1
	h.byPriority[e.op.Priority]--
	return e
}

// runsBefore reports whether a is taken before b.
func runsBefore(a, b *entry) bool {
	if a.op.Priority != b.op.Priority {
		return a.op.Priority > b.op.Priority
	}
	return a.op.Seq < b.op.Seq
}

// push queues e and returns its place in the run order (0 runs next).
func (h *opHeap) push(e *entry) int {
	last := e.op.Seq > h.maxSeq[e.op.Priority]
	h.maxSeq[e.op.Priority] = max(h.maxSeq[e.op.Priority], e.op.Seq)
	heap.Push(h, e)
	if !last {
		// Submits that raced past each other: rare, so a scan will do.
		return h.position(e)
	}
	n := h.byPriority[e.op.Priority] - 1
	for p := e.op.Priority + 1; p <= MaxPriority; p++ {
		n += h.byPriority[p]
	}
	return n
}

func (h *opHeap) pop() *entry { return heap.Pop(h).(*entry) }

// remove takes e out of the heap; it reports whether e was in it.
func (h *opHeap) remove(e *entry) bool {
	if e.index < 0 || e.index >= len(h.entries) || h.entries[e.index] != e {
		return false
	}
	heap.Remove(h, e.index)
	return true
}

// position is e's place in the run order: the number of entries that run
// before it, by a scan.
func (h *opHeap) position(e *entry) int {
	n := 0
	for _, other := range h.entries {
		if other != e && runsBefore(other, e) {
			n++
		}
	}
	return n
}
