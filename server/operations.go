package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// Causes of a wait that ended without the operation finishing.
var (
	errShuttingDown = errors.New("brokerd is shutting down")
	errWaitOver     = errors.New("the wait is over")
)

// waitContext bounds a wait for a result: by the client staying, by d
// (none when d < 0) and by the server's shutdown. It also lifts the
// connection's write deadline, which a long wait would pass. The returned
// cancel must be called.
func (s *Server) waitContext(c *gin.Context, d time.Duration) (context.Context, context.CancelFunc) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}) // not every writer supports it
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	stop := context.AfterFunc(s.shutdown, func() { cancel(errShuttingDown) })
	bounded, cancelTimeout := ctx, context.CancelFunc(func() {})
	if d >= 0 {
		bounded, cancelTimeout = context.WithTimeoutCause(ctx, d, errWaitOver)
	}
	s.metrics.waiters.Add(1)
	return bounded, func() {
		s.metrics.waiters.Add(-1)
		cancelTimeout()
		stop()
		cancel(nil)
	}
}

// status reports an operation.
//
//	@Summary		Operation status
//	@Description	Where the operation is (queued, running, success, failed, cancelled), with its result once it has finished. Every field is always present; times are null until they happen.
//	@Tags			operations
//	@Produce		json
//	@Param			id	path		string	true	"operation id"
//	@Success		200	{object}	Envelope{data=StatusView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Failure		404	{object}	ErrorEnvelope	"unknown id"
//	@Security		BearerAuth
//	@Router			/operations/{id}/status [get]
func (s *Server) status(c *gin.Context) {
	op, err := s.q.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.lookupFailed(c, "look up the operation", err)
		return
	}
	s.ok(c, "", newStatusView(op, s.now()))
}

// result waits for an operation to finish and answers its outcome.
//
//	@Summary		Operation result (blocks until it has finished)
//	@Description	Waits until the operation has finished, or the timeout passes (408), or the client goes away; no timeout waits as long as it takes. The answer is EasyTHS's: success is the operation's success, data its result data, message its message or error, error_code why it failed (not_connected, rejected, timeout, outcome_unknown, interrupted, expired, cancelled, internal). HTTP 200 for any finished operation, whatever its outcome.
//	@Tags			operations
//	@Produce		json
//	@Param			id		path		string	true	"operation id"
//	@Param			timeout	query		number	false	"seconds to wait at most (fractional allowed, such as 0.5)"
//	@Success		200		{object}	Envelope	"the operation has finished; success says whether it succeeded"
//	@Failure		401		{object}	ErrorEnvelope
//	@Failure		404		{object}	ErrorEnvelope	"unknown id"
//	@Failure		408		{object}	ErrorEnvelope{data=StatusView}	"not finished within the timeout"
//	@Failure		422		{object}	ErrorEnvelope	"bad timeout"
//	@Failure		503		{object}	ErrorEnvelope	"brokerd is shutting down"
//	@Security		BearerAuth
//	@Router			/operations/{id}/result [get]
func (s *Server) result(c *gin.Context) {
	d, given, fe := querySeconds(c, "timeout")
	if fe != nil {
		s.invalid(c, []fieldError{*fe})
		return
	}
	if !given {
		d = -1
	}
	ctx, cancel := s.waitContext(c, d)
	defer cancel()
	op, err := s.q.Wait(ctx, c.Param("id"))
	if err == nil && op.Status.Final() {
		s.reply(c, http.StatusOK, Envelope{
			Success:   op.Status == queue.StatusSuccess,
			Message:   outcomeMessage(op),
			Data:      resultData(op),
			ErrorCode: stringOrNil(op.ErrorCode),
		})
		return
	}
	switch {
	case errors.Is(err, queue.ErrNotFound):
		s.fail(c, codeNotFound, fmt.Sprintf("no operation %q", truncate(c.Param("id"), 64)), nil)
	case errors.Is(err, queue.ErrClosed) || errors.Is(context.Cause(ctx), errShuttingDown):
		s.failRetry(c, codeUnavailable, "brokerd is shutting down before the operation finished; it stays journaled: ask for its result after the restart", 5*time.Second)
	case err == nil || errors.Is(context.Cause(ctx), errWaitOver):
		s.fail(c, codeTimeout, fmt.Sprintf("operation is still %s after %gs: ask again", op.Status, d.Seconds()), newStatusView(op, s.now()))
	case c.Request.Context().Err() != nil:
		// The client went away: nobody to answer.
	default:
		s.internal(c, "wait for the operation", err)
	}
}

// cancel cancels a queued operation.
//
//	@Summary		Cancel a queued operation
//	@Description	Cancels an operation that has not started. A running or finished operation cannot be cancelled (409): a running order may already be at the broker.
//	@Tags			operations
//	@Produce		json
//	@Param			id	path		string	true	"operation id"
//	@Success		200	{object}	Envelope{data=StatusView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Failure		403	{object}	ErrorEnvelope
//	@Failure		404	{object}	ErrorEnvelope	"unknown id"
//	@Failure		409	{object}	ErrorEnvelope{data=StatusView}	"running or finished"
//	@Security		BearerAuth
//	@Router			/operations/{id} [delete]
func (s *Server) cancel(c *gin.Context) {
	op, err := s.q.Cancel(context.WithoutCancel(c.Request.Context()), c.Param("id"))
	switch {
	case err == nil:
		s.ok(c, "operation cancelled", newStatusView(op, s.now()))
	case errors.Is(err, queue.ErrNotCancellable):
		s.fail(c, codeConflict, fmt.Sprintf("operation is %s: only a queued operation can be cancelled", op.Status), newStatusView(op, s.now()))
	default:
		s.lookupFailed(c, "cancel the operation", err)
	}
}

// lookupFailed answers a failed look-up of an operation by id.
func (s *Server) lookupFailed(c *gin.Context, what string, err error) {
	if errors.Is(err, queue.ErrNotFound) {
		s.fail(c, codeNotFound, fmt.Sprintf("no operation %q", truncate(c.Param("id"), 64)), nil)
		return
	}
	s.internal(c, what, err)
}

// OperationInfo is one operation in the listing: its schema (EasyTHS's
// shape) and the terminals that support it.
type OperationInfo struct {
	plugins.Description
	// Terminals lists the configured terminals that can carry it out.
	Terminals []string `json:"terminals"`
} //@name OperationInfo

// OperationList answers GET /operations/.
type OperationList struct {
	Operations map[string]OperationInfo `json:"operations"`
	// Names lists the operations in their documented order.
	Names []string `json:"names"`
	Count int      `json:"count"`
} //@name OperationList

// listOperations lists the loaded operations with their parameters.
//
//	@Summary		List the operations
//	@Description	Every loaded operation with its parameter schema (type, required, enum, bounds, default, description), an example params object, whether it changes the account (side_effect) and which terminals support it.
//	@Tags			operations
//	@Produce		json
//	@Success		200	{object}	Envelope{data=OperationList}
//	@Failure		401	{object}	ErrorEnvelope
//	@Security		BearerAuth
//	@Router			/operations/ [get]
func (s *Server) listOperations(c *gin.Context) {
	s.ok(c, "", s.operationList())
}

func (s *Server) operationList() OperationList {
	descs := s.ops.Describe()
	list := OperationList{Operations: make(map[string]OperationInfo, len(descs)), Names: s.ops.Names()}
	for _, name := range list.Names {
		info := OperationInfo{Description: descs[name], Terminals: []string{}}
		for _, t := range s.order {
			if s.ops.Supported(name, s.laneTerminal(t)) {
				info.Terminals = append(info.Terminals, t)
			}
		}
		list.Operations[name] = info
	}
	list.Count = len(list.Operations)
	return list
}
