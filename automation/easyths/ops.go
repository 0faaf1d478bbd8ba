package easyths

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/brokerd/brokerd/automation"
)

// outcome is how an EasyTHS operation ended.
type outcome struct {
	status  string // success, failed, cancelled
	success bool
	data    json.RawMessage
	message string
	code    string // v2's error_code, when given
}

// run submits operation name once and waits for its end within ctx. It
// returns the operation's data on success.
func (t *Terminal) run(ctx context.Context, name string, params map[string]any, sideEffect bool) (json.RawMessage, error) {
	data, _, err := t.runID(ctx, name, params, sideEffect)
	return data, err
}

// runID is run that also gives EasyTHS's operation id ("" when the submit
// was not taken).
func (t *Terminal) runID(ctx context.Context, name string, params map[string]any, sideEffect bool) (data json.RawMessage, id string, err error) {
	if t.ops.Load() == nil {
		if err := t.loadCatalog(ctx); err != nil {
			return nil, "", err
		}
	}
	if !t.Supports(name) {
		return nil, "", automation.ErrUnsupported
	}
	if params == nil {
		params = map[string]any{}
	}
	r, err := t.api.call(ctx, http.MethodPost, "/api/v1/operations/"+name, nil, map[string]any{"params": params, "priority": 0}, 0)
	if err != nil || r.status != http.StatusOK {
		return nil, "", t.submitError(name, sideEffect, r, err)
	}
	env, _ := decodeEnvelope(r.body)
	var sub struct {
		OperationID string `json:"operation_id"`
		Status      string `json:"status"`
	}
	_ = json.Unmarshal(env.Data, &sub)
	if sub.OperationID == "" || (env.Success != nil && !*env.Success) {
		if sideEffect {
			return nil, "", automation.OutcomeUnknown(nil, "EasyTHS answered the %s submit without an operation id (%s); check the account", name, r)
		}
		return nil, "", automation.NotConnected("EasyTHS answered the %s submit without an operation id: %s", name, r)
	}
	raw, _ := json.Marshal(params)
	p := pendingOp{ID: sub.OperationID, Name: name, Params: raw, SubmittedAt: t.now()}
	t.log.Info("EasyTHS operation submitted", "easyths_operation_id", p.ID, "operation", name, "status", sub.Status)
	t.track(ctx, p)

	out, last, err := t.await(ctx, p.ID)
	if err != nil {
		data, err = t.giveUp(ctx, p, last, sideEffect, err)
		return data, p.ID, err
	}
	t.untrack(p.ID)
	data, err = t.ended(p, out, sideEffect)
	return data, p.ID, err
}

// ended turns an operation's end into data or a coded error.
func (t *Terminal) ended(p pendingOp, out outcome, sideEffect bool) (json.RawMessage, error) {
	if out.success {
		return out.data, nil
	}
	msg := out.message
	if msg == "" {
		msg = "EasyTHS reported the operation failed without a reason"
	}
	venue := out.code
	switch {
	case out.status == "cancelled" || strings.Contains(msg, "操作已取消"):
		return nil, &automation.Error{Code: automation.CodeInterrupted, Message: "EasyTHS cancelled operation " + p.ID + " before it ran: " + msg}
	case out.code == "not_connected":
		return nil, automation.VenueError(automation.CodeNotConnected, venue, msg)
	case out.code == "timeout" && sideEffect, out.code == "ui_error" && sideEffect, out.code == "internal" && sideEffect:
		// The client's window may have taken the order before it hung.
		return nil, automation.OutcomeUnknown(nil, "EasyTHS operation %s (%s) ended %s: %s; check the account", p.ID, p.Name, out.code, msg)
	}
	return nil, automation.VenueError(automation.CodeRejected, venue, msg)
}

// submitError is the coded error of a submit that was not taken: nothing
// is ever submitted again.
func (t *Terminal) submitError(name string, sideEffect bool, r reply, err error) error {
	var se *sendError
	if errors.As(err, &se) {
		if !se.sent {
			t.setState(automation.StateDisconnected, "EasyTHS unreachable")
			return automation.NotConnected("EasyTHS %s: nothing was sent: %v", name, se.err)
		}
		if sideEffect {
			return automation.OutcomeUnknown(&submitLost{se.err}, "EasyTHS %s: the submit's answer was lost; EasyTHS may have queued it and, without its id, cannot be asked: check the account, nothing was resent", name)
		}
		return automation.NotConnected("EasyTHS %s: %v", name, err)
	}
	if err != nil {
		return err
	}
	env, _ := decodeEnvelope(r.body)
	text := env.text()
	switch {
	case r.status == http.StatusServiceUnavailable || env.code() == "queue_full":
		return automation.VenueError(automation.CodeNotConnected, env.code(), "EasyTHS's queue is full; nothing was queued: "+text)
	case r.status == http.StatusTooManyRequests:
		return automation.RateLimited(r.retryAfter(), "EasyTHS rate limit: %s", text)
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		t.setState(automation.StateError, "EasyTHS refused the API key")
		return automation.NotConnected("EasyTHS refused the API key (options.api_key_env): HTTP %d", r.status)
	case r.status == http.StatusUnprocessableEntity:
		fields := env.fields()
		if len(fields) == 0 {
			fields = []string{text}
		}
		return automation.VenueError(automation.CodeRejected, "invalid_params", "EasyTHS refused the parameters of "+name+": "+strings.Join(fields, "; "))
	case r.status == http.StatusNotFound:
		return &automation.Error{Code: automation.CodeUnsupported, Message: "EasyTHS has no operation " + name + " loaded: " + text, Err: automation.ErrUnsupported}
	case r.status == http.StatusInternalServerError && (strings.Contains(text, "队列已满") || strings.Contains(strings.ToLower(text), "full")):
		// v1.7 answers a full queue 500: nothing was queued.
		return automation.VenueError(automation.CodeNotConnected, "queue_full", "EasyTHS's queue is full; nothing was queued: "+text)
	case r.status == http.StatusInternalServerError && (strings.Contains(text, "频繁") || strings.Contains(strings.ToLower(text), "rate")):
		return automation.RateLimited(r.retryAfter(), "EasyTHS rate limit (answered 500): %s", text)
	case r.status >= 500:
		if sideEffect {
			return automation.OutcomeUnknown(&submitLost{fmt.Errorf("HTTP %d", r.status)}, "EasyTHS %s: the submit answered %s with no operation id; check the account, nothing was resent", name, r)
		}
		return automation.NotConnected("EasyTHS %s: %s", name, r)
	}
	return automation.VenueError(automation.CodeRejected, env.code(), "EasyTHS refused "+name+": "+text)
}

// submitLost marks a submit that may or may not have been queued, its
// answer (and so its id) lost.
type submitLost struct{ err error }

func (e *submitLost) Error() string { return "the submit's answer was lost: " + e.err.Error() }
func (e *submitLost) Unwrap() error { return e.err }

// httpError is the error of a non-200 answer to a read of the system.
func (t *Terminal) httpError(what string, r reply) error {
	env, _ := decodeEnvelope(r.body)
	if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
		return automation.NotConnected("EasyTHS %s: the API key was refused (options.api_key_env): HTTP %d", what, r.status)
	}
	return automation.NotConnected("EasyTHS %s: HTTP %d %s", what, r.status, env.text())
}
