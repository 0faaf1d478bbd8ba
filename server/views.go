package server

import (
	"encoding/json"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// The shapes of the answers' data. No omitempty anywhere: scripts find every
// key, null when there is nothing to say.

// StatusView is an operation as /operations/{id}/status answers it.
type StatusView struct {
	OperationID string `json:"operation_id" example:"0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69"`
	Name        string `json:"name" example:"buy"`
	Terminal    string `json:"terminal" example:"sim"`
	// Status: queued, running, success, failed or cancelled.
	Status   string `json:"status" example:"success" enums:"queued,running,success,failed,cancelled"`
	Priority int    `json:"priority" example:"5"`
	// Result is null until the operation has finished.
	Result *ResultView `json:"result" extensions:"x-nullable"`
	// Error says why it failed or was cancelled.
	Error *string `json:"error" extensions:"x-nullable"`
	// ErrorCode: not_connected, rejected, timeout, outcome_unknown,
	// interrupted, expired, cancelled, internal, …
	ErrorCode   *string `json:"error_code" extensions:"x-nullable"`
	SubmittedAt *string `json:"submitted_at" example:"2026-01-02T10:30:00.123456+08:00"`
	// NotBefore: a queued operation does not start before it (null: at
	// once).
	NotBefore  *string `json:"not_before" extensions:"x-nullable"`
	StartedAt  *string `json:"started_at" extensions:"x-nullable"`
	FinishedAt *string `json:"finished_at" extensions:"x-nullable"`
	Timestamp  string  `json:"timestamp" example:"2026-01-02T10:30:00.223456+08:00"`
} //@name OperationStatus

// ResultView is a finished operation's outcome, shaped as EasyTHS's.
type ResultView struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data" swaggertype:"object"`
	Message *string         `json:"message" extensions:"x-nullable"`
	// Timestamp is when the operation finished (EasyTHS's result.timestamp).
	Timestamp *string `json:"timestamp" extensions:"x-nullable" example:"2026-01-02T10:30:00.123456+08:00"`
} //@name OperationResult

func newStatusView(op queue.Operation, now time.Time) StatusView {
	return StatusView{
		OperationID: op.ID,
		Name:        op.Name,
		Terminal:    op.Terminal,
		Status:      string(op.Status),
		Priority:    op.Priority,
		Result:      newResultView(op),
		Error:       stringOrNil(op.Error),
		ErrorCode:   stringOrNil(op.ErrorCode),
		SubmittedAt: timeOrNil(op.SubmittedAt),
		NotBefore:   timeOrNil(op.NotBefore),
		StartedAt:   timeOrNil(op.StartedAt),
		FinishedAt:  timeOrNil(op.FinishedAt),
		Timestamp:   formatTime(now),
	}
}

// newResultView is op's outcome once it is final, nil before.
func newResultView(op queue.Operation) *ResultView {
	if !op.Status.Final() {
		return nil
	}
	return &ResultView{Success: op.Status == queue.StatusSuccess, Data: resultData(op), Message: outcomeMessage(op),
		Timestamp: timeOrNil(op.FinishedAt)}
}

// resultData is the executor's data, or JSON null.
func resultData(op queue.Operation) json.RawMessage {
	if len(op.Result) == 0 {
		return json.RawMessage("null")
	}
	return op.Result
}

// outcomeMessage is what a person reads about a final operation: its
// message, or the error when it failed.
func outcomeMessage(op queue.Operation) *string {
	if op.Status != queue.StatusSuccess && op.Error != "" {
		return &op.Error
	}
	return stringOrNil(op.Message)
}

// SubmitView answers a submit.
type SubmitView struct {
	OperationID string `json:"operation_id" example:"0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69"`
	Status      string `json:"status" example:"queued"`
	// QueuePosition is the operation's place in its lane (0 runs next);
	// null when it is no longer queued (an idempotent replay), or while it
	// waits for its not_before.
	QueuePosition *int   `json:"queue_position" example:"0"`
	Terminal      string `json:"terminal" example:"sim"`
	// NotBefore: the operation does not start before it (null: at once).
	NotBefore *string `json:"not_before" extensions:"x-nullable"`
	// Duplicate is true when the idempotency key matched an earlier
	// submit with the same payload: this is that operation.
	Duplicate bool `json:"duplicate" example:"false"`
} //@name Submitted

// SubmitWaitView answers a submit with ?wait=: the submit's fields, and the
// result when the operation finished in time.
type SubmitWaitView struct {
	SubmitView
	Result    *ResultView `json:"result" extensions:"x-nullable"`
	Error     *string     `json:"error" extensions:"x-nullable"`
	ErrorCode *string     `json:"error_code" extensions:"x-nullable"`
} //@name SubmittedAndWaited

func newSubmitView(sub queue.Submitted) SubmitView {
	v := SubmitView{
		OperationID: sub.Operation.ID,
		Status:      string(sub.Operation.Status),
		Terminal:    sub.Operation.Terminal,
		Duplicate:   sub.Duplicate,
		NotBefore:   timeOrNil(sub.Operation.NotBefore),
	}
	if sub.Operation.Status == queue.StatusQueued && sub.Position >= 0 {
		pos := sub.Position
		v.QueuePosition = &pos
	}
	return v
}

// LaneView is one terminal's lane in /queue/stats.
type LaneView struct {
	queue.Counts
	Paused bool `json:"paused"`
	// State: idle, running, paused, stuck, blocked or stopped.
	State            string  `json:"state" enums:"idle,running,paused,stuck,blocked,stopped"`
	CurrentOperation *string `json:"current_operation" extensions:"x-nullable"`
	// StuckOn says which operation a stuck lane waits on, and since when.
	StuckOn *string `json:"stuck_on" extensions:"x-nullable"`
	// Blocked says why the journal's failure paused the lane; resume it
	// once the journal is writable.
	Blocked *string `json:"blocked" extensions:"x-nullable"`
	// ScheduledCount counts the queued operations (within queued_count)
	// waiting for their not_before.
	ScheduledCount int `json:"scheduled_count"`
	// Halted: the kill switch refuses the terminal's new orders
	// (POST /risk/resume lifts it); HaltReason says why.
	Halted     bool    `json:"halted"`
	HaltReason *string `json:"halt_reason" extensions:"x-nullable"`
} //@name LaneStats

// StatsView answers /queue/stats: the counts of every lane together (as
// EasyTHS), and per terminal.
type StatsView struct {
	queue.Counts
	Terminals map[string]LaneView `json:"terminals"`
} //@name QueueStats

func newStatsView(st queue.Stats) StatsView {
	v := StatsView{Counts: st.Counts, Terminals: make(map[string]LaneView, len(st.Lanes))}
	for _, l := range st.Lanes {
		v.Terminals[l.Terminal] = LaneView{
			Counts:           l.Counts,
			Paused:           l.Paused,
			State:            string(l.State),
			CurrentOperation: stringOrNil(l.Current),
			StuckOn:          stringOrNil(l.StuckOn),
			Blocked:          stringOrNil(l.Blocked),
			ScheduledCount:   l.Scheduled,
		}
	}
	return v
}
