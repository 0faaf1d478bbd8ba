package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// /mcp serves brokerd's operations to LLM agents as Model Context Protocol
// tools over streamable HTTP: one tool per operation, whose input schema is
// the operation's parameter schema, plus operation_status,
// operation_result and operation_cancel. A tool call is a submit like POST
// /operations/{name}: the same validation, journal, idempotency and
// metrics (submitOperation). Keys and scopes are the API's: an order
// (an operation with side effects) and a cancel need trade, queries and
// status need read.

// The submit options a tool takes besides the operation's parameters. A
// parameter of the same name wins (none has one today).
const (
	mcpPriority    = "priority"
	mcpTerminal    = "terminal"
	mcpTimeout     = "timeout"
	mcpExpireAfter = "expire_after"
	mcpKey         = "idempotency_key"
	mcpWait        = "wait"
)

// Waits of the tools, in seconds.
const (
	mcpDefaultWait = 10
	mcpMaxWait     = 120
)

// Names of the tools that are not operations.
const (
	toolStatus = "operation_status"
	toolResult = "operation_result"
	toolCancel = "operation_cancel"
)

// mcpHandler builds the MCP endpoint. It is stateless (each POST carries
// one exchange), so it holds no session to leak or to outlive a shutdown.
func (s *Server) mcpHandler() gin.HandlerFunc {
	srv := mcp.NewServer(&mcp.Implementation{Name: "brokerd", Title: "brokerd", Version: s.cfg.Version}, &mcp.ServerOptions{
		Instructions: "brokerd queues trading operations on broker terminals, one at a time per terminal, in priority order. " +
			"Each operation tool submits the operation (validated, journaled) and waits up to `wait` seconds for its result; " +
			"use operation_result to wait longer and operation_status to look. Pass an idempotency_key with orders so that a retry " +
			"cannot place a second order. A failed order with error_code outcome_unknown may have reached the broker: check the account before retrying.",
		Logger: s.log.With("component", "mcp"),
	})
	descs := s.ops.Describe()
	for _, name := range s.ops.Names() {
		plugin, _ := s.ops.Lookup(name)
		srv.AddTool(s.operationTool(name, descs[name]), s.callOperation(name, plugin))
	}
	idSchema := map[string]any{"type": "string", "description": "the operation id a submit answered"}
	srv.AddTool(&mcp.Tool{
		Name:        toolStatus,
		Description: "Where an operation is (queued, running, success, failed, cancelled), with its result once it has finished.",
		InputSchema: objectSchema(map[string]any{"operation_id": idSchema}, []string{"operation_id"}),
		Annotations: &mcp.ToolAnnotations{Title: "Operation status", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
	}, s.callStatus)
	srv.AddTool(&mcp.Tool{
		Name:        toolResult,
		Description: fmt.Sprintf("Waits until an operation has finished (at most timeout seconds, default %d, at most %d) and answers its outcome.", mcpDefaultWait, mcpMaxWait),
		InputSchema: objectSchema(map[string]any{
			"operation_id": idSchema,
			"timeout":      map[string]any{"type": "number", "exclusiveMinimum": 0, "maximum": mcpMaxWait, "description": "seconds to wait at most"},
		}, []string{"operation_id"}),
		Annotations: &mcp.ToolAnnotations{Title: "Operation result", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
	}, s.callResult)
	srv.AddTool(&mcp.Tool{
		Name:        toolCancel,
		Description: "Cancels an operation that has not started. A running or finished operation cannot be cancelled: a running order may already be at the broker.",
		InputSchema: objectSchema(map[string]any{"operation_id": idSchema}, []string{"operation_id"}),
		Annotations: &mcp.ToolAnnotations{Title: "Cancel a queued operation", DestructiveHint: new(true), IdempotentHint: true, OpenWorldHint: new(false)},
	}, s.callCancel)

	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		// The browser guard and LoopbackHostsOnly already stand in front.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        s.cfg.MaxBodyBytes,
	})
	var handler http.Handler = h
	if !s.keys.open() {
		handler = auth.RequireBearerToken(s.verifyMCPKey, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	}
	return func(c *gin.Context) {
		// A tool call may wait for a result longer than a write deadline.
		_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
		handler.ServeHTTP(c.Writer, c.Request)
	}
}

// verifyMCPKey checks an MCP client's Bearer key against the API's keys.
func (s *Server) verifyMCPKey(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	k, ok := s.keys.find(token)
	if !ok {
		return nil, fmt.Errorf("%w: invalid API key", auth.ErrInvalidToken)
	}
	scopes := make([]string, len(k.scopes))
	for i, sc := range k.scopes {
		scopes[i] = string(sc)
	}
	return &auth.TokenInfo{Scopes: scopes, UserID: k.name}, nil
}

// allowed reports whether the call's key has scope; without keys
// everything is allowed, as on the API.
func (s *Server) allowed(req *mcp.CallToolRequest, scope Scope) bool {
	if s.keys.open() {
		return true
	}
	if req.Extra == nil || req.Extra.TokenInfo == nil {
		return false
	}
	return slices.Contains(req.Extra.TokenInfo.Scopes, string(scope))
}

func (s *Server) forbidden(req *mcp.CallToolRequest, scope Scope) *mcp.CallToolResult {
	name := "this key"
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		name = fmt.Sprintf("API key %q", req.Extra.TokenInfo.UserID)
	}
	return toolError(codeForbidden, fmt.Sprintf("%s lacks the %q scope this tool needs", name, scope), nil)
}

// operationTool describes an operation as a tool.
func (s *Server) operationTool(name string, d plugins.Description) *mcp.Tool {
	props := make(map[string]any, len(d.Parameters)+6)
	var required []string
	for _, pname := range d.ParameterOrder {
		p := d.Parameters[pname]
		props[pname] = mcpParamSchema(p)
		if p.Required {
			required = append(required, pname)
		}
	}
	var terminals []any
	for _, t := range s.order {
		if s.ops.Supported(name, s.laneTerminal(t)) {
			terminals = append(terminals, t)
		}
	}
	options := map[string]any{
		mcpPriority:    map[string]any{"type": "integer", "minimum": queue.MinPriority, "maximum": queue.MaxPriority, "default": 0, "description": "0-10, higher runs first"},
		mcpTerminal:    map[string]any{"type": "string", "enum": terminals, "description": "terminal to run on (default: " + s.order[0] + ")"},
		mcpTimeout:     map[string]any{"type": "number", "exclusiveMinimum": 0, "maximum": maxSeconds, "description": "execution deadline in seconds (default: brokerd's operation_timeout)"},
		mcpExpireAfter: map[string]any{"type": "number", "exclusiveMinimum": 0, "maximum": maxSeconds, "description": "seconds after which it is cancelled (expired) if it has not started"},
		mcpKey:         map[string]any{"type": "string", "minLength": 1, "maxLength": maxKeyBytes, "description": "idempotency key: the same key with the same parameters answers the existing operation instead of placing another"},
		mcpWait:        map[string]any{"type": "number", "minimum": 0, "maximum": mcpMaxWait, "default": mcpDefaultWait, "description": "seconds to wait for the result; 0 answers as soon as it is queued"},
	}
	for k, v := range options {
		if _, taken := props[k]; !taken {
			props[k] = v
		}
	}
	desc := d.DescriptionEn
	if d.Description != "" {
		desc += " (" + d.Description + ")"
	}
	if d.SideEffect {
		desc += ". It changes the account (an order): it needs the trade scope; give an idempotency_key."
	} else {
		desc += ". A query: it changes nothing."
	}
	if len(d.Example) > 0 {
		if b, err := json.Marshal(d.Example); err == nil {
			desc += " Example parameters: " + string(b)
		}
	}
	ann := &mcp.ToolAnnotations{Title: d.Name, ReadOnlyHint: !d.SideEffect, OpenWorldHint: new(true)}
	if d.SideEffect {
		ann.DestructiveHint = new(true)
	}
	return &mcp.Tool{Name: name, Description: desc, InputSchema: objectSchema(props, required), Annotations: ann}
}

// mcpParamSchema is a parameter as JSON Schema (2020-12).
func mcpParamSchema(p plugins.Param) map[string]any {
	m := map[string]any{"type": p.Type}
	desc := p.DescriptionEn
	if p.Description != "" && p.Description != desc {
		desc = strings.TrimSpace(desc + " (" + p.Description + ")")
	}
	m["description"] = desc
	if len(p.Enum) > 0 {
		m["enum"] = p.Enum
	}
	if p.Minimum != nil {
		if p.ExclusiveMinimum {
			m["exclusiveMinimum"] = *p.Minimum
		} else {
			m["minimum"] = *p.Minimum
		}
	}
	if p.Maximum != nil {
		m["maximum"] = *p.Maximum
	}
	if p.MultipleOf != 0 {
		m["multipleOf"] = p.MultipleOf
	}
	if p.Pattern != "" {
		m["pattern"] = "^(?:" + p.Pattern + ")$"
	}
	if p.Default != nil {
		m["default"] = p.Default
	}
	if p.Example != nil {
		m["examples"] = []any{p.Example}
	}
	return m
}

func objectSchema(props map[string]any, required []string) map[string]any {
	m := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

// callOperation submits the operation of a tool call.
func (s *Server) callOperation(name string, plugin *plugins.Plugin) mcp.ToolHandler {
	scope := ScopeRead
	if plugin.SideEffect {
		scope = ScopeTrade
	}
	params := map[string]bool{}
	for _, p := range plugin.Params {
		params[p.Name] = true
	}
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if !s.allowed(req, scope) {
			return s.forbidden(req, scope), nil
		}
		in, wait, errs := mcpSubmission(req.Params.Arguments, params)
		in.name, in.plugin, in.errs = name, plugin, errs
		sub, refused := s.submitOperation(ctx, in)
		if refused != nil {
			return s.toolRefusal(refused), nil
		}
		if wait <= 0 {
			return toolOK(newSubmitView(sub), "queued"), nil
		}
		wctx, cancel := s.toolWaitContext(ctx, wait)
		defer cancel()
		op, err := s.q.Wait(wctx, sub.Operation.ID)
		if err != nil || !op.Status.Final() {
			if op.ID == "" {
				op = sub.Operation
			}
			return toolOK(newStatusView(op, s.now()), fmt.Sprintf("operation %s is %s after %gs: call %s to wait for it", op.ID, op.Status, wait.Seconds(), toolResult)), nil
		}
		return finishedResult(newStatusView(op, s.now())), nil
	}
}

// mcpSubmission splits a tool call's arguments into the operation's
// parameters and the submit options.
func mcpSubmission(raw json.RawMessage, params map[string]bool) (submission, time.Duration, []fieldError) {
	in := submission{params: json.RawMessage("{}")}
	wait := time.Duration(mcpDefaultWait) * time.Second
	if isNull(raw) {
		raw = nil // no arguments: {}
	}
	fields, errs, err := decodeObject(raw)
	if err != nil {
		return in, 0, []fieldError{{Field: "arguments", Reason: "must be a JSON object"}}
	}
	if errs != nil {
		return in, 0, []fieldError{{Field: "arguments", Reason: "must be a JSON object of the operation's parameters and options"}}
	}
	opParams := map[string]json.RawMessage{}
	bad := func(field, reason string) { errs = append(errs, fieldError{Field: field, Reason: reason}) }
	for k, v := range fields {
		if params[k] || isNull(v) {
			if params[k] {
				opParams[k] = v
			}
			continue
		}
		switch k {
		case mcpPriority:
			f, ok := number(v)
			if !ok || f != float64(int(f)) || f < queue.MinPriority || f > queue.MaxPriority {
				bad(k, "must be an integer from 0 to 10")
				continue
			}
			in.priority = int(f)
		case mcpTerminal:
			s, ok := str(v)
			if !ok {
				bad(k, "must be a string naming a configured terminal")
				continue
			}
			in.terminal = s
		case mcpTimeout, mcpExpireAfter:
			f, ok := number(v)
			if !ok || f <= 0 || f > maxSeconds {
				bad(k, fmt.Sprintf("must be a number of seconds greater than 0 and at most %d", maxSeconds))
				continue
			}
			if k == mcpTimeout {
				in.timeout = seconds(f)
			} else {
				in.expireAfter = seconds(f)
			}
		case mcpKey:
			s, ok := str(v)
			if !ok {
				bad(k, "must be a string")
				continue
			}
			if reason := checkKey(s); reason != "" {
				bad(k, reason)
				continue
			}
			in.key = s
		case mcpWait:
			f, ok := number(v)
			if !ok || f < 0 || f > mcpMaxWait {
				bad(k, fmt.Sprintf("must be a number of seconds from 0 to %d", mcpMaxWait))
				continue
			}
			wait = seconds(f)
		default:
			// Unknown: left to the operation's schema, which names it.
			opParams[k] = v
		}
	}
	b, err := json.Marshal(opParams)
	if err == nil {
		in.params = b
	}
	sortFieldErrors(errs)
	return in, wait, errs
}

// toolWaitContext bounds a tool's wait by d and brokerd's shutdown, and
// counts the waiter as /result's do.
func (s *Server) toolWaitContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(ctx, d, errWaitOver)
	stop := context.AfterFunc(s.shutdown, cancel)
	s.metrics.waiters.Add(1)
	return ctx, func() {
		s.metrics.waiters.Add(-1)
		stop()
		cancel()
	}
}

func (s *Server) callStatus(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if !s.allowed(req, ScopeRead) {
		return s.forbidden(req, ScopeRead), nil
	}
	id, res := operationID(req)
	if res != nil {
		return res, nil
	}
	op, err := s.q.Get(ctx, id)
	if err != nil {
		return s.lookupRefusal(id, "look up the operation", err), nil
	}
	return toolOK(newStatusView(op, s.now()), ""), nil
}

func (s *Server) callResult(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if !s.allowed(req, ScopeRead) {
		return s.forbidden(req, ScopeRead), nil
	}
	var args struct {
		OperationID string   `json:"operation_id"`
		Timeout     *float64 `json:"timeout"`
	}
	if err := json.Unmarshal(req.Params.Arguments, &args); err != nil || args.OperationID == "" {
		return toolError(codeInvalidParams, "give operation_id (a string) and optionally timeout (seconds)", nil), nil
	}
	wait := time.Duration(mcpDefaultWait) * time.Second
	if args.Timeout != nil {
		if *args.Timeout <= 0 || *args.Timeout > mcpMaxWait {
			return toolError(codeInvalidParams, fmt.Sprintf("timeout must be greater than 0 and at most %d seconds", mcpMaxWait), nil), nil
		}
		wait = seconds(*args.Timeout)
	}
	wctx, cancel := s.toolWaitContext(ctx, wait)
	defer cancel()
	op, err := s.q.Wait(wctx, args.OperationID)
	switch {
	case err == nil && op.Status.Final():
		return finishedResult(newStatusView(op, s.now())), nil
	case errors.Is(err, queue.ErrNotFound):
		return s.lookupRefusal(args.OperationID, "", err), nil
	case err == nil || errors.Is(context.Cause(wctx), errWaitOver):
		return toolOK(newStatusView(op, s.now()), fmt.Sprintf("operation is still %s after %gs: ask again", op.Status, wait.Seconds())), nil
	case errors.Is(err, queue.ErrClosed) || s.shutdown.Err() != nil:
		return toolError(codeUnavailable, "brokerd is shutting down before the operation finished; it stays journaled: ask after the restart", nil), nil
	default:
		return s.toolRefusal(&refusal{code: codeInternal, what: "wait for the operation", err: err}), nil
	}
}

func (s *Server) callCancel(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if !s.allowed(req, ScopeTrade) {
		return s.forbidden(req, ScopeTrade), nil
	}
	id, res := operationID(req)
	if res != nil {
		return res, nil
	}
	op, err := s.q.Cancel(context.WithoutCancel(ctx), id)
	switch {
	case err == nil:
		return toolOK(newStatusView(op, s.now()), "operation cancelled"), nil
	case errors.Is(err, queue.ErrNotCancellable):
		return toolError(codeConflict, fmt.Sprintf("operation is %s: only a queued operation can be cancelled", op.Status), newStatusView(op, s.now())), nil
	default:
		return s.lookupRefusal(id, "cancel the operation", err), nil
	}
}

func operationID(req *mcp.CallToolRequest) (string, *mcp.CallToolResult) {
	var args struct {
		OperationID string `json:"operation_id"`
	}
	if err := json.Unmarshal(req.Params.Arguments, &args); err != nil || args.OperationID == "" {
		return "", toolError(codeInvalidParams, "give operation_id: the id a submit answered", nil)
	}
	return args.OperationID, nil
}

func (s *Server) lookupRefusal(id, what string, err error) *mcp.CallToolResult {
	if errors.Is(err, queue.ErrNotFound) {
		return toolError(codeNotFound, fmt.Sprintf("no operation %q", truncate(id, 64)), nil)
	}
	return s.toolRefusal(&refusal{code: codeInternal, what: what, err: err})
}

// toolRefusal is a refused submit as a tool error, shaped as the API's
// answer: error_code, message, and the bad fields in data.errors.
func (s *Server) toolRefusal(r *refusal) *mcp.CallToolResult {
	switch {
	case r.code == codeInternal:
		s.log.Error("mcp tool call failed", "what", r.what, "err", r.err)
		return toolError(codeInternal, "internal error while trying to "+r.what+": see the server log", nil)
	case r.fields != nil:
		msg := "invalid request: "
		for i, e := range r.fields {
			if i > 0 {
				msg += "; "
			}
			msg += e.Field + ": " + e.Reason
		}
		return toolError(r.code, msg, fieldErrors{Errors: r.fields})
	}
	return toolError(r.code, r.message, r.data)
}

// toolAnswer is a tool's structured content: the API's envelope without
// its timestamp.
type toolAnswer struct {
	Success   bool    `json:"success"`
	Message   *string `json:"message"`
	Data      any     `json:"data"`
	ErrorCode *string `json:"error_code"`
}

func toolResultOf(a toolAnswer, isError bool) *mcp.CallToolResult {
	b, err := json.Marshal(a)
	if err != nil {
		b = []byte(`{"success":false,"error_code":"internal","message":"the answer could not be encoded"}`)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
		IsError:           isError,
	}
}

func toolOK(data any, message string) *mcp.CallToolResult {
	return toolResultOf(toolAnswer{Success: true, Message: stringOrNil(message), Data: data}, false)
}

func toolError(code, message string, data any) *mcp.CallToolResult {
	return toolResultOf(toolAnswer{Message: stringOrNil(message), Data: data, ErrorCode: stringOrNil(code)}, true)
}

// finishedResult answers a finished operation: an error result when it
// did not succeed, so that an agent cannot take a rejected order for a
// placed one.
func finishedResult(v StatusView) *mcp.CallToolResult {
	ok := v.Status == string(queue.StatusSuccess)
	var msg *string
	if v.Result != nil {
		msg = v.Result.Message
	}
	return toolResultOf(toolAnswer{Success: ok, Message: msg, Data: v, ErrorCode: v.ErrorCode}, !ok)
}
