package queue

// Block pauses every lane because the journal cannot be trusted any more
// (found damaged while running), saying why: the lanes show as blocked in
// Stats, and nothing else starts, not even an operation already queued.
// Resume releases a lane, as it does one a failed journal write blocked.
func (q *Queue) Block(why string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, name := range q.laneOrder {
		q.block(q.lanes[name], why)
	}
}
