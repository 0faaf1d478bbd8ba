package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/queue"
)

// submit queues an operation.
//
//	@Summary		Submit an operation
//	@Description	Validates the parameters against the operation's schema and the terminal's capabilities, journals the operation and queues it on the terminal's lane. Nothing is queued when the answer is not 200. Each operation's own parameters and an example request are under its "operation: NAME" tag. An Idempotency-Key header (or client_id) makes a retry safe: the same key with the same payload answers the existing operation with data.duplicate = true; with another payload, 409. A key whose operation failed not_connected (nothing was sent) is free again for a new attempt. With ?wait=SECONDS the answer waits until the operation has finished (then success, message and error_code are the operation's, and data.result is set) or the wait is over (data.status says where it is).
//	@Tags			operations
//	@Accept			json
//	@Produce		json
//	@Param			name			path		string			true	"operation name, such as buy (GET /operations/ lists them)"
//	@Param			request			body		SubmitRequest	false	"parameters and options; an empty body is {}"
//	@Param			Idempotency-Key	header		string			false	"idempotency key, scoped to the terminal (at most 200 bytes)"
//	@Param			wait			query		number			false	"seconds to wait for the result (fractional allowed)"
//	@Success		200				{object}	Envelope{data=SubmitWaitView}	"queued (or an idempotent replay, or the result with ?wait=)"
//	@Failure		400				{object}	ErrorEnvelope	"body is not JSON"
//	@Failure		401				{object}	ErrorEnvelope
//	@Failure		403				{object}	ErrorEnvelope
//	@Failure		404				{object}	ErrorEnvelope	"unknown operation"
//	@Failure		409				{object}	ErrorEnvelope	"idempotency key used with another payload"
//	@Failure		413				{object}	ErrorEnvelope	"body over 1 MiB"
//	@Failure		422				{object}	ErrorEnvelope{data=fieldErrors}	"invalid_params naming every bad field, unsupported by the terminal, or risk_limit (data is a RiskRefusal: rule, limit, value)"
//	@Failure		429				{object}	ErrorEnvelope
//	@Failure		503				{object}	ErrorEnvelope	"queue_full or journal_unavailable (both with Retry-After), or shutting down"
//	@Security		BearerAuth
//	@Router			/operations/{name} [post]
func (s *Server) submit(c *gin.Context) {
	name := c.Param("name")
	plugin, known := s.ops.Lookup(name)
	if !known {
		s.fail(c, codeUnknownOperation,
			fmt.Sprintf("unknown operation %q: GET /api/v1/operations/ lists the operations (%s)", truncate(name, 64), strings.Join(s.ops.Names(), ", ")), nil)
		return
	}
	raw, err := s.readBody(c)
	switch {
	case errors.Is(err, errTooLarge):
		s.fail(c, codeTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes), nil)
		return
	case err != nil:
		s.fail(c, codeBadRequest, "could not read the request body: "+err.Error(), nil)
		return
	}
	body, errs, err := decodeSubmit(raw)
	if err != nil {
		s.fail(c, codeBadRequest, `the body is not valid JSON: send {"params": {...}} with Content-Type: application/json`, nil)
		return
	}
	wait, waitGiven, fe := querySeconds(c, "wait")
	if fe != nil {
		errs = append(errs, *fe)
	}
	key, fe := idempotencyKey(c.GetHeader("Idempotency-Key"), body.clientID)
	if fe != nil {
		errs = append(errs, *fe)
	}
	notBefore, fe := notBeforeOf(body, s.now())
	if fe != nil {
		errs = append(errs, *fe)
	}
	sub, refused := s.submitOperation(c.Request.Context(), submission{
		name: name, plugin: plugin, params: body.params, terminal: body.terminal, priority: body.priority,
		timeout: body.timeout, expireAfter: body.expireAfter, notBefore: notBefore, key: key, errs: errs,
	})
	if refused != nil {
		s.refuse(c, refused)
		return
	}
	if waitGiven && wait > 0 {
		s.awaitSubmitted(c, sub, wait)
		return
	}
	msg := "operation queued"
	if !sub.Operation.NotBefore.IsZero() && sub.Operation.Status == queue.StatusQueued {
		msg = "operation scheduled: queued, it starts not before " + formatTime(sub.Operation.NotBefore)
	}
	if sub.Duplicate {
		msg = "duplicate submit: this idempotency key was already used with the same payload; this is the existing operation"
	}
	s.ok(c, msg, newSubmitView(sub))
}

// submitFailed answers a submit the queue refused.
func (s *Server) submitFailed(c *gin.Context, sub queue.Submitted, err error) {
	s.refuse(c, queueRefusal(sub, err))
}

// awaitSubmitted answers a submit with ?wait=: with the result when the
// operation finishes within wait, else with where it is.
func (s *Server) awaitSubmitted(c *gin.Context, sub queue.Submitted, wait time.Duration) {
	ctx, cancel := s.waitContext(c, wait)
	defer cancel()
	op, err := s.q.Wait(ctx, sub.Operation.ID)
	if err == nil && op.Status.Final() {
		v := SubmitWaitView{SubmitView: newSubmitView(sub), Result: newResultView(op),
			Error: stringOrNil(op.Error), ErrorCode: stringOrNil(op.ErrorCode)}
		v.Status = string(op.Status)
		v.QueuePosition = nil
		s.reply(c, http.StatusOK, Envelope{Success: op.Status == queue.StatusSuccess, Message: outcomeMessage(op),
			Data: v, ErrorCode: stringOrNil(op.ErrorCode)})
		return
	}
	if op.ID == "" {
		op = sub.Operation
	}
	v := SubmitWaitView{SubmitView: newSubmitView(sub)}
	if op.Status != queue.StatusQueued {
		v.Status = string(op.Status)
		v.QueuePosition = nil
	}
	msg := fmt.Sprintf("operation %s, not finished within the wait: GET /api/v1/operations/%s/result waits for it", op.Status, op.ID)
	if errors.Is(err, queue.ErrClosed) || errors.Is(context.Cause(ctx), errShuttingDown) {
		msg = fmt.Sprintf("brokerd is shutting down: operation %s is %s and stays journaled; ask for its result after the restart", op.ID, op.Status)
	}
	s.ok(c, msg, v)
}

// idempotencyKey is the Idempotency-Key header or the body's client_id;
// both given must agree. Both follow checkKey's rule (HTTP itself drops
// spaces around a header value before brokerd sees it).
func idempotencyKey(header, clientID string) (string, *fieldError) {
	if header == "" {
		return clientID, nil
	}
	if reason := checkKey(header); reason != "" {
		return "", &fieldError{Field: "Idempotency-Key", Reason: reason}
	}
	if clientID != "" && clientID != header {
		return "", &fieldError{Field: "client_id", Reason: "differs from the Idempotency-Key header: give one key, or the same in both"}
	}
	return header, nil
}

// paramField names a parameter's field as the API shows it: params.NAME.
func paramField(f string) string {
	if f == "params" || strings.HasPrefix(f, "params.") {
		return f
	}
	return "params." + f
}

func (s *Server) unknownTerminal(name string) fieldError {
	return fieldError{Field: "terminal", Reason: fmt.Sprintf("unknown terminal %q: configured terminals are %s",
		truncate(name, 64), strings.Join(s.order, ", "))}
}

// internal answers 500 and logs why; the client learns only what failed.
func (s *Server) internal(c *gin.Context, what string, err error) {
	s.log.Error("request failed", "what", what, "route", routeLabel(c), "err", err)
	s.fail(c, codeInternal, "internal error while trying to "+what+": see the server log", nil)
}

// journalRetryAfter is what a client is told to wait when the journal
// cannot be written: long enough for an operator to notice, short enough
// that a script retries soon after the fix.
const journalRetryAfter = 10 * time.Second

// journalUnavailable answers 503 journal_unavailable with Retry-After: the
// journal failed, which is no bug of the request nor of brokerd's code but
// a state of the machine (disk full, read-only, corrupt) that health
// reports. The cause is logged; the client learns what did not happen.
func (s *Server) journalUnavailable(c *gin.Context, what, outcome string, err error) {
	s.log.Error("the journal failed", "what", what, "route", routeLabel(c), "err", err)
	s.failRetry(c, codeJournalUnavailable, "the journal cannot be written (disk full, read-only or damaged; GET /api/v1/system/health says more): "+
		outcome+"; retry once it is fixed", journalRetryAfter)
}
