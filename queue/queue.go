package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config sets the queue's limits. Zero values take the defaults.
type Config struct {
	// MaxSize bounds the queued operations of each lane (default 1000).
	MaxSize int
	// DefaultTimeout bounds an execution without its own timeout (30s).
	DefaultTimeout time.Duration
	// ResultTTL keeps finished operations in memory (3h); after that they
	// are answered from the Store.
	ResultTTL time.Duration
	// MaxFinished bounds how many finished operations stay in memory
	// (100,000), so that a burst within ResultTTL cannot grow the heap
	// without limit; the oldest go first, and the Store still answers.
	MaxFinished int
	// KeyTTL is how long an idempotency key is remembered (24h).
	KeyTTL time.Duration
	// ResumeMaxAge: at recovery, queued operations older than this expire
	// instead of running (0 means 10m; negative: none resumes).
	ResumeMaxAge time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxSize <= 0 {
		c.MaxSize = 1000
	}
	if c.DefaultTimeout <= 0 {
		c.DefaultTimeout = 30 * time.Second
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 3 * time.Hour
	}
	if c.MaxFinished <= 0 {
		c.MaxFinished = 100_000
	}
	if c.KeyTTL < 24*time.Hour {
		c.KeyTTL = 24 * time.Hour
	}
	if c.ResumeMaxAge == 0 {
		c.ResumeMaxAge = 10 * time.Minute
	}
	return c
}

// Lane names a terminal and the executor that works on it.
type Lane struct {
	Terminal string
	Execute  Executor
}

// Deps are the queue's collaborators. Clock and Store are required.
type Deps struct {
	Clock    Clock
	Store    Store
	Observer Observer     // nil: nobody is told
	Logger   *slog.Logger // nil: discard
	// Admission, when set, may refuse a new operation (the risk limits)
	// after an idempotent replay has been ruled out and before the
	// journal write.
	Admission Admission
}

// Queue is the set of lanes with the operations they hold.
type Queue struct {
	cfg   Config
	clock Clock
	store Store
	obs   Observer
	log   *slog.Logger
	admit Admission

	// runCtx is the parent of every execution; Shutdown cancels it when
	// the running operations do not finish in time.
	runCtx    context.Context
	cancelRun context.CancelCauseFunc
	closing   chan struct{} // closed by Shutdown: waiters are released
	workers   sync.WaitGroup

	mu         sync.Mutex
	lanes      map[string]*lane
	laneOrder  []string
	ops        map[string]*entry // queued, running and recently finished
	keys       map[keyRef]*entry // idempotency keys of the entries in ops
	finished   []*entry          // in finish order, for eviction, from finishedAt
	finishedAt int
	seq        uint64
	// events wait for the observers; dispatching: a goroutine delivers
	// them (notify.go).
	events      []event
	dispatching bool
	closed      bool
	started     bool
	sweep       Timer
}

// entry is the queue's mutable record of one operation.
type entry struct {
	op    Operation // guarded by Queue.mu
	lane  *lane
	index int // in lane.heap, -1 when not queued there

	done  chan struct{} // closed when op is final and durable
	acked chan struct{} // closed when the submit is durable or has failed
	// ackErr is why the submit failed; read after acked is closed.
	ackErr error
	// mark is the lane's push count when its Seq was given (opHeap.push).
	mark uint64
	// settling: a final state is being journaled; nobody else may move it.
	settling bool
	// unjournaled: its final state is not in the journal, so it is never
	// evicted: only memory knows how it ended.
	unjournaled bool
	expiry      Timer
	// waiting: queued with a NotBefore still ahead, beside the lane's
	// heap (in lane.waiting) until start fires.
	waiting bool
	start   Timer
}

type keyRef struct{ terminal, key string }

// errShutdown is the cause given to executions cut short by Shutdown.
var errShutdown = errors.New("brokerd is shutting down")

// New builds a queue with one lane per terminal, in order: the first is the
// default. Call Recover (optional) and then Start.
func New(cfg Config, lanes []Lane, deps Deps) (*Queue, error) {
	if deps.Clock == nil || deps.Store == nil {
		return nil, errors.New("queue: clock and store are required")
	}
	if len(lanes) == 0 {
		return nil, errors.New("queue: at least one lane is required")
	}
	q := &Queue{
		cfg:     cfg.withDefaults(),
		clock:   deps.Clock,
		store:   deps.Store,
		obs:     deps.Observer,
		log:     deps.Logger,
		admit:   deps.Admission,
		closing: make(chan struct{}),
		lanes:   make(map[string]*lane, len(lanes)),
		ops:     make(map[string]*entry),
		keys:    make(map[keyRef]*entry),
	}
	if q.obs == nil {
		q.obs = nopObserver{}
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	q.runCtx, q.cancelRun = context.WithCancelCause(context.Background())
	for _, l := range lanes {
		if l.Terminal == "" || l.Execute == nil {
			return nil, errors.New("queue: a lane needs a terminal name and an executor")
		}
		if _, dup := q.lanes[l.Terminal]; dup {
			return nil, fmt.Errorf("queue: terminal %q is listed twice", l.Terminal)
		}
		q.lanes[l.Terminal] = &lane{name: l.Terminal, exec: l.Execute, waiting: make(map[*entry]struct{}), wake: make(chan struct{}, 1), terminal: make(chan struct{}, 1), state: LaneIdle}
		q.laneOrder = append(q.laneOrder, l.Terminal)
	}
	return q, nil
}

// Start starts one worker per lane and the eviction sweep. The workers run
// until Shutdown.
func (q *Queue) Start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	q.started = true
	for _, name := range q.laneOrder {
		l := q.lanes[name]
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			q.work(l)
		}()
	}
	q.armSweep()
}

// Terminals lists the lanes' terminals; the first is the default.
func (q *Queue) Terminals() []string { return append([]string(nil), q.laneOrder...) }

// Submit queues an operation once it is durable, or returns the operation an
// earlier submit with the same idempotency key made.
func (q *Queue) Submit(ctx context.Context, req Request) (Submitted, error) {
	if req.Priority < MinPriority || req.Priority > MaxPriority {
		return Submitted{}, ErrInvalidPriority
	}
	l, err := q.lane(req.Terminal)
	if err != nil {
		return Submitted{}, err
	}
	hash := payloadHash(l.name, req.Name, req.Params)
	if req.IdempotencyKey != "" {
		if s, found, err := q.replay(ctx, l, req.IdempotencyKey, hash); found || err != nil {
			return s, err
		}
	}

	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return Submitted{}, ErrClosed
	}
	ref := keyRef{l.name, req.IdempotencyKey}
	if req.IdempotencyKey != "" {
		if old, raced := q.keys[ref]; raced && !sentNothing(old.op) {
			// Another submit with this key got in between: answer as it.
			// (One that failed not_connected frees the key: replaced below.)
			q.mu.Unlock()
			return q.Submit(ctx, req)
		}
	}
	if l.heap.Len()+len(l.waiting)+l.reserved >= q.cfg.MaxSize {
		q.mu.Unlock()
		return Submitted{}, ErrQueueFull
	}
	now := q.clock.Now()
	q.seq++
	e := &entry{
		lane:  l,
		index: -1,
		done:  make(chan struct{}),
		acked: make(chan struct{}),
		op: Operation{
			ID:             uuid.Must(uuid.NewV7()).String(),
			Name:           req.Name,
			Terminal:       l.name,
			Params:         req.Params,
			Priority:       req.Priority,
			Status:         StatusQueued,
			SubmittedAt:    now,
			Timeout:        req.Timeout,
			SideEffect:     req.SideEffect,
			IdempotencyKey: req.IdempotencyKey,
			PayloadHash:    hash,
			Seq:            q.seq,
			Prepared:       req.Prepared,
		},
	}
	if req.ExpireAfter > 0 {
		e.op.ExpireAt = now.Add(req.ExpireAfter)
	}
	if req.NotBefore.After(now) {
		e.op.NotBefore = req.NotBefore
	}
	var undoAdmit func()
	if q.admit != nil {
		if undoAdmit, err = q.admit.Admit(e.op); err != nil {
			q.mu.Unlock()
			return Submitted{}, err
		}
	}
	startNow := q.startsAtOnce(l, e)
	if startNow {
		// The lane is idle: the operation is journaled as running with
		// its submit, one durable write instead of two, and the worker
		// runs it once that write is done (see startsAtOnce).
		e.op.Status = StatusRunning
		e.op.StartedAt = now
		e.settling = true
		l.current = e
		l.handoff = e
		q.noteState(l)
	}
	l.reserved++
	e.mark = l.heap.mark()
	if req.IdempotencyKey != "" {
		q.keys[ref] = e
	}
	q.mu.Unlock()

	// The acknowledgement waits for the journal; the lock does not.
	err = q.store.Append(ctx, e.op)

	q.mu.Lock()
	l.reserved--
	var revoked error
	if err == nil && q.admit != nil {
		revoked = q.admit.Revoked(e.op)
	}
	if startNow && (err != nil || revoked != nil) {
		// Not started after all: the lane is free again.
		if l.handoff == e {
			l.handoff = nil
		}
		if l.current == e {
			l.current = nil
		}
		e.settling = false
		q.noteState(l)
		l.signal()
	}
	if err != nil {
		if undoAdmit != nil {
			undoAdmit()
		}
		if req.IdempotencyKey != "" {
			delete(q.keys, ref)
		}
		e.ackErr = err
		close(e.acked)
		q.mu.Unlock()
		return Submitted{}, fmt.Errorf("journal the operation: %w: %w", ErrJournal, err)
	}
	if revoked != nil {
		return q.revoke(e, revoked)
	}
	var pos int
	op := e.op
	if startNow {
		// The answer and the observers see what every operation goes
		// through: queued (first in line), then running when the worker
		// takes it. Only the journal skips the queued record.
		op.Status, op.StartedAt = StatusQueued, time.Time{}
		q.ops[e.op.ID] = e
		q.noteOperation(op)
		l.signal()
	} else {
		pos = q.enqueue(e)
		op = e.op
	}
	close(e.acked)
	q.mu.Unlock()
	return Submitted{Operation: op, Position: pos}, nil
}

// startsAtOnce reports whether e, being submitted, can start at once on
// its lane: the queue has started, the lane is idle (nothing running,
// queued, being submitted, scheduled or waiting for the terminal, not
// paused), and e has a side effect (a query has no running record to
// save) and no not_before. Called with q.mu held.
func (q *Queue) startsAtOnce(l *lane, e *entry) bool {
	return q.started && !q.closed && e.op.SideEffect && e.op.NotBefore.IsZero() &&
		!l.paused && !l.stopping && l.current == nil && l.handoff == nil &&
		l.heap.Len() == 0 && len(l.waiting) == 0 && l.reserved == 0 &&
		l.exclusiveWaiting == 0 && len(l.terminal) == 0
}

// enqueue puts a durable entry in its lane and returns its place there.
// Called with q.mu held.
func (q *Queue) enqueue(e *entry) int {
	l := e.lane
	q.ops[e.op.ID] = e
	pos := -1
	if !q.holdBack(e) {
		pos = l.heap.push(e, e.mark)
	}
	if !e.op.ExpireAt.IsZero() {
		e.expiry = q.clock.AfterFunc(e.op.ExpireAt.Sub(q.clock.Now()), func() { q.expire(e) })
	}
	q.noteOperation(e.op)
	l.signal()
	return pos
}

// replay answers a submit whose idempotency key was seen before, in memory
// or in the journal. found is false when the key is new.
func (q *Queue) replay(ctx context.Context, l *lane, key, hash string) (s Submitted, found bool, err error) {
	q.mu.Lock()
	e, ok := q.keys[keyRef{l.name, key}]
	q.mu.Unlock()
	if ok {
		// The first submit may still be writing its journal record.
		select {
		case <-e.acked:
		case <-ctx.Done():
			return Submitted{}, true, ctx.Err()
		}
		if e.ackErr != nil {
			return Submitted{}, false, nil // it failed: this one is new
		}
		q.mu.Lock()
		op, pos := e.op, -1
		if e.index >= 0 {
			pos = l.heap.position(e)
		}
		q.mu.Unlock()
		if sentNothing(op) {
			return Submitted{}, false, nil // the key is free again: see sentNothing
		}
		return duplicate(op, pos, hash)
	}
	op, err := q.store.FindByKey(ctx, l.name, key, q.clock.Now().Add(-q.cfg.KeyTTL))
	if errors.Is(err, ErrNotFound) {
		return Submitted{}, false, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return Submitted{}, true, fmt.Errorf("look up idempotency key: %w", err)
		}
		return Submitted{}, true, fmt.Errorf("look up idempotency key: %w: %w", ErrJournal, err)
	}
	if sentNothing(op) {
		return Submitted{}, false, nil
	}
	return duplicate(op, -1, hash)
}

// CodeNotConnected is the error code of an operation that failed because
// its terminal was not connected: its driver provably sent nothing.
const CodeNotConnected = "not_connected"

// sentNothing reports whether op failed without anything reaching the
// venue (not_connected). Its idempotency key then is free for a new
// attempt, with any payload: the trader retrying after a reconnect wants
// the order placed, not the old failure back, and nothing can run twice
// because nothing ran. Any other outcome (success, a rejection, a timeout,
// outcome_unknown, interrupted) keeps the key, so that a retry is never a
// second order.
func sentNothing(op Operation) bool {
	return op.Status == StatusFailed && op.ErrorCode == CodeNotConnected
}

func duplicate(op Operation, pos int, hash string) (Submitted, bool, error) {
	if op.PayloadHash != hash {
		return Submitted{Operation: op}, true, ErrKeyConflict
	}
	return Submitted{Operation: op, Position: pos, Duplicate: true}, true, nil
}

// payloadHash identifies what was asked, so that a reused idempotency key
// with another payload is told apart from a retry.
func payloadHash(terminal, name string, params []byte) string {
	h := sha256.New()
	h.Write([]byte(terminal))
	h.Write([]byte{0})
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(params)
	return hex.EncodeToString(h.Sum(nil))
}

func (q *Queue) lane(terminal string) (*lane, error) {
	if terminal == "" {
		terminal = q.laneOrder[0]
	}
	l, ok := q.lanes[terminal]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTerminal, terminal)
	}
	return l, nil
}

// Get returns the operation as it is now, from memory or the journal.
func (q *Queue) Get(ctx context.Context, id string) (Operation, error) {
	q.mu.Lock()
	e, ok := q.ops[id]
	var op Operation
	if ok {
		op = e.op
	}
	q.mu.Unlock()
	if ok {
		return op, nil
	}
	return q.store.Get(ctx, id)
}

// Wait blocks until the operation is final and returns it. It returns early
// with ctx's error, or with ErrClosed when the queue shuts down first.
func (q *Queue) Wait(ctx context.Context, id string) (Operation, error) {
	q.mu.Lock()
	e, ok := q.ops[id]
	q.mu.Unlock()
	if !ok {
		return q.store.Get(ctx, id)
	}
	select {
	case <-e.done: // already final: answer it, whatever ctx says
		return q.snapshot(e), nil
	default:
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		select {
		case <-e.done: // finished just as ctx ended
		default:
			return q.snapshot(e), ctx.Err()
		}
	case <-q.closing:
		select {
		case <-e.done: // finished while shutting down
		default:
			return q.snapshot(e), ErrClosed
		}
	}
	return q.snapshot(e), nil
}

func (q *Queue) snapshot(e *entry) Operation {
	q.mu.Lock()
	defer q.mu.Unlock()
	return e.op
}

// Cancel cancels a queued operation. A running or finished one gives
// ErrNotCancellable with its current state.
func (q *Queue) Cancel(ctx context.Context, id string) (Operation, error) {
	q.mu.Lock()
	e, ok := q.ops[id]
	if !ok {
		q.mu.Unlock()
		op, err := q.store.Get(ctx, id)
		if err != nil {
			return Operation{}, err
		}
		return op, ErrNotCancellable
	}
	if e.op.Status != StatusQueued || e.settling || !q.unqueue(e) {
		op := e.op
		q.mu.Unlock()
		return op, ErrNotCancellable
	}
	final := q.beginSettle(e, StatusCancelled, CodeCancelled, "cancelled by client", Result{})
	q.mu.Unlock()

	if err := q.store.Finish(ctx, final); err != nil {
		// Not journaled: after a restart it would run. Put it back.
		q.mu.Lock()
		e.settling = false
		if !q.closed && !q.holdBack(e) {
			e.lane.heap.push(e, e.lane.heap.mark())
			e.lane.signal()
		}
		op := e.op
		q.mu.Unlock()
		return op, fmt.Errorf("journal the cancel (the operation is still queued): %w", err)
	}
	q.endSettle(e, final)
	<-e.done // the observers (the risk tallies) know it before the caller does
	return final, nil
}

// expire cancels e if it is still queued when its expire_after passes.
func (q *Queue) expire(e *entry) {
	q.mu.Lock()
	if q.closed || e.op.Status != StatusQueued || e.settling || !q.unqueue(e) {
		q.mu.Unlock()
		return
	}
	final := q.beginSettle(e, StatusCancelled, CodeExpired, "expired before it started (expire_after)", Result{})
	q.mu.Unlock()
	q.commitSettle(q.runCtx, e, final)
}

// beginSettle claims e for its final state and returns that state. Called
// with q.mu held; e is in no heap.
func (q *Queue) beginSettle(e *entry, status Status, code, msg string, res Result) Operation {
	e.settling = true
	if e.expiry != nil {
		e.expiry.Stop()
	}
	final := e.op
	final.Status = status
	final.ErrorCode = code
	final.Error = msg
	final.Result = res.Data
	final.Message = res.Message
	final.FinishedAt = q.clock.Now()
	final.Prepared = nil // the executor is done with it
	return final
}

// finishAttempts is how often a final state's journal write is tried: a
// passing lock clears on a retry, a broken disk does not.
const finishAttempts = 3

// commitSettle journals a final state and publishes it. When the journal
// cannot take it, the final state is still published (it is what happened)
// but kept in memory for good, so that this process never answers from the
// stale record, and the lane is blocked: a journal that cannot record
// outcomes must not be given more orders. After a restart the stale record
// resolves as expired (queued) or interrupted (running), never by running
// the operation again.
func (q *Queue) commitSettle(ctx context.Context, e *entry, final Operation) {
	var err error
	for range finishAttempts {
		if err = q.store.Finish(context.WithoutCancel(ctx), final); err == nil {
			break
		}
	}
	if err != nil {
		q.log.Error("journal the final state of an operation", "operation_id", final.ID,
			"name", final.Name, "terminal", final.Terminal, "status", final.Status, "err", err)
		q.mu.Lock()
		e.unjournaled = true
		if final.Status != StatusCancelled {
			q.block(e.lane, fmt.Sprintf("the journal could not record the outcome of operation %s (%s: %v); the lane is paused until the journal is writable and the lane is resumed", final.ID, final.Status, err))
		}
		q.mu.Unlock()
	}
	q.endSettle(e, final)
}

// endSettle makes the final state visible and has the waiters released.
func (q *Queue) endSettle(e *entry, final Operation) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e.op = final
	e.settling = false
	e.lane.count(final.Status)
	q.finished = append(q.finished, e)
	q.noteFinal(final, e.done) // the waiters go once the observers know
	q.evict()
}

// evict forgets finished entries older than ResultTTL, or beyond
// MaxFinished; the journal still answers for them. Called with q.mu held.
func (q *Queue) evict() {
	cutoff := q.clock.Now().Add(-q.cfg.ResultTTL)
	for q.finishedAt < len(q.finished) {
		e := q.finished[q.finishedAt]
		over := len(q.finished)-q.finishedAt > q.cfg.MaxFinished
		if !over && e.op.FinishedAt.After(cutoff) {
			break
		}
		if !e.unjournaled {
			delete(q.ops, e.op.ID)
			if k := e.op.IdempotencyKey; k != "" && q.keys[keyRef{e.op.Terminal, k}] == e {
				delete(q.keys, keyRef{e.op.Terminal, k})
			}
		}
		q.finished[q.finishedAt] = nil
		q.finishedAt++
	}
	// Compact once the evicted head is most of the slice: amortised O(1).
	if q.finishedAt > 1024 && q.finishedAt*2 > len(q.finished) {
		n := copy(q.finished, q.finished[q.finishedAt:])
		clear(q.finished[n:])
		q.finished = q.finished[:n]
		q.finishedAt = 0
	}
}

// armSweep schedules the next eviction pass, for quiet times when no
// operation finishes. Called with q.mu held.
func (q *Queue) armSweep() {
	every := min(q.cfg.ResultTTL/10, time.Minute)
	q.sweep = q.clock.AfterFunc(every, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.closed {
			return
		}
		q.evict()
		q.armSweep()
	})
}

// Shutdown stops taking submits, lets each lane's running operation finish
// and stops the workers; queued operations stay in the journal for the next
// start. When ctx ends first, the running executions are cancelled and
// Shutdown returns ctx's error without waiting further.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.closing)
		if q.sweep != nil {
			q.sweep.Stop()
		}
		for _, l := range q.lanes {
			l.stopping = true
			l.signal()
			for _, e := range l.heap.entries {
				if e.expiry != nil {
					e.expiry.Stop()
				}
			}
			for e := range l.waiting {
				if e.expiry != nil {
					e.expiry.Stop()
				}
				e.start.Stop()
			}
		}
	}
	q.mu.Unlock()

	stopped := make(chan struct{})
	go func() {
		q.workers.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		q.cancelRun(errShutdown)
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		var running []*entry
		for _, name := range q.laneOrder {
			if e := q.lanes[name].current; e != nil {
				running = append(running, e)
			}
		}
		q.mu.Unlock()
		q.cancelRun(errShutdown)
		return fmt.Errorf("running operations did not finish: %w: %s", ctx.Err(), q.cutShort(running))
	}
}

// settleGrace is how long Shutdown, once its time is up, lets the lanes
// journal the operations it cut short, so that what it reports is what the
// journal holds.
const settleGrace = 2 * time.Second

// cutShort says, for each operation still running when Shutdown gave up,
// what the journal holds for it: failed (the lane settled it when the
// shutdown cancelled it; its driver may still be working), or still
// running (the next start marks it failed as interrupted).
func (q *Queue) cutShort(running []*entry) string {
	grace := time.NewTimer(settleGrace)
	defer grace.Stop()
	var parts []string
	for _, e := range running {
		select {
		case <-e.done:
		case <-grace.C:
		}
		q.mu.Lock()
		op, settled, unjournaled := e.op, e.op.Status.Final(), e.unjournaled
		q.mu.Unlock()
		switch {
		case settled && !unjournaled:
			parts = append(parts, fmt.Sprintf("operation %s (%s) on %s is journaled as %s (%s) and its driver has not returned: check the account",
				op.ID, op.Name, op.Terminal, op.Status, op.ErrorCode))
		case settled && op.SideEffect:
			parts = append(parts, fmt.Sprintf("operation %s (%s) on %s ended %s (%s) but the journal could not record it: it still says running there, and the next start marks it failed (interrupted)",
				op.ID, op.Name, op.Terminal, op.Status, op.ErrorCode))
		case settled:
			parts = append(parts, fmt.Sprintf("query %s (%s) on %s ended %s (%s) but the journal could not record it: it is still queued there and runs again at the next start",
				op.ID, op.Name, op.Terminal, op.Status, op.ErrorCode))
		default:
			parts = append(parts, fmt.Sprintf("operation %s (%s) on %s is journaled as running: the next start marks it failed (interrupted)",
				op.ID, op.Name, op.Terminal))
		}
	}
	if len(parts) == 0 {
		return "no operation was running"
	}
	return strings.Join(parts, "; ")
}
