package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Operations held until their not_before, and the hooks the risk limits and
// the kill switch use.

// Admission may refuse a new operation: the risk limits and the kill
// switch. Admit is called with the queue's lock held, once per new
// operation (never for an idempotent replay), with the operation as it will
// be journaled; it must be quick and must not call back into the queue. An
// error refuses the submit and is returned by Submit as it is. When the
// operation is admitted but its journal write then fails, undo (if not nil)
// is called.
type Admission interface {
	Admit(op Operation) (undo func(), err error)
	// Revoked is asked, with the lock held, as an admitted operation
	// whose journal write has just finished is about to enter its lane:
	// an error (the kill switch was pulled meanwhile) cancels it instead
	// of queueing it, the cancel is journaled, and Submit returns the
	// cancelled operation with the error. So nothing admitted before a
	// halt slips into the lane after the halt's sweep.
	Revoked(op Operation) error
}

// revoke cancels a just-journaled entry that Admission revoked. Called
// with q.mu held; it releases it.
func (q *Queue) revoke(e *entry, why error) (Submitted, error) {
	q.ops[e.op.ID] = e
	code := CodeCancelled
	var coded interface{ ErrorCode() string }
	if errors.As(why, &coded) && coded.ErrorCode() != "" {
		code = coded.ErrorCode()
	}
	final := q.beginSettle(e, StatusCancelled, code, "cancelled before it was queued: "+why.Error(), Result{})
	close(e.acked)
	q.mu.Unlock()
	q.commitSettle(q.runCtx, e, final)
	<-e.done // the observers know it before the caller does
	return Submitted{Operation: final, Position: -1}, why
}

// holdBack puts e beside its lane's heap when its NotBefore is still ahead,
// with a timer from the queue's clock that moves it into the run order
// then; it reports whether it did. Called with q.mu held.
func (q *Queue) holdBack(e *entry) bool {
	if e.op.NotBefore.IsZero() {
		return false
	}
	wait := e.op.NotBefore.Sub(q.clock.Now())
	if wait <= 0 {
		return false
	}
	e.waiting = true
	e.lane.waiting[e] = struct{}{}
	e.start = q.clock.AfterFunc(wait, func() { q.release(e) })
	return true
}

// release moves a held entry into its lane's run order when its NotBefore
// has come.
func (q *Queue) release(e *entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || !e.waiting {
		return
	}
	e.waiting = false
	delete(e.lane.waiting, e)
	e.start = nil
	e.lane.heap.push(e, e.lane.heap.mark())
	q.noteOperation(e.op)
	e.lane.signal()
}

// unqueue takes a queued entry out of its lane, whether it is in the run
// order or held back; it reports whether it was in either. Called with
// q.mu held.
func (q *Queue) unqueue(e *entry) bool {
	if e.waiting {
		e.waiting = false
		delete(e.lane.waiting, e)
		if e.start != nil {
			e.start.Stop()
			e.start = nil
		}
		return true
	}
	return e.lane.heap.remove(e)
}

// dueSince is when a queued operation became due to run: its submission,
// or its not_before when that is later. Recovery measures resume_max_age
// from it, so that an operation scheduled for after a restart is not
// expired for having been submitted long before.
func dueSince(op Operation) time.Time {
	if op.NotBefore.After(op.SubmittedAt) {
		return op.NotBefore
	}
	return op.SubmittedAt
}

// CancelQueued cancels every queued operation of terminal that match
// accepts (the kill switch: its orders), whether in the run order or held
// back for a not_before, with the given code and message; running
// operations are left to finish. It returns the operations it cancelled.
func (q *Queue) CancelQueued(ctx context.Context, terminal string, match func(Operation) bool, code, msg string) ([]Operation, error) {
	l, err := q.lane(terminal)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	var picked []*entry
	for _, e := range l.heap.entries {
		if !e.settling && match(e.op) {
			picked = append(picked, e)
		}
	}
	for e := range l.waiting {
		if !e.settling && match(e.op) {
			picked = append(picked, e)
		}
	}
	q.mu.Unlock()

	var cancelled []Operation
	var errs []error
	for _, e := range picked {
		op, err := q.cancelWith(ctx, e, code, msg)
		switch {
		case errors.Is(err, ErrNotCancellable): // it started or ended meanwhile
		case err != nil:
			errs = append(errs, err)
		default:
			cancelled = append(cancelled, op)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cancelled, fmt.Errorf("cancel the queued operations of %s: %w", terminal, err)
	}
	return cancelled, nil
}

// cancelWith cancels one queued entry with a code and message, as Cancel
// does for a client.
func (q *Queue) cancelWith(ctx context.Context, e *entry, code, msg string) (Operation, error) {
	q.mu.Lock()
	if e.op.Status != StatusQueued || e.settling || !q.unqueue(e) {
		op := e.op
		q.mu.Unlock()
		return op, ErrNotCancellable
	}
	final := q.beginSettle(e, StatusCancelled, code, msg, Result{})
	q.mu.Unlock()
	if err := q.store.Finish(ctx, final); err != nil {
		q.mu.Lock()
		e.settling = false
		if !q.closed && !q.holdBack(e) {
			e.lane.heap.push(e, e.lane.heap.mark())
			e.lane.signal()
		}
		op := e.op
		q.mu.Unlock()
		return op, fmt.Errorf("journal the cancel of %s (it is still queued): %w", e.op.ID, err)
	}
	q.endSettle(e, final)
	return final, nil
}
