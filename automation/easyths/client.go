package easyths

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
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// client is EasyTHS's REST API.
type client struct {
	base    *url.URL
	http    *http.Client
	key     string // the Bearer key: never logged, never in an error
	timeout time.Duration
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// sendError is a call without a complete answer; sent tells whether the
// request reached the wire at all.
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

var errRequestTimeout = errors.New("EasyTHS did not answer within request_timeout")

// call sends one request, bounded by timeout (request_timeout when 0).
func (c *client) call(ctx context.Context, method, path string, query url.Values, body any, timeout time.Duration) (reply, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		r = bytes.NewReader(b)
	}
	if timeout == 0 {
		timeout = c.timeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errRequestTimeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
	u := c.base.JoinPath(path)
	if strings.HasSuffix(path, "/") {
		u.Path += "/" // JoinPath drops it; FastAPI would redirect
	}
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, &sendError{sent: wrote.Load(), err: cleanCause(ctx, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return reply{}, &sendError{sent: true, err: cleanCause(ctx, err)}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

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

// envelope is the documented answer {success, message, data} (v2 adds
// error_code); v1.7's errors are FastAPI's {"detail": …}.
type envelope struct {
	Success   *bool           `json:"success"`
	Message   *string         `json:"message"`
	Data      json.RawMessage `json:"data"`
	ErrorCode *string         `json:"error_code"`
	Detail    json.RawMessage `json:"detail"`
	Timestamp string          `json:"timestamp"`
}

func decodeEnvelope(b []byte) (envelope, bool) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return envelope{}, false
	}
	return e, true
}

// text is an answer's error message: the envelope's message, or the
// detail (a string, or FastAPI's list of {loc, msg}).
func (e envelope) text() string {
	if e.Message != nil && *e.Message != "" {
		return *e.Message
	}
	if len(e.Detail) > 0 {
		var s string
		if json.Unmarshal(e.Detail, &s) == nil {
			return s
		}
		if fields := e.fields(); len(fields) > 0 {
			return strings.Join(fields, "; ")
		}
		return string(e.Detail)
	}
	return ""
}

func (e envelope) code() string {
	if e.ErrorCode == nil {
		return ""
	}
	return *e.ErrorCode
}

// fields names the bad fields of a 422: v2's data.errors [{field, reason}]
// or FastAPI's detail [{loc: ["body","params","quantity"], msg}].
func (e envelope) fields() []string {
	var out []string
	var v2 struct {
		Errors []struct{ Field, Reason string } `json:"errors"`
	}
	if json.Unmarshal(e.Data, &v2) == nil {
		for _, f := range v2.Errors {
			out = append(out, f.Field+": "+f.Reason)
		}
	}
	var fastapi []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(e.Detail, &fastapi) == nil {
		for _, f := range fastapi {
			var parts []string
			for _, p := range f.Loc {
				if s := fmt.Sprint(p); s != "body" {
					parts = append(parts, s)
				}
			}
			out = append(out, strings.Join(parts, ".")+": "+f.Msg)
		}
	}
	return out
}

// retryAfter reads a Retry-After header in seconds.
func (r reply) retryAfter() time.Duration {
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func (r reply) String() string {
	return fmt.Sprintf("HTTP %d %.200s", r.status, bytes.TrimSpace(r.body))
}
