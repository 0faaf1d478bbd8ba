package queue

import (
	"context"
	"fmt"
	"time"
)

// Recovery tells what Recover found in the journal.
type Recovery struct {
	Resumed     int // queued operations back in their lanes
	Expired     int // queued operations too old to run now
	Interrupted int // operations that were running at the crash
	Cancelled   int // queued for a terminal no longer configured
}

// Recover loads the journal's unfinished operations before Start. Queued
// ones return to their lanes in their original order, unless they are older
// than ResumeMaxAge or past their expire_after (then cancelled/expired).
// Running ones end failed/interrupted and are never executed again: the
// order may already be at the broker, and only a person can tell.
func (q *Queue) Recover(ctx context.Context) (Recovery, error) {
	var rec Recovery
	top, err := q.store.MaxSeq(ctx)
	if err != nil {
		return rec, fmt.Errorf("read the journal's last sequence number: %w", err)
	}
	q.mu.Lock()
	q.seq = max(q.seq, top)
	q.mu.Unlock()
	paused, err := q.store.PausedLanes(ctx)
	if err != nil {
		return rec, fmt.Errorf("read paused lanes: %w", err)
	}
	for _, name := range paused {
		if l, ok := q.lanes[name]; ok {
			q.mu.Lock()
			l.paused = true
			q.mu.Unlock()
			q.log.Warn("lane is paused, as it was left: its queue waits until it is resumed", "terminal", name)
		}
	}
	ops, err := q.store.Unfinished(ctx)
	if err != nil {
		return rec, fmt.Errorf("load unfinished operations: %w", err)
	}
	now := q.clock.Now()
	for _, op := range ops {
		l, known := q.lanes[op.Terminal]

		var final Operation
		switch {
		case op.Status == StatusRunning:
			final = settled(op, StatusFailed, CodeInterrupted,
				"interrupted: brokerd stopped while this operation was running; it was not retried — check the account", now)
			q.log.Error("operation was running when brokerd stopped; marked interrupted and NOT executed again: check the account",
				"operation_id", op.ID, "name", op.Name, "terminal", op.Terminal, "params", string(op.Params))
			rec.Interrupted++
		case !known:
			final = settled(op, StatusCancelled, CodeCancelled,
				fmt.Sprintf("terminal %q is no longer configured", op.Terminal), now)
			q.log.Warn("queued operation for a terminal no longer configured: cancelled", "operation_id", op.ID, "terminal", op.Terminal)
			rec.Cancelled++
		case !op.ExpireAt.IsZero() && !now.Before(op.ExpireAt),
			now.Sub(dueSince(op)) > q.cfg.ResumeMaxAge:
			final = settled(op, StatusCancelled, CodeExpired,
				"expired: still queued at restart and older than resume_max_age or its expire_after", now)
			q.log.Warn("queued operation expired at restart", "operation_id", op.ID, "name", op.Name,
				"terminal", op.Terminal, "submitted_at", op.SubmittedAt)
			rec.Expired++
		default:
			e := &entry{op: op, lane: l, index: -1, done: make(chan struct{}), acked: make(chan struct{})}
			close(e.acked)
			q.mu.Lock()
			if op.IdempotencyKey != "" {
				q.keys[keyRef{op.Terminal, op.IdempotencyKey}] = e
			}
			q.enqueue(e)
			q.mu.Unlock()
			rec.Resumed++
			continue
		}
		if err := q.store.Finish(ctx, final); err != nil {
			return rec, fmt.Errorf("journal recovered operation %s: %w", op.ID, err)
		}
		if known {
			q.mu.Lock()
			l.count(final.Status)
			q.noteOperation(final)
			q.mu.Unlock()
		}
	}
	return rec, nil
}

func settled(op Operation, status Status, code, msg string, now time.Time) Operation {
	op.Status = status
	op.ErrorCode = code
	op.Error = msg
	op.FinishedAt = now
	return op
}
