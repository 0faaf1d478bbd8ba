package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/risk"
)

// submission is one submit, however it came (POST /operations/{name}, an
// MCP tool call): every way in goes through submitOperation, so that each
// is validated, journaled and counted the same.
type submission struct {
	name        string
	plugin      *plugins.Plugin
	params      json.RawMessage // the operation's parameters, a JSON object
	terminal    string          // "" is the default terminal
	priority    int
	timeout     time.Duration
	expireAfter time.Duration
	notBefore   time.Time // zero: as soon as the lane gets to it
	key         string    // idempotency key
	// errs are the bad fields the caller found in its own part of the
	// request (the body, ?wait=, the key): they are reported together with
	// the parameters' errors. A bad "body" or "params" skips validating the
	// parameters.
	errs []fieldError
}

// refusal is why a submission was not queued, as the API answers it.
type refusal struct {
	code       string
	message    string
	data       any
	fields     []fieldError  // invalid_params
	retryAfter time.Duration // queue_full, unavailable
	// what and err are logged for internal errors (and a journal that
	// cannot be written); the client learns only what failed.
	what string
	err  error
	// risk is the rule a risk_limit refusal broke; operationID the order
	// journaled as cancelled when a halt came while it was journaled.
	risk        *risk.Refusal
	operationID string
}

// submitOperation validates a submission against its operation's schema and
// the terminal's capabilities, journals and queues it, and counts it. The
// submit completes even if ctx is cancelled: a journal write cut short
// could leave a record that runs after a restart although the client never
// heard of it.
func (s *Server) submitOperation(ctx context.Context, in submission) (queue.Submitted, *refusal) {
	errs := slices.Clone(in.errs)
	terminal := in.terminal
	if terminal == "" {
		terminal = s.order[0]
	}
	// An unknown terminal is validated against no terminal (nil), as the
	// plugins expect, so that every bad field is named at once.
	t, ok := s.terminals.Terminal(terminal)
	if !ok {
		errs = append(errs, s.unknownTerminal(terminal))
		t = nil
	}
	var params plugins.Params
	if !slices.ContainsFunc(errs, func(e fieldError) bool { return e.Field == "body" || e.Field == "params" }) {
		var paramErrs []plugins.FieldError
		params, paramErrs = in.plugin.ValidateFor(in.params, t)
		for _, pe := range paramErrs {
			errs = append(errs, fieldError{Field: paramField(pe.Field), Reason: pe.Reason})
		}
	}
	if len(errs) > 0 {
		return queue.Submitted{}, &refusal{code: codeInvalidParams, fields: errs}
	}
	if !in.plugin.Supports(t) {
		return queue.Submitted{}, &refusal{code: codeUnsupported, message: fmt.Sprintf(
			"terminal %q (driver %s) does not support %s: choose another terminal with \"terminal\"; GET /api/v1/operations/ lists which support it",
			terminal, t.Driver(), in.name)}
	}
	// A terminal holding back for its venue's rate limits takes nothing
	// it would have to fail: the script retries after the window.
	if th, ok := t.(automation.Throttler); ok {
		if after, throttled := th.Throttled(); throttled {
			return queue.Submitted{}, &refusal{code: codeRateLimited, retryAfter: max(after, time.Second), message: fmt.Sprintf(
				"terminal %q is holding back for its venue's rate limits: retry after %s", terminal, after.Round(time.Second))}
		}
	}

	sub, err := s.q.Submit(context.WithoutCancel(ctx), queue.Request{
		Name:           in.name,
		Terminal:       terminal,
		Params:         params.JSON(),
		Priority:       in.priority,
		Timeout:        in.timeout,
		ExpireAfter:    in.expireAfter,
		NotBefore:      in.notBefore,
		SideEffect:     in.plugin.SideEffect,
		IdempotencyKey: in.key,
		Prepared:       params,
	})
	if err != nil {
		return sub, queueRefusal(sub, err)
	}
	if sub.Duplicate {
		s.metrics.replays.WithLabelValues(terminal).Inc()
	} else {
		s.metrics.submitted.WithLabelValues(in.name, terminal).Inc()
	}
	return sub, nil
}

// queueRefusal says why the queue refused a submit.
func queueRefusal(sub queue.Submitted, err error) *refusal {
	var broke *risk.Refusal
	switch {
	case errors.As(err, &broke):
		return &refusal{code: codeRiskLimit, risk: broke, operationID: sub.Operation.ID}
	case errors.Is(err, queue.ErrJournal):
		return &refusal{code: codeJournalUnavailable, what: "submit", err: err}
	case errors.Is(err, queue.ErrKeyConflict):
		return &refusal{code: codeConflict, message: "this idempotency key was already used with a different payload (operation " +
			sub.Operation.ID + "): use a new key for a new operation", data: map[string]any{
			"operation_id": sub.Operation.ID, "status": sub.Operation.Status,
		}}
	case errors.Is(err, queue.ErrQueueFull):
		return &refusal{code: codeQueueFull, message: "the terminal's queue is full: retry later", retryAfter: time.Second}
	case errors.Is(err, queue.ErrClosed):
		return &refusal{code: codeUnavailable, message: "brokerd is shutting down and takes no new operations: retry after it restarts", retryAfter: 5 * time.Second}
	case errors.Is(err, queue.ErrUnknownTerminal):
		return &refusal{code: codeInvalidParams, fields: []fieldError{{Field: "terminal", Reason: err.Error()}}}
	case errors.Is(err, queue.ErrInvalidPriority):
		return &refusal{code: codeInvalidParams, fields: []fieldError{{Field: "priority", Reason: err.Error()}}}
	default:
		return &refusal{code: codeInternal, what: "submit", err: err}
	}
}

// refuse answers a refusal over HTTP.
func (s *Server) refuse(c *gin.Context, r *refusal) {
	switch {
	case r.code == codeInternal:
		s.internal(c, r.what, r.err)
	case r.code == codeRiskLimit:
		s.riskRefused(c, r.risk, r.operationID)
	case r.code == codeJournalUnavailable:
		s.journalUnavailable(c, r.what, "nothing was queued", r.err)
	case r.code == codeInvalidParams && r.fields != nil:
		s.invalid(c, r.fields)
	case r.retryAfter > 0:
		s.failRetry(c, r.code, r.message, r.retryAfter)
	default:
		s.fail(c, r.code, r.message, r.data)
	}
}
