// Package client is a Go client for brokerd's HTTP API (/api/v1): submit an
// operation and wait for it, follow its status, cancel it, list operations
// and history, read the queue's stats, pause and resume lanes, check health
// and follow the event stream.
//
// Every call takes a context. A failed call returns an *Error carrying
// brokerd's error_code and the HTTP status, or an error wrapping
// ErrUnreachable when brokerd could not be reached. Calls are retried only
// where a second attempt cannot do anything twice: queries (GET), and
// submits that carry an idempotency key (brokerd answers the repeat with
// the operation the first one queued).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one brokerd. Its methods are safe for concurrent use.
type Client struct {
	base    *url.URL // ends in /api/v1
	key     string
	http    *http.Client
	retries int
	backoff time.Duration
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as "Authorization: Bearer KEY".
func WithAPIKey(key string) Option { return func(c *Client) { c.key = strings.TrimSpace(key) } }

// WithHTTPClient uses hc instead of a default client. Give it no overall
// Timeout if you use Wait, Result or Events: they block by design, bounded
// by their context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetries sets how many times a safe call is tried again after a
// network error, a 429 or a 503 with Retry-After (default 3; 0 turns
// retries off). backoff is the first pause, doubled each time (default
// 200ms); a Retry-After header overrides it.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) {
		c.retries = max(n, 0)
		if backoff > 0 {
			c.backoff = backoff
		}
	}
}

// New returns a client for the brokerd at baseURL, such as
// http://127.0.0.1:7648 (a trailing /api/v1 is accepted too).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must look like http://host:port", baseURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v1") + "/api/v1"
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, http: &http.Client{}, retries: 3, backoff: 200 * time.Millisecond, sleep: sleepCtx}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// maxRetryPause bounds one pause between attempts, whatever Retry-After
// asks.
const maxRetryPause = 10 * time.Second

// call is one API request.
type call struct {
	method string
	path   string // under /api/v1, such as /queue/stats
	query  url.Values
	body   any
	header http.Header
	// safe allows a retry: the request cannot act twice.
	safe bool
}

// envelope is every JSON answer of brokerd.
type envelope struct {
	Success   bool            `json:"success"`
	Message   *string         `json:"message"`
	Data      json.RawMessage `json:"data"`
	ErrorCode *string         `json:"error_code"`
	Timestamp string          `json:"timestamp"`
}

// reply is an answer: its status and decoded envelope.
type reply struct {
	status int
	env    envelope
}

// do sends a call, retrying it when it is safe, and returns the answer
// whatever its status; only a call that got no envelope at all is an
// error here.
func (c *Client) do(ctx context.Context, cl call) (reply, error) {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return reply{}, fmt.Errorf("client: encode the request: %w", err)
		}
	}
	pause := c.backoff
	for attempt := 0; ; attempt++ {
		r, retryAfter, err := c.once(ctx, cl, body)
		retryable := err != nil && ctx.Err() == nil && errors.Is(err, ErrUnreachable) ||
			err == nil && (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable && retryAfter > 0)
		if !cl.safe || !retryable || attempt >= c.retries {
			return r, err
		}
		wait := pause
		if retryAfter > 0 {
			wait = retryAfter
		}
		if serr := c.sleep(ctx, min(wait, maxRetryPause)); serr != nil {
			if err == nil {
				return r, nil
			}
			return r, err
		}
		pause *= 2
	}
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, cl call, body []byte) (reply, time.Duration, error) {
	req, err := c.request(ctx, cl, body)
	if err != nil {
		return reply{}, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, 0, context.Cause(ctx)
		}
		return reply{}, 0, &unreachableError{url: c.base.Host, err: err, maybeSent: !cl.safe && !notSent(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, 0, context.Cause(ctx)
		}
		return reply{}, 0, &unreachableError{url: c.base.Host, err: err, maybeSent: !cl.safe}
	}
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Timestamp == "" {
		return reply{status: resp.StatusCode}, retryAfter, &Error{Status: resp.StatusCode, Code: "bad_answer",
			Message: fmt.Sprintf("brokerd's answer (HTTP %d) is not its JSON envelope: %s", resp.StatusCode, clip(raw))}
	}
	return reply{status: resp.StatusCode, env: env}, retryAfter, nil
}

func (c *Client) request(ctx context.Context, cl call, body []byte) (*http.Request, error) {
	u := *c.base
	u.Path += cl.path
	if len(cl.query) > 0 {
		u.RawQuery = cl.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("client: build the request: %w", err)
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return req, nil
}

// into sends a call and decodes a successful answer's data into out (when
// not nil); any other answer is an *Error.
func (c *Client) into(ctx context.Context, cl call, out any) error {
	r, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK || !r.env.Success {
		return r.err()
	}
	return decodeData(r.env.Data, out)
}

func decodeData(data json.RawMessage, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decode the answer's data: %w", err)
	}
	return nil
}

func (r reply) err() *Error {
	e := &Error{Status: r.status, Message: deref(r.env.Message), Code: deref(r.env.ErrorCode), Data: r.env.Data}
	if e.Code == "" {
		e.Code = "unknown"
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// seconds formats d as brokerd's fractional seconds.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
