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
	// recent holds the last pushes (pushes counts them all), so that an
	// entry whose journal write finished after later submits' knows which
	// of them went in before it.
	recent [recentPushes]*entry
	pushes uint64
}

// recentPushes bounds the racing submits whose positions are counted
// without a scan: more than the clients that submit at once.
const recentPushes = 512

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

// mark is taken when an entry's Seq is given, before its journal write:
// push then knows which pushes came in meanwhile.
func (h *opHeap) mark() uint64 { return h.pushes }

// push queues e and returns its place in the run order (0 runs next). Its
// place is counted, not scanned for: the entries of higher priority, plus
// those of its own, less those of its own with a later Seq (submits whose
// journal write finished before e's, so pushed since e's mark).
func (h *opHeap) push(e *entry, mark uint64) int {
	prio := e.op.Priority
	last := e.op.Seq > h.maxSeq[prio]
	h.maxSeq[prio] = max(h.maxSeq[prio], e.op.Seq)
	heap.Push(h, e)
	h.recent[h.pushes%recentPushes] = e
	h.pushes++

	n := h.byPriority[prio] - 1
	for p := prio + 1; p <= MaxPriority; p++ {
		n += h.byPriority[p]
	}
	if last {
		return n
	}
	since := h.pushes - 1 - mark // pushes between e's mark and e's own
	if since >= recentPushes {
		return h.position(e) // more racers than remembered: scan
	}
	for i := uint64(1); i <= since; i++ {
		other := h.recent[(h.pushes-1-i)%recentPushes]
		if other.op.Priority == prio && other.op.Seq > e.op.Seq && h.holds(other) {
			n--
		}
	}
	return n
}

// holds reports whether e is queued in h now.
func (h *opHeap) holds(e *entry) bool {
	return e.index >= 0 && e.index < len(h.entries) && h.entries[e.index] == e
}

func (h *opHeap) pop() *entry { return heap.Pop(h).(*entry) }

// peek is the entry pop would take; the heap must not be empty.
func (h *opHeap) peek() *entry { return h.entries[0] }

// remove takes e out of the heap; it reports whether e was in it.
func (h *opHeap) remove(e *entry) bool {
	if !h.holds(e) {
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
