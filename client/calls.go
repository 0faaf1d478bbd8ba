package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// submitBody is POST /operations/{name}'s body.
type submitBody struct {
	Params      any     `json:"params"`
	Priority    int     `json:"priority,omitempty"`
	Terminal    string  `json:"terminal,omitempty"`
	Timeout     float64 `json:"timeout,omitempty"`
	ExpireAfter float64 `json:"expire_after,omitempty"`
}

// Submit validates, journals and queues the operation name with params (a
// map or a struct that encodes to the operation's JSON parameters). A
// refusal is an *Error: invalid_params (Fields names every bad field),
// unknown_operation, conflict (the key was used with another payload),
// queue_full, …
func (c *Client) Submit(ctx context.Context, name string, params any, opts SubmitOptions) (*Submitted, error) {
	if params == nil {
		params = map[string]any{}
	}
	cl := call{
		method: http.MethodPost,
		path:   "/operations/" + url.PathEscape(name),
		body: submitBody{Params: params, Priority: opts.Priority, Terminal: opts.Terminal,
			Timeout: opts.Timeout.Seconds(), ExpireAfter: opts.ExpireAfter.Seconds()},
		header: http.Header{},
		safe:   opts.IdempotencyKey != "",
	}
	if opts.IdempotencyKey != "" {
		cl.header.Set("Idempotency-Key", opts.IdempotencyKey)
	}
	if opts.Wait > 0 {
		cl.query = url.Values{"wait": {seconds(opts.Wait)}}
	}
	r, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	// With ?wait= a finished operation's own failure is success = false
	// with HTTP 200: it was submitted, it failed.
	if r.status != http.StatusOK {
		return nil, r.err()
	}
	var sub Submitted
	if err := decodeData(r.env.Data, &sub); err != nil {
		return nil, err
	}
	return &sub, nil
}

// Result waits up to timeout (none when timeout < 0) for the operation to
// finish and returns its outcome. Still unfinished after timeout: an
// *Error with Code "timeout" (HTTP 408).
func (c *Client) Result(ctx context.Context, id string, timeout time.Duration) (*Result, error) {
	cl := call{method: http.MethodGet, path: "/operations/" + url.PathEscape(id) + "/result", safe: true}
	if timeout >= 0 {
		cl.query = url.Values{"timeout": {seconds(timeout)}}
	}
	r, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, r.err()
	}
	return &Result{Success: r.env.Success, Message: deref(r.env.Message), ErrorCode: deref(r.env.ErrorCode), Data: r.env.Data}, nil
}

// waitSlice is how long one /result request of Wait blocks: short enough
// that proxies do not cut it, and a lost connection is noticed.
const waitSlice = 30 * time.Second

// Wait blocks until the operation has finished (or ctx is done) and
// returns its outcome.
func (c *Client) Wait(ctx context.Context, id string) (*Result, error) {
	for {
		res, err := c.Result(ctx, id, waitSlice)
		if Code(err) == "timeout" && ctx.Err() == nil {
			continue
		}
		return res, err
	}
}

// Status reports where the operation is, with its result once finished.
func (c *Client) Status(ctx context.Context, id string) (*Operation, error) {
	var op Operation
	err := c.into(ctx, call{method: http.MethodGet, path: "/operations/" + url.PathEscape(id) + "/status", safe: true}, &op)
	if err != nil {
		return nil, err
	}
	return &op, nil
}

// Cancel cancels a queued operation. A running or finished one is an
// *Error with Code "conflict"; Operation then tells its status.
func (c *Client) Cancel(ctx context.Context, id string) (*Operation, error) {
	var op Operation
	if err := c.into(ctx, call{method: http.MethodDelete, path: "/operations/" + url.PathEscape(id)}, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Operations lists the operations with their schemas.
func (c *Client) Operations(ctx context.Context) (*Operations, error) {
	var ops Operations
	if err := c.into(ctx, call{method: http.MethodGet, path: "/operations/", safe: true}, &ops); err != nil {
		return nil, err
	}
	return &ops, nil
}

// History lists journaled operations, newest first.
func (c *Client) History(ctx context.Context, f HistoryFilter) (*History, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("name", f.Name)
	set("terminal", f.Terminal)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	var h History
	if err := c.into(ctx, call{method: http.MethodGet, path: "/history", query: q, safe: true}, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Stats reads the queue's counts and each lane's state.
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	var st Stats
	if err := c.into(ctx, call{method: http.MethodGet, path: "/queue/stats", safe: true}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Pause holds a terminal's lane (every lane when terminal is ""): the
// running operation finishes, nothing new starts. It returns the terminals
// paused.
func (c *Client) Pause(ctx context.Context, terminal string) ([]string, error) {
	return c.setPaused(ctx, "/queue/pause", terminal)
}

// Resume releases a terminal's lane (every lane when terminal is "").
func (c *Client) Resume(ctx context.Context, terminal string) ([]string, error) {
	return c.setPaused(ctx, "/queue/resume", terminal)
}

func (c *Client) setPaused(ctx context.Context, path, terminal string) ([]string, error) {
	cl := call{method: http.MethodPost, path: path}
	if terminal != "" {
		cl.query = url.Values{"terminal": {terminal}}
	}
	var v struct {
		Terminals []string `json:"terminals"`
	}
	if err := c.into(ctx, cl, &v); err != nil {
		return nil, err
	}
	return v.Terminals, nil
}

// Health reads /system/health. An unhealthy brokerd (HTTP 503) is not an
// error: Health.Healthy() is false and Problems says why.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	r, err := c.do(ctx, call{method: http.MethodGet, path: "/system/health", safe: true})
	if err != nil {
		return nil, err
	}
	var h Health
	if derr := decodeData(r.env.Data, &h); derr != nil || h.Status == "" {
		if r.status != http.StatusOK {
			return nil, r.err()
		}
		return nil, errors.Join(errors.New("client: health answer has no status"), derr)
	}
	return &h, nil
}

// Ping checks that brokerd answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.into(ctx, call{method: http.MethodGet, path: "/ping", safe: true}, nil)
}
