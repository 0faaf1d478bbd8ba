package easytrader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// agent is easytrader's server.py over HTTP: one call at a time (the
// Terminal serializes them), each bounded by the request timeout.
type agent struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
}

// answer is what the agent said.
type answer struct {
	status int
	body   []byte
}

// sendError is a call that got no complete answer. sent tells whether any
// of the request reached the wire: when it did not, the agent provably
// did nothing.
type sendError struct {
	sent bool
	err  error
}

func (e *sendError) Error() string {
	if !e.sent {
		return "not sent: " + e.err.Error()
	}
	return "no answer: " + e.err.Error()
}

func (e *sendError) Unwrap() error { return e.err }

// call sends one request. A transport failure is a *sendError; any HTTP
// answer, 400 and 5xx included, is an answer.
func (a *agent) call(ctx context.Context, method, path string, body any) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, a.timeout, errRequestTimeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, method, a.base.JoinPath(path).String(), r)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return answer{}, &sendError{sent: wrote.Load(), err: cleanCause(ctx, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return answer{}, &sendError{sent: true, err: cleanCause(ctx, err)}
	}
	return answer{status: resp.StatusCode, body: b}, nil
}

var errRequestTimeout = errors.New("the agent did not answer within request_timeout")

// cleanCause says why a call failed without the URL the http package puts
// in its errors (the agent's address is in the terminal's log context).
func cleanCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// agentError is server.py's 400 {"error": "<class 'pkg.Class'>: msg"}.
type agentError struct {
	class   string // easytrader.exceptions.TradeError, KeyError, …
	message string
}

func (e *agentError) Error() string {
	if e.class == "" {
		return e.message
	}
	return e.class + ": " + e.message
}

var classRepr = regexp.MustCompile(`^<class '([^']*)'>:\s*`)

// parseAgentError reads a 400's body; a body of another shape is kept as
// text.
func parseAgentError(body []byte) *agentError {
	var v struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Error == "" {
		return &agentError{message: strings.TrimSpace(string(body))}
	}
	if m := classRepr.FindStringSubmatch(v.Error); m != nil {
		return &agentError{class: m[1], message: strings.TrimSpace(v.Error[len(m[0]):])}
	}
	return &agentError{message: v.Error}
}

// loggedOut reports the agent's answer before any /prepare (a restarted
// server.py): global_store["user"] raises KeyError: 'user'.
func (e *agentError) loggedOut() bool {
	return e.class == "KeyError" && strings.Trim(e.message, `'"`) == "user"
}

func (a answer) String() string {
	return fmt.Sprintf("HTTP %d %.200s", a.status, bytes.TrimSpace(a.body))
}
