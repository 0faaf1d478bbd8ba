package easyths

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// cleanupTimeout bounds the last look at an operation after the call's
// deadline: one /status and, for one still queued, its DELETE, so that it
// does not run after brokerd has given up on it.
const cleanupTimeout = 3 * time.Second

// await waits on /result until the operation ends or ctx does. It falls
// back to /status while /result fails. last is the last status seen.
func (t *Terminal) await(ctx context.Context, id string) (out outcome, last string, err error) {
	last = "queued"
	for {
		wait := time.Duration(t.opts.RequestTimeout)
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		secs := int(wait / time.Second)
		if secs >= 1 {
			r, err := t.api.call(ctx, http.MethodGet, "/api/v1/operations/"+id+"/result",
				url.Values{"timeout": {strconv.Itoa(secs)}}, nil, wait+max(2*time.Second, wait/10))
			switch {
			case err == nil && r.status == http.StatusOK:
				if o, final := parseResult(r.body); final {
					return o, o.status, nil
				}
			case err == nil && r.status == http.StatusNotFound:
				return outcome{}, last, errForgotten
			case err == nil && r.status == http.StatusRequestTimeout:
				continue
			}
		}
		// /result failed or the time left is too short for it: /status.
		o, status, err := t.status(ctx, id)
		switch {
		case errors.Is(err, errForgotten):
			return outcome{}, last, err
		case err == nil && isFinal(status):
			return o, status, nil
		case err == nil:
			last = status
		}
		select {
		case <-ctx.Done():
			return outcome{}, last, context.Cause(ctx)
		case <-time.After(t.pollEvery):
		}
	}
}

var errForgotten = errors.New("EasyTHS no longer knows the operation (restarted, or its result expired)")

// status reads /operations/{id}/status.
func (t *Terminal) status(ctx context.Context, id string) (outcome, string, error) {
	r, err := t.api.call(ctx, http.MethodGet, "/api/v1/operations/"+id+"/status", nil, nil, 0)
	if err != nil {
		return outcome{}, "", err
	}
	if r.status == http.StatusNotFound {
		return outcome{}, "", errForgotten
	}
	if r.status != http.StatusOK {
		return outcome{}, "", fmt.Errorf("EasyTHS status: %s", r)
	}
	env, _ := decodeEnvelope(r.body)
	var st struct {
		Status    string          `json:"status"`
		Result    json.RawMessage `json:"result"`
		Error     *string         `json:"error"`
		ErrorCode string          `json:"error_code"`
	}
	if err := json.Unmarshal(env.Data, &st); err != nil {
		return outcome{}, "", fmt.Errorf("EasyTHS status unreadable: %w", err)
	}
	status := normalStatus(st.Status)
	if !isFinal(status) {
		return outcome{}, status, nil
	}
	o := outcome{status: status, code: st.ErrorCode}
	if len(st.Result) > 0 && string(st.Result) != "null" {
		o, _ = bareResult(st.Result)
		o.status = status
		if o.code == "" {
			o.code = st.ErrorCode
		}
	} else {
		o.success = status == "success"
	}
	if st.Error != nil && o.message == "" {
		o.message = *st.Error
	}
	if status != "success" {
		o.success = false
	}
	return o, status, nil
}

// normalStatus reads v1.7's completed as the documented success.
func normalStatus(s string) string {
	if s == "completed" {
		return "success"
	}
	return s
}

func isFinal(s string) bool { return s == "success" || s == "failed" || s == "cancelled" }

// parseResult reads a /result answer: v1.7's bare {success, data,
// message, timestamp}, or an envelope whose data holds {operation_id,
// status, result}. final is false for an envelope still queued/running.
func parseResult(b []byte) (outcome, bool) {
	env, ok := decodeEnvelope(b)
	if !ok {
		return outcome{status: "failed", message: "EasyTHS /result unreadable: " + string(b)}, true
	}
	var inner struct {
		OperationID string          `json:"operation_id"`
		Status      string          `json:"status"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   string          `json:"error_code"`
		Error       *string         `json:"error"`
	}
	if json.Unmarshal(env.Data, &inner) == nil && inner.OperationID != "" && (inner.Status != "" || len(inner.Result) > 0) {
		status := normalStatus(inner.Status)
		if status == "" {
			status = "success"
		}
		if !isFinal(status) && len(inner.Result) == 0 {
			return outcome{}, false
		}
		o, _ := bareResult(inner.Result)
		if status != "success" {
			o.success = false
		}
		o.status = status
		if o.code == "" {
			o.code = inner.ErrorCode
		}
		if o.code == "" {
			o.code = env.code()
		}
		if o.message == "" && inner.Error != nil {
			o.message = *inner.Error
		}
		return o, true
	}
	o, _ := bareResult(b)
	if o.success {
		o.status = "success"
	} else {
		o.status = "failed"
	}
	return o, true
}

// bareResult reads {success, data, message, error_code?}.
func bareResult(b []byte) (outcome, bool) {
	env, ok := decodeEnvelope(b)
	if !ok {
		return outcome{}, false
	}
	o := outcome{data: env.Data, code: env.code()}
	o.success = env.Success != nil && *env.Success
	o.message = env.text()
	// Some plugins say success: false inside data only.
	var inner struct {
		Success *bool   `json:"success"`
		Message *string `json:"message"`
	}
	if json.Unmarshal(env.Data, &inner) == nil && inner.Success != nil && !*inner.Success {
		o.success = false
		if inner.Message != nil && o.message == "" {
			o.message = *inner.Message
		}
	}
	return o, true
}

// giveUp ends a call whose operation's end was not seen in time: a last
// /status (an end found is the answer), a DELETE when it is still queued
// (then nothing ran), else outcome_unknown with a background settle.
func (t *Terminal) giveUp(ctx context.Context, p pendingOp, last string, sideEffect bool, cause error) (json.RawMessage, error) {
	if errors.Is(cause, errForgotten) {
		t.untrack(p.ID)
		if sideEffect {
			return nil, automation.OutcomeUnknown(cause, "EasyTHS operation %s (%s): %v; check the account", p.ID, p.Name, cause)
		}
		return nil, automation.NotConnected("EasyTHS operation %s (%s): %v", p.ID, p.Name, cause)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	o, status, err := t.status(cctx, p.ID)
	if err == nil && isFinal(status) {
		t.untrack(p.ID)
		return t.ended(p, o, sideEffect)
	}
	if err == nil {
		last = status
	}
	if last == "queued" {
		r, err := t.api.call(cctx, http.MethodDelete, "/api/v1/operations/"+p.ID, nil, nil, 0)
		if err == nil && r.status == http.StatusOK {
			t.untrack(p.ID)
			t.log.Info("EasyTHS operation cancelled there: still queued at the deadline", "easyths_operation_id", p.ID, "operation", p.Name)
			return nil, &automation.Error{Code: automation.CodeTimeout, Err: cause,
				Message: fmt.Sprintf("nothing ran: EasyTHS operation %s (%s) was still queued at the deadline and was cancelled there", p.ID, p.Name)}
		}
	}
	if !sideEffect {
		t.untrack(p.ID)
		return nil, &automation.Error{Code: automation.CodeTimeout, Err: cause, Message: fmt.Sprintf("EasyTHS operation %s (%s) did not end in time (last seen %s)", p.ID, p.Name, last)}
	}
	t.settleLater(p)
	return nil, automation.OutcomeUnknown(cause, "EasyTHS operation %s (%s) did not end before the deadline (last seen %s); brokerd goes on asking EasyTHS for it and logs its end; it is never resubmitted", p.ID, p.Name, last)
}
