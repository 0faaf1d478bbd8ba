package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// lane is one terminal's queue and its single worker. Its fields are
// guarded by Queue.mu; only the worker goroutine runs operations.
type lane struct {
	name string
	exec Executor
	heap opHeap
	// waiting holds the queued entries whose NotBefore is ahead: they are
	// not in the run order, so they neither run early nor hold up the
	// others; each one's start timer moves it into heap.
	waiting map[*entry]struct{}
	// reserved counts submits whose journal write is under way: they
	// count towards MaxSize so that concurrent submits cannot overfill it.
	reserved int
	paused   bool
	stopping bool
	current  *entry // the entry being executed, nil when none
	// handoff is an entry Submit started at once on the idle lane: its
	// submit journaled it as running, and the worker runs it next, even
	// when the lane is paused or stopping meanwhile (it is running).
	handoff *entry
	// exclusiveWaiting counts the Exclusive actions waiting for the
	// terminal: while one waits, the worker does not hand over from one
	// operation to the next without letting go of the terminal.
	exclusiveWaiting int
	// stuck is the run whose driver outlived its deadline and has not
	// returned: nothing else may use the terminal. Nil when none.
	stuck *stuckRun
	// blockedBy says why a failed journal write paused the lane; "" when
	// none did. Resume clears it.
	blockedBy string
	counts    Counts // Success, Failed, Cancelled since start
	state     LaneState
	wake      chan struct{} // buffered(1): "look at the heap again"
	// terminal is held (buffered(1)) by whoever uses the terminal: the
	// worker while an executor runs, or an Exclusive action.
	terminal chan struct{}
}

// count adds a finished operation to the lane's counts.
func (l *lane) count(s Status) {
	switch s {
	case StatusSuccess:
		l.counts.Success++
	case StatusFailed:
		l.counts.Failed++
	case StatusCancelled:
		l.counts.Cancelled++
	}
}

// signal wakes the worker without blocking.
func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// currentState derives the lane's state. Called with Queue.mu held.
func (l *lane) currentState() LaneState {
	switch {
	case l.stuck != nil:
		return LaneStuck
	case l.blockedBy != "":
		return LaneBlocked
	case l.current != nil:
		return LaneRunning
	case l.stopping:
		return LaneStopped
	case l.paused:
		return LanePaused
	default:
		return LaneIdle
	}
}

// noteState tells the observer when the lane's state changed. Called with
// Queue.mu held.
func (q *Queue) noteState(l *lane) {
	if s := l.currentState(); s != l.state {
		l.state = s
		q.post(event{lane: l.name, state: s})
	}
}

// work is a lane's worker: it runs the lane's operations one at a time,
// highest priority first, until Shutdown.
func (q *Queue) work(l *lane) {
	for q.awaitWork(l) {
		// An Exclusive action (a reconnect) may hold the terminal. Wait for
		// it before claiming anything, so that the queue stays cancellable
		// and pausable meanwhile.
		l.terminal <- struct{}{}
		// run hands over to the next operation when the journal could
		// record one's end and the other's start together.
		e, started := q.takeHandoff(l)
		if e == nil {
			e = q.claim(l)
		}
		for e != nil {
			e, started = q.run(l, e, started)
		}
		<-l.terminal
	}
}

// awaitWork blocks until the lane may start an operation; false when the
// lane is stopping.
func (q *Queue) awaitWork(l *lane) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		q.noteState(l)
		if l.handoff != nil {
			return true
		}
		if l.stopping {
			return false
		}
		if !l.paused && l.heap.Len() > 0 {
			return true
		}
		q.mu.Unlock()
		<-l.wake
		q.mu.Lock()
	}
}

// takeHandoff takes the entry Submit started at once, once its submit is
// durable; nil when there is none or its journal write failed (Submit has
// freed the lane then).
func (q *Queue) takeHandoff(l *lane) (*entry, bool) {
	q.mu.Lock()
	e := l.handoff
	l.handoff = nil
	q.mu.Unlock()
	if e == nil {
		return nil, false
	}
	<-e.acked
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.ackErr != nil || l.current != e {
		return nil, false
	}
	return e, true
}

// claim takes the lane's next operation, unless the lane was paused,
// emptied or stopped meanwhile (then nil). From here on nobody may cancel
// it; it shows as running.
func (q *Queue) claim(l *lane) *entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !l.stopping && !l.paused && l.heap.Len() > 0 {
		e := l.heap.pop()
		if !e.op.ExpireAt.IsZero() && !q.clock.Now().Before(e.op.ExpireAt) {
			// Its expiry timer has not fired yet; do its work here.
			final := q.beginSettle(e, StatusCancelled, CodeExpired, "expired before it started (expire_after)", Result{})
			q.mu.Unlock()
			q.commitSettle(q.runCtx, e, final)
			q.mu.Lock()
			continue
		}
		if e.expiry != nil {
			e.expiry.Stop()
		}
		e.settling = true
		e.op.Status = StatusRunning
		l.current = e
		q.noteState(l)
		return e
	}
	return nil
}

// outcome is what an executor gave back.
type outcome struct {
	res Result
	err error
}

// run executes one claimed entry: journal "running" first (unless the
// handover from the previous operation did: journaled), then execute
// within the deadline, then journal the final state. The lane takes nothing
// else until the executor has returned, even after a timeout. It returns
// the lane's next operation when it could hand over to it: that one is
// claimed and journaled as running in the same commit as this one's end.
func (q *Queue) run(l *lane, e *entry, journaled bool) (next *entry, nextJournaled bool) {
	defer func() {
		if next == nil {
			q.mu.Lock()
			l.current = nil
			q.noteState(l)
			q.mu.Unlock()
		}
	}()

	// An operation with a side effect is journaled as running before its
	// driver is called: after a crash it is then known to have started and
	// is never run again. One without (a query) skips that write, a third
	// of its journal cost: found queued after a crash, it simply runs
	// again, which changes nothing. Its start time is journaled with its
	// outcome.
	started := q.clock.Now()
	if journaled {
		started = e.op.StartedAt
	} else if e.op.SideEffect {
		if err := q.store.MarkRunning(context.WithoutCancel(q.runCtx), e.op.ID, started); err != nil {
			q.unclaim(l, e, err)
			return nil, false
		}
	}
	q.mu.Lock()
	e.op.StartedAt = started
	op := e.op
	q.noteOperation(op)
	q.mu.Unlock()

	timeout := op.Timeout
	if timeout <= 0 {
		timeout = q.cfg.DefaultTimeout
	}
	// The journal writes the driver makes under this ctx commit with the
	// outcome (WriteHolder), and the outcome is journaled with a ctx
	// derived from it.
	parent := q.runCtx
	if wh, ok := q.store.(WriteHolder); ok {
		parent = wh.HoldWrites(parent)
	}
	ctx, cancel := q.withTimeout(parent, timeout)
	defer cancel()

	results := make(chan outcome, 1)
	go func() { results <- q.execute(ctx, l, op) }()

	var out outcome
	select {
	case out = <-results:
	case <-ctx.Done():
		select {
		case out = <-results: // it gave up with the deadline, as it should
		default:
			q.finish(ctx, e, outcome{err: context.Cause(ctx)})
			q.waitStuck(l, e, results)
			return nil, false
		}
	}
	final := q.finalState(ctx, e, out)
	if next = q.handover(ctx, l, e, final); next != nil {
		return next, true
	}
	q.commitSettle(ctx, e, final)
	return nil, false
}

// handover records e's end and the start of the lane's next operation in
// one commit, when the journal can (Handover) and the next one has a side
// effect (a query needs no running record). It returns the next operation,
// claimed and journaled as running, and e settled; nil when it did not
// hand over, e still to be settled. An Exclusive action waiting for the
// terminal is let in first: a backlog must not keep it out.
func (q *Queue) handover(ctx context.Context, l *lane, e *entry, final Operation) *entry {
	h, ok := q.store.(Handover)
	if !ok {
		return nil
	}
	q.mu.Lock()
	if l.exclusiveWaiting > 0 || l.stopping || l.paused || l.heap.Len() == 0 || !l.heap.peek().op.SideEffect {
		q.mu.Unlock()
		return nil
	}
	q.mu.Unlock()
	next := q.claim(l)
	if next == nil {
		return nil
	}
	if !next.op.SideEffect { // an expired one gave way to a query
		q.requeue(l, next)
		return nil
	}
	started := q.clock.Now()
	if err := h.FinishAndStart(context.WithoutCancel(ctx), final, next.op.ID, started); err != nil {
		// Nothing of either was recorded: the next one goes back, and e is
		// settled alone (retried, and the lane blocked if that fails too).
		q.log.Warn("journal the handover to the next operation", "operation_id", final.ID, "next", next.op.ID, "err", err)
		q.requeue(l, next)
		return nil
	}
	q.mu.Lock()
	next.op.StartedAt = started
	q.mu.Unlock()
	q.endSettle(e, final)
	return next
}

// requeue puts a claimed entry back in its lane's heap, unstarted.
func (q *Queue) requeue(l *lane, e *entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e.settling = false
	e.op.Status = StatusQueued
	l.current = nil
	l.heap.push(e, l.heap.mark())
	if !e.op.ExpireAt.IsZero() {
		e.expiry = q.clock.AfterFunc(e.op.ExpireAt.Sub(q.clock.Now()), func() { q.expire(e) })
	}
	q.noteState(l)
	l.signal()
}

// unclaim puts back an operation whose running record could not be
// written, and blocks the lane: without that record a crash could run it
// twice, and a journal that cannot record it cannot record the rest either.
// The operation stays queued (as the journal says); Resume retries.
func (q *Queue) unclaim(l *lane, e *entry, err error) {
	q.requeue(l, e)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.block(l, fmt.Sprintf("the journal could not record operation %s as running (%v): it was not executed and is still queued; the lane is paused until the journal is writable and the lane is resumed", e.op.ID, err))
}

// block pauses a lane because the journal failed, saying why. Called with
// q.mu held.
func (q *Queue) block(l *lane, why string) {
	l.paused = true
	l.blockedBy = why
	q.noteState(l)
	q.log.Error("lane blocked", "terminal", l.name, "reason", why)
}

// stuckRun is an operation failed for its deadline whose driver has not
// returned.
type stuckRun struct {
	id, name string
	deadline time.Time // when it passed its deadline
}

func (r *stuckRun) String() string {
	return fmt.Sprintf("operation %s (%s) passed its deadline at %s and its driver has not returned",
		r.id, r.name, r.deadline.UTC().Format(time.RFC3339))
}

// stuckGrace is how long after its deadline a driver may return before the
// log calls its lane stuck.
const stuckGrace = time.Second

// waitStuck waits for an executor that outlived its deadline: its operation
// has been failed already, but the terminal is not free until it returns.
func (q *Queue) waitStuck(l *lane, e *entry, results <-chan outcome) {
	// A driver that returns just after its deadline (the common case: it
	// noticed the cancelled ctx a moment late) never made the lane stuck
	// in any sense a person reading the log cares about: say so only once
	// it is still out after stuckGrace. (The timer is set before the lane
	// shows stuck, so that whoever sees it stuck can move time past it.)
	graceOver := make(chan struct{})
	grace := q.clock.AfterFunc(stuckGrace, func() { close(graceOver) })
	q.mu.Lock()
	l.stuck = &stuckRun{id: e.op.ID, name: e.op.Name, deadline: q.clock.Now()}
	q.noteState(l)
	q.mu.Unlock()

	var late outcome
	select {
	case late = <-results:
		grace.Stop()
	case <-graceOver:
		q.log.Warn("lane is stuck: driver has not returned after the deadline; nothing else runs on this terminal until it does",
			"terminal", l.name, "operation_id", e.op.ID, "name", e.op.Name, "still_out_after", stuckGrace)
		late = <-results
	}

	q.mu.Lock()
	l.stuck = nil
	q.mu.Unlock()
	if late.err == nil {
		q.log.Error("driver finished after the operation was failed for its deadline: check the account",
			"terminal", l.name, "operation_id", e.op.ID, "name", e.op.Name, "message", late.res.Message)
	} else {
		q.log.Warn("driver returned after the deadline", "terminal", l.name, "operation_id", e.op.ID, "err", late.err)
	}
}

// execute calls the executor, turning a panic into an internal failure.
func (q *Queue) execute(ctx context.Context, l *lane, op Operation) (out outcome) {
	defer func() {
		if v := recover(); v != nil {
			q.log.Error("executor panicked", "terminal", l.name, "operation_id", op.ID, "name", op.Name,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			out = outcome{err: &codedError{code: CodeInternal, msg: fmt.Sprintf("internal error: %v", v)}}
		}
	}()
	res, err := l.exec(ctx, op)
	return outcome{res: res, err: err}
}

// finish settles a run entry with its outcome.
func (q *Queue) finish(ctx context.Context, e *entry, out outcome) {
	q.commitSettle(ctx, e, q.finalState(ctx, e, out))
}

// finalState is the final state a run entry's outcome gives it.
func (q *Queue) finalState(ctx context.Context, e *entry, out outcome) Operation {
	q.mu.Lock()
	defer q.mu.Unlock()
	if out.err == nil {
		return q.beginSettle(e, StatusSuccess, "", "", out.res)
	}
	code := errorCode(ctx, out.err, e.op.SideEffect)
	return q.beginSettle(e, StatusFailed, code, errorMessage(code, out.err), out.res)
}

// errorCode classifies an executor's error. A deadline or shutdown makes an
// operation with side effects outcome_unknown: it may have reached the
// broker, so it must be reconciled, never retried blindly.
func errorCode(ctx context.Context, err error, sideEffect bool) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() != "" {
		return coded.ErrorCode()
	}
	if ctx.Err() != nil {
		if sideEffect {
			return CodeOutcomeUnknown
		}
		if errors.Is(context.Cause(ctx), errShutdown) {
			return CodeInterrupted
		}
		return CodeTimeout
	}
	return CodeInternal
}

func errorMessage(code string, err error) string {
	switch {
	case errors.Is(err, errShutdown):
		return "interrupted by shutdown: " + err.Error()
	case code == CodeOutcomeUnknown && errors.Is(err, context.DeadlineExceeded):
		return "deadline passed while the terminal was working: the outcome is unknown, check the account before retrying"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline passed before the terminal answered"
	}
	return err.Error()
}

// codedError is an error with a code, for the queue's own failures.
type codedError struct{ code, msg string }

func (e *codedError) Error() string     { return e.msg }
func (e *codedError) ErrorCode() string { return e.code }

// withTimeout gives an execution its deadline from the queue's clock, so a
// fake clock decides when it passes. A clock that makes deadline contexts
// itself (the wall clock) does, so that drivers see ctx.Deadline.
func (q *Queue) withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dc, ok := q.clock.(DeadlineClock); ok {
		return dc.WithTimeout(parent, d)
	}
	ctx, cancel := context.WithCancelCause(parent)
	t := q.clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// Exclusive runs fn with the terminal to itself: it waits until the lane's
// running operation (if any) has returned, and no operation starts until fn
// returns. Actions on a terminal from outside the queue, such as a
// reconnect, go through it so that nothing ever overlaps on a terminal.
// When ctx ends first, fn is not called and the error says what holds the
// terminal.
func (q *Queue) Exclusive(ctx context.Context, terminal string, fn func(ctx context.Context) error) error {
	l, err := q.lane(terminal)
	if err != nil {
		return err
	}
	q.mu.Lock()
	l.exclusiveWaiting++
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		l.exclusiveWaiting--
		q.mu.Unlock()
	}()
	select {
	case l.terminal <- struct{}{}:
	case <-ctx.Done():
		q.mu.Lock()
		why := "an operation is running"
		if l.stuck != nil {
			why = l.stuck.String()
		} else if l.current != nil {
			why = fmt.Sprintf("operation %s (%s) is running", l.current.op.ID, l.current.op.Name)
		}
		q.mu.Unlock()
		return fmt.Errorf("terminal %s is busy: %s: %w", l.name, why, ctx.Err())
	}
	defer func() { <-l.terminal }()
	return fn(ctx)
}

// Pause holds a lane (or every lane when terminal is ""): the running
// operation finishes, nothing new starts until Resume. The pause is
// journaled, so it holds across restarts; when the journal fails the lane
// is paused all the same and the error says it will not outlive a restart.
func (q *Queue) Pause(ctx context.Context, terminal string) error {
	return q.setPaused(ctx, terminal, pausing)
}

// Resume releases a paused lane (or every lane when terminal is ""),
// including one the journal's failure blocked.
func (q *Queue) Resume(ctx context.Context, terminal string) error {
	return q.setPaused(ctx, terminal, resuming)
}

// pauseChange is what setPaused does to a lane.
type pauseChange bool

const (
	pausing  pauseChange = true
	resuming pauseChange = false
)

func (c pauseChange) String() string {
	if c == pausing {
		return "paused"
	}
	return "resumed"
}

func (q *Queue) setPaused(ctx context.Context, terminal string, change pauseChange) error {
	paused := change == pausing
	names := q.laneOrder
	if terminal != "" {
		if _, ok := q.lanes[terminal]; !ok {
			return fmt.Errorf("%w %q", ErrUnknownTerminal, terminal)
		}
		names = []string{terminal}
	}
	q.mu.Lock()
	for _, name := range names {
		l := q.lanes[name]
		l.paused = paused
		if !paused {
			l.blockedBy = "" // the operator says the journal is fixed: try again
		}
		q.noteState(l)
		l.signal()
	}
	q.mu.Unlock()
	var errs []error
	for _, name := range names {
		if err := q.store.SetPaused(ctx, name, paused); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the lane is %s now, but the journal could not record it, so a restart will not remember it: %w: %w",
			change, ErrJournal, err)
	}
	return nil
}

// Stats counts the operations overall and per lane.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	var s Stats
	for _, name := range q.laneOrder {
		l := q.lanes[name]
		ls := LaneStats{Counts: l.counts, Terminal: name, Paused: l.paused, State: l.currentState(), Blocked: l.blockedBy}
		if l.stuck != nil {
			ls.StuckOn = l.stuck.String()
		}
		ls.Queued = l.heap.Len() + len(l.waiting) + l.reserved
		ls.Scheduled = len(l.waiting)
		if l.current != nil && l.stuck == nil {
			ls.Running = 1
			ls.Current = l.current.op.ID
		}
		s.add(ls.Counts)
		s.Lanes = append(s.Lanes, ls)
	}
	return s
}
