package client

import (
	"encoding/json"
	"time"
)

// Statuses of an operation.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Final reports whether an operation with this status has finished.
func Final(status string) bool {
	return status == StatusSuccess || status == StatusFailed || status == StatusCancelled
}

// Operation is an operation as /operations/{id}/status answers it.
type Operation struct {
	ID          string     `json:"operation_id"`
	Name        string     `json:"name"`
	Terminal    string     `json:"terminal"`
	Status      string     `json:"status"`
	Priority    int        `json:"priority"`
	Result      *Outcome   `json:"result"` // nil until it has finished
	Error       *string    `json:"error"`
	ErrorCode   *string    `json:"error_code"`
	SubmittedAt *time.Time `json:"submitted_at"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	// Params are set in History's operations only.
	Params json.RawMessage `json:"params,omitempty"`
}

// Outcome is a finished operation's result as the status shows it.
type Outcome struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Message *string         `json:"message"`
}

// Result is a finished operation's outcome, as /operations/{id}/result
// answers it: EasyTHS's success, message, data and error_code.
type Result struct {
	Success bool
	Message string
	// ErrorCode says why it failed: rejected, not_connected, timeout,
	// outcome_unknown, interrupted, expired, cancelled, internal, …
	ErrorCode string
	Data      json.RawMessage
}

// SubmitOptions are a submit's options; zero values take brokerd's
// defaults.
type SubmitOptions struct {
	// Terminal to run on (default: brokerd's first terminal).
	Terminal string
	// Priority 0–10, higher runs first.
	Priority int
	// Timeout bounds the execution (default: brokerd's operation_timeout).
	Timeout time.Duration
	// ExpireAfter cancels the operation (expired) if it has not started by
	// then.
	ExpireAfter time.Duration
	// IdempotencyKey makes the submit safe to repeat: the same key with
	// the same payload answers the existing operation. With a key the
	// client retries a submit that got no answer.
	IdempotencyKey string
	// Wait, when positive, makes brokerd answer once the operation has
	// finished or Wait has passed (Submitted.Result tells which).
	Wait time.Duration
}

// Submitted answers a submit.
type Submitted struct {
	OperationID string `json:"operation_id"`
	Status      string `json:"status"`
	// QueuePosition is its place in the lane (0 runs next), nil when it
	// is no longer queued.
	QueuePosition *int   `json:"queue_position"`
	Terminal      string `json:"terminal"`
	// Duplicate: the idempotency key was seen before; this is that
	// operation.
	Duplicate bool `json:"duplicate"`
	// Result is set when the submit waited and the operation finished.
	Result    *Outcome `json:"result"`
	Error     *string  `json:"error"`
	ErrorCode *string  `json:"error_code"`
}

// Counts are operations by status.
type Counts struct {
	Queued    int   `json:"queued_count"`
	Running   int   `json:"running_count"`
	Success   int64 `json:"success_count"`
	Failed    int64 `json:"failed_count"`
	Cancelled int64 `json:"cancelled_count"`
}

// Lane is one terminal's lane.
type Lane struct {
	Counts
	Paused bool `json:"paused"`
	// State: idle, running, paused, stuck, blocked or stopped.
	State            string  `json:"state"`
	CurrentOperation *string `json:"current_operation"`
	StuckOn          *string `json:"stuck_on"`
	Blocked          *string `json:"blocked"`
}

// Stats are the queue's counts, overall and per terminal.
type Stats struct {
	Counts
	Terminals map[string]Lane `json:"terminals"`
}

// Param is one parameter of an operation's schema.
type Param struct {
	Type             string   `json:"type"`
	Required         bool     `json:"required"`
	Enum             []any    `json:"enum,omitempty"`
	Minimum          *float64 `json:"minimum,omitempty"`
	ExclusiveMinimum bool     `json:"exclusive_minimum,omitempty"`
	Maximum          *float64 `json:"maximum,omitempty"`
	MultipleOf       float64  `json:"multiple_of,omitempty"`
	Pattern          string   `json:"pattern,omitempty"`
	Default          any      `json:"default,omitempty"`
	Description      string   `json:"description"`
	DescriptionEn    string   `json:"description_en"`
	Example          any      `json:"example,omitempty"`
}

// OperationInfo is one operation of the listing: its schema and the
// terminals that support it.
type OperationInfo struct {
	Name           string           `json:"name"`
	Version        string           `json:"version"`
	Description    string           `json:"description"`
	DescriptionEn  string           `json:"description_en"`
	SideEffect     bool             `json:"side_effect"`
	Parameters     map[string]Param `json:"parameters"`
	ParameterOrder []string         `json:"parameter_order"`
	Example        map[string]any   `json:"example"`
	Terminals      []string         `json:"terminals"`
}

// Operations lists the operations brokerd knows.
type Operations struct {
	Operations map[string]OperationInfo `json:"operations"`
	// Names is the documented order.
	Names []string `json:"names"`
}

// HistoryFilter selects journaled operations; zero fields match all.
type HistoryFilter struct {
	Status   string
	Name     string
	Terminal string
	Since    time.Time // submitted at or after
	Until    time.Time // submitted before
	Limit    int       // 1–1000 (brokerd's default 100)
	Offset   int
}

// History is one page of journaled operations, newest first.
type History struct {
	Operations []Operation `json:"operations"`
	// Total is how many match the filter in all.
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// Health is /system/health's answer.
type Health struct {
	// Status is healthy or unhealthy.
	Status     string `json:"status"`
	Components struct {
		Terminals map[string]string `json:"terminals"`
		Lanes     map[string]string `json:"lanes"`
	} `json:"components"`
	// Problems says why it is unhealthy.
	Problems []string `json:"problems"`
}

// Healthy reports whether every terminal is ready and no lane is stuck.
func (h *Health) Healthy() bool { return h.Status == "healthy" }

// Event is one Server-Sent Event of /events: Type is operation, lane,
// terminal, venue, dropped or shutdown; Data its JSON.
type Event struct {
	ID   string
	Type string
	Data json.RawMessage
}

// EventFilter selects the events of a stream; zero fields match all.
type EventFilter struct {
	Terminal string
	// Operation is an operation id or name: only its operation events.
	Operation string
}
