package queue

import (
	"context"
	"errors"
	"time"
)

// Errors the queue returns. The HTTP layer maps each to a status code.
var (
	ErrNotFound        = errors.New("operation not found")
	ErrUnknownTerminal = errors.New("unknown terminal")
	ErrQueueFull       = errors.New("queue is full")
	ErrInvalidPriority = errors.New("priority must be between 0 and 10")
	// ErrNotCancellable: the operation is running or finished.
	ErrNotCancellable = errors.New("operation is not queued")
	// ErrKeyConflict: the idempotency key was used with another payload.
	ErrKeyConflict = errors.New("idempotency key already used with a different payload")
	ErrClosed      = errors.New("queue is shutting down")
	// ErrNotFinished: an amendment names an operation that has not ended.
	ErrNotFinished = errors.New("operation has not finished")
	// ErrJournal: the journal (the Store) failed a write or a look-up the
	// answer depends on (disk full, read-only, corrupt): nothing was
	// acknowledged. It wraps the store's error; retry once it is fixed.
	ErrJournal = errors.New("the journal cannot be used")
)

// Executor carries out an operation on a lane's terminal. It is called by
// the lane's worker, never twice at once for one lane. It must honour ctx
// (its deadline is the operation's timeout); an error may carry a code
// through an ErrorCode() string method.
type Executor func(ctx context.Context, op Operation) (Result, error)

// Store makes operations durable. Every method returns only once its write
// is durable. The queue calls Append before acknowledging a submit and, for
// an operation with a side effect, MarkRunning before calling the executor,
// so that after a crash nothing acknowledged is lost and nothing that may
// have changed the account is executed twice.
type Store interface {
	// Append records a new operation: queued, or running (with its
	// StartedAt) when it starts at once on an idle lane.
	Append(ctx context.Context, op Operation) error
	// MarkRunning records that op id starts at the given time.
	MarkRunning(ctx context.Context, id string, at time.Time) error
	// Finish records an operation's final state (success, failed or
	// cancelled) with its result and error.
	Finish(ctx context.Context, op Operation) error
	// Amend replaces a finished operation's result and message, keeping
	// its status: what a later look at the venue found (a settled unknown
	// outcome). ErrNotFound or ErrNotFinished otherwise.
	Amend(ctx context.Context, id string, result []byte, message string) error
	// Get returns a recorded operation, or ErrNotFound.
	Get(ctx context.Context, id string) (Operation, error)
	// FindByKey returns the newest operation recorded on terminal with the
	// idempotency key, submitted at or after since, or ErrNotFound.
	FindByKey(ctx context.Context, terminal, key string, since time.Time) (Operation, error)
	// Unfinished returns the operations recorded queued or running, in Seq
	// order, for recovery at start.
	Unfinished(ctx context.Context) ([]Operation, error)
	// MaxSeq returns the highest Seq recorded (0 when none), so that Seq
	// keeps rising across restarts.
	MaxSeq(ctx context.Context) (uint64, error)
	// SetPaused records a lane's pause, so that it outlives a restart.
	SetPaused(ctx context.Context, terminal string, paused bool) error
	// PausedLanes lists the terminals whose lanes were left paused.
	PausedLanes(ctx context.Context) ([]string, error)
}

// WriteHolder is a Store that can hold the journal writes a driver makes
// while it executes an operation (the sim's ledger) and commit them in the
// transaction of the operation's outcome: one durable write where there
// were two, and a crash keeps both or neither. The queue calls HoldWrites
// for the ctx it gives the executor, and Finish (or FinishAndStart) with a
// ctx derived from it.
type WriteHolder interface {
	HoldWrites(ctx context.Context) context.Context
}

// Handover is a Store that can record an operation's final state and the
// next one's start in one transaction, so that a lane working through a
// backlog pays one durable write between two operations, not two. Nothing
// is recorded when either part cannot be.
type Handover interface {
	FinishAndStart(ctx context.Context, final Operation, next string, at time.Time) error
}

// Observer is told of every change, in the order the changes happened, by
// one goroutine at a time and outside the queue's lock (notify.go). A slow
// observer delays the events after its own and the release of the waiters
// of an operation's final state (released once the observers have seen it),
// never a lane or a submit; it may call the queue's methods.
type Observer interface {
	// OperationChanged is called when an operation is queued, starts,
	// or finishes.
	OperationChanged(op Operation)
	// LaneChanged is called when a lane's state changes.
	LaneChanged(terminal string, state LaneState)
}

// Clock is the queue's source of time, injected so that tests decide when
// deadlines, expiries and evictions happen.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened; it reports whether
	// it prevented it.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// WithTimeout is context.WithTimeout: the wall clock's deadlines are the
// context package's own, which a driver can read with ctx.Deadline.
func (RealClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// DeadlineClock is a Clock that makes deadline contexts of its own time.
// The queue uses it for operations' deadlines when the Clock has it, and
// otherwise cancels the context from a Clock timer (a fake clock in tests).
type DeadlineClock interface {
	Clock
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

type nopObserver struct{}

func (nopObserver) OperationChanged(Operation)    {}
func (nopObserver) LaneChanged(string, LaneState) {}

// Observers fans one change out to several observers, in order.
type Observers []Observer

func (os Observers) OperationChanged(op Operation) {
	for _, o := range os {
		o.OperationChanged(op)
	}
}

func (os Observers) LaneChanged(terminal string, state LaneState) {
	for _, o := range os {
		o.LaneChanged(terminal, state)
	}
}
