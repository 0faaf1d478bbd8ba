package queue

// The queue's tests are package queue_test, because they use queuetest,
// which imports queue. What a few of them check inside a Queue — what it
// still holds in memory, that its goroutines have returned, that an
// Exclusive action waits — is reached
// through here, in the test binary only, so that Queue keeps no accessor
// for tests.

// StuckGrace is stuckGrace, for the test that advances the clock past it.
const StuckGrace = stuckGrace

// WaitWorkers returns when every goroutine Start started has returned.
func (q *Queue) WaitWorkers() { q.workers.Wait() }

// Held returns, read at one moment, the ids of the operations q holds in
// memory and how many of those are finished ones awaiting eviction.
func (q *Queue) Held() (ids map[string]bool, finished int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids = make(map[string]bool, len(q.ops))
	for id := range q.ops {
		ids[id] = true
	}
	return ids, len(q.finished) - q.finishedAt
}

// ExclusiveWaiting is how many Exclusive actions wait for the terminal of
// the lane named terminal.
func (q *Queue) ExclusiveWaiting(terminal string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lanes[terminal].exclusiveWaiting
}
