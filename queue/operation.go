// Package queue is brokerd's core: a priority queue with one serialized worker
// (a Lane) per terminal. It has no I/O of its own: time comes from a Clock,
// durability from a Store, and what happens is told to an Observer, so its
// tests are deterministic. It knows nothing of HTTP, SQL or the operations'
// meaning: an Executor per lane does the work.
package queue

import (
	"encoding/json"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Status is where an operation is in its lifecycle:
//
//	queued ──► running ──► success
//	   │          └──────► failed
//	   └─────► cancelled (cancelled by a client, or expired before it started)
type Status string

const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSuccess   Status = "success"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Final reports whether s is an end state.
func (s Status) Final() bool {
	return s == StatusSuccess || s == StatusFailed || s == StatusCancelled
}

// Error codes the queue itself gives an operation (defined with the others
// in automation).
const (
	CodeTimeout        = string(automation.CodeTimeout)        // the executor did not return before the deadline
	CodeOutcomeUnknown = string(automation.CodeOutcomeUnknown) // …and it may have had a side effect
	CodeInterrupted    = string(automation.CodeInterrupted)    // found running after a crash; never re-executed
	CodeExpired        = string(automation.CodeExpired)        // not started before expire_after
	CodeCancelled      = string(automation.CodeCancelled)      // cancelled by a client
	CodeInternal       = string(automation.CodeInternal)       // a panic or an error without a code
)

// Priority bounds: higher runs first.
const (
	MinPriority = 0
	MaxPriority = 10
)

// Operation is a snapshot of one operation. The queue hands out copies; the
// fields never change under the caller.
type Operation struct {
	ID       string          `json:"operation_id"`
	Name     string          `json:"name"`
	Terminal string          `json:"terminal"`
	Params   json.RawMessage `json:"params"`
	Priority int             `json:"priority"`
	Status   Status          `json:"status"`

	// Result is the executor's data (JSON), Message its message; set when
	// the operation ran, whatever the outcome.
	Result    json.RawMessage `json:"result"`
	Message   string          `json:"message"`
	Error     string          `json:"error"`
	ErrorCode string          `json:"error_code"`

	SubmittedAt time.Time `json:"submitted_at"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`

	// Timeout bounds the execution; 0 means the queue's default.
	Timeout time.Duration `json:"timeout"`
	// ExpireAt, if set, is when a still-queued operation is cancelled.
	ExpireAt time.Time `json:"expire_at"`
	// NotBefore, if set, is when a queued operation may start at the
	// earliest: until then it waits beside its lane, not in the run order.
	NotBefore time.Time `json:"not_before"`
	// SideEffect marks an operation that changes the account (an order):
	// one that times out ends outcome_unknown rather than timeout.
	SideEffect bool `json:"side_effect"`

	// IdempotencyKey, scoped per terminal, and the hash of the payload it
	// was first given with.
	IdempotencyKey string `json:"idempotency_key"`
	PayloadHash    string `json:"payload_hash"`

	// Seq orders submissions: FIFO within a priority, across restarts.
	Seq uint64 `json:"seq"`

	// Prepared is what the submitter validated Params into, handed to the
	// executor as it was, so that a submit is validated once. It is not
	// journaled: an operation recovered after a restart has none, and its
	// executor reads Params again. The queue drops it once the operation
	// has finished.
	Prepared any `json:"-"`
}

// Result is what an executor returns for an operation that ran.
type Result struct {
	Data    json.RawMessage
	Message string
}

// Request is a submission.
type Request struct {
	Name     string
	Terminal string // "" for the default (first) lane
	Params   json.RawMessage
	Priority int
	// Timeout bounds the execution; 0 means the queue's default.
	Timeout time.Duration
	// ExpireAfter, if positive, cancels the operation (expired) when it
	// has not started by then.
	ExpireAfter time.Duration
	// NotBefore, if set and in the future, holds the operation until then.
	NotBefore      time.Time
	SideEffect     bool
	IdempotencyKey string
	// Prepared, if set, is Params as the submitter validated them; the
	// executor gets it in Operation.Prepared (see there).
	Prepared any
}

// Submitted answers a Submit.
type Submitted struct {
	Operation Operation
	// Position is the operation's place in its lane: 0 runs next.
	Position int
	// Duplicate is true when the idempotency key matched an earlier
	// operation, which is returned instead of a new one.
	Duplicate bool
}

// Counts are the operations of a lane (or all lanes) by status: what is
// queued or running now, and how many ended each way since start.
type Counts struct {
	Queued    int   `json:"queued_count"`
	Running   int   `json:"running_count"`
	Success   int64 `json:"success_count"`
	Failed    int64 `json:"failed_count"`
	Cancelled int64 `json:"cancelled_count"`
} //@name Counts

func (c *Counts) add(o Counts) {
	c.Queued += o.Queued
	c.Running += o.Running
	c.Success += o.Success
	c.Failed += o.Failed
	c.Cancelled += o.Cancelled
}

// LaneState says what a lane is doing.
type LaneState string

const (
	LaneIdle    LaneState = "idle"
	LaneRunning LaneState = "running"
	LanePaused  LaneState = "paused"
	// LaneStuck: the running operation passed its deadline and was failed,
	// but its executor has not returned yet. Nothing else starts meanwhile.
	LaneStuck LaneState = "stuck"
	// LaneBlocked: the journal failed, so the lane paused itself; Resume
	// tries again.
	LaneBlocked LaneState = "blocked"
	LaneStopped LaneState = "stopped"
)

// LaneStats describes one lane.
type LaneStats struct {
	Counts
	Terminal string    `json:"terminal"`
	Paused   bool      `json:"paused"`
	State    LaneState `json:"state"`
	// Current is the id of the running operation, "" when none.
	Current string `json:"current_operation"`
	// StuckOn explains a stuck lane: which operation, since when.
	StuckOn string `json:"stuck_on"`
	// Blocked explains a lane the journal's failure paused.
	Blocked string `json:"blocked"`
	// Scheduled counts the queued operations (within Queued) whose
	// not_before is still ahead.
	Scheduled int `json:"scheduled_count"`
}

// Stats describes the whole queue.
type Stats struct {
	Counts
	Lanes []LaneStats `json:"-"`
}

// HistoryFilter selects journaled operations for the history listing.
// Zero fields do not filter. Since/Until bound SubmittedAt (inclusive since,
// exclusive until). Results are newest first.
type HistoryFilter struct {
	Status   Status
	Name     string
	Terminal string
	Since    time.Time
	Until    time.Time
	Limit    int // 1..1000; 0 means 100
	Offset   int
}
