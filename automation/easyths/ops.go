package easyths

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// pendingOp is an EasyTHS operation submitted and not yet settled, as the
// ledger keeps it across a crash.
type pendingOp struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Params      json.RawMessage `json:"params"`
	SubmittedAt time.Time       `json:"submitted_at"`
}

// outcome is how an EasyTHS operation ended.
type outcome struct {
	status  string // success, failed, cancelled
	success bool
	data    json.RawMessage
	message string
	code    string // v2's error_code, when given
}

// cleanupTimeout bounds the last look at an operation after the call's
// deadline: one /status and, for one still queued, its DELETE, so that it
// does not run after brokerd has given up on it.
const cleanupTimeout = 3 * time.Second

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
			return automation.OutcomeUnknown(se.err, "EasyTHS %s: the submit's answer was lost; EasyTHS may have queued it and, without its id, cannot be asked: check the account, nothing was resent", name)
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
			return automation.OutcomeUnknown(nil, "EasyTHS %s: the submit answered %s with no operation id; check the account, nothing was resent", name, r)
		}
		return automation.NotConnected("EasyTHS %s: %s", name, r)
	}
	return automation.VenueError(automation.CodeRejected, env.code(), "EasyTHS refused "+name+": "+text)
}

// httpError is the error of a non-200 answer to a read of the system.
func (t *Terminal) httpError(what string, r reply) error {
	env, _ := decodeEnvelope(r.body)
	if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
		return automation.NotConnected("EasyTHS %s: the API key was refused (options.api_key_env): HTTP %d", what, r.status)
	}
	return automation.NotConnected("EasyTHS %s: HTTP %d %s", what, r.status, env.text())
}

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

// report logs and publishes an operation's end found after its call.
func (t *Terminal) report(p pendingOp, o outcome) {
	t.log.Warn("EasyTHS operation settled after its call ended", "easyths_operation_id", p.ID, "operation", p.Name,
		"status", o.status, "message", o.message)
	var data any
	if len(o.data) > 0 {
		data = o.data
	}
	t.emit(automation.VenueEvent{Terminal: t.name, Kind: "operation", At: t.now(), Data: map[string]any{
		"easyths_operation_id": p.ID, "operation": p.Name, "status": o.status, "success": o.success,
		"message": o.message, "data": data, "submitted_at": p.SubmittedAt,
	}})
}

// settleLater asks EasyTHS for p's end until it has one, EasyTHS forgets
// it, or the terminal closes.
func (t *Terminal) settleLater(p pendingOp) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		ctx, cancel := t.untilClose()
		defer cancel()
		for {
			o, status, err := t.status(ctx, p.ID)
			switch {
			case errors.Is(err, errForgotten):
				t.log.Error("EasyTHS forgot an unsettled operation: check the account", "easyths_operation_id", p.ID, "operation", p.Name)
				t.untrack(p.ID)
				return
			case err == nil && isFinal(status):
				t.report(p, o)
				t.untrack(p.ID)
				return
			}
			select {
			case <-ctx.Done():
				return // still journaled: the next start asks again
			case <-time.After(t.pollEvery):
			}
		}
	}()
}

// track keeps p (and journals it, with a ledger) until untrack.
func (t *Terminal) track(ctx context.Context, p pendingOp) {
	t.mu.Lock()
	t.pending[p.ID] = p
	state := t.ledgerState()
	t.mu.Unlock()
	t.save(ctx, state)
}

func (t *Terminal) untrack(id string) {
	t.mu.Lock()
	if _, ok := t.pending[id]; !ok {
		t.mu.Unlock()
		return
	}
	delete(t.pending, id)
	state := t.ledgerState()
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	t.save(ctx, state)
}

// ledgerState encodes the pending operations, sorted by id; t.mu held.
func (t *Terminal) ledgerState() []byte {
	list := make([]pendingOp, 0, len(t.pending))
	for _, p := range t.pending {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b pendingOp) int { return strings.Compare(a.ID, b.ID) })
	b, _ := json.Marshal(struct {
		Pending []pendingOp `json:"pending"`
	}{list})
	return b
}

func (t *Terminal) save(ctx context.Context, state []byte) {
	if t.ledger == nil {
		return
	}
	if err := t.ledger.SaveLedger(ctx, t.name, state); err != nil {
		t.log.Error("cannot journal EasyTHS's pending operation ids (they are in this log)", "error", err)
	}
}

// recover settles, in the background, the operations a previous run left
// unsettled (a crash between the submit and the result).
func (t *Terminal) recover(ctx context.Context) {
	if t.ledger == nil {
		return
	}
	raw, err := t.ledger.LoadLedger(ctx, t.name)
	if err != nil || raw == nil {
		if err != nil {
			t.log.Error("cannot read the journaled EasyTHS operation ids", "error", err)
		}
		return
	}
	var st struct {
		Pending []pendingOp `json:"pending"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.log.Error("the journaled EasyTHS operation ids are unreadable", "error", err)
		return
	}
	for _, p := range st.Pending {
		t.log.Warn("EasyTHS operation left unsettled by the last run: asking EasyTHS for it", "easyths_operation_id", p.ID, "operation", p.Name)
		t.mu.Lock()
		t.pending[p.ID] = p
		t.mu.Unlock()
		t.settleLater(p)
	}
}
