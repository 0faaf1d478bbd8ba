package queue

import (
	"context"
	"encoding/json"
)

// Amend records what was learnt about a finished operation after it ended
// — an order whose outcome was unknown, found (or confirmed absent) at the
// venue later — as its new result and message. Its status and error code
// stay what they were: the answer a waiter already had is not rewritten,
// only completed. The journal is written first; the operation in memory
// (if it is still there) and the observers follow.
func (q *Queue) Amend(ctx context.Context, id string, result json.RawMessage, message string) error {
	q.mu.Lock()
	if e, ok := q.ops[id]; ok && (!e.op.Status.Final() || e.settling) {
		q.mu.Unlock()
		return ErrNotFinished
	}
	q.mu.Unlock()
	if err := q.store.Amend(ctx, id, result, message); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.ops[id]; ok {
		e.op.Result, e.op.Message = result, message
		q.noteOperation(e.op)
	}
	return nil
}
