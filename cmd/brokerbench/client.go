package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// api is a client of brokerd's REST API (or of the baseline, which answers
// the submit route alike).
type api struct {
	base string // http://127.0.0.1:PORT
	http *http.Client
}

// newAPI is a client for clients concurrent keep-alive connections: the
// Transport keeps one idle connection per client, so that no request pays
// for a new connection once the pool is warm.
func newAPI(base string, clients int) api {
	tr := &http.Transport{
		Proxy:               nil, // traffic goes to 127.0.0.1 only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        clients + 16,
		MaxIdleConnsPerHost: clients + 16,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return api{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr}}
}

func (a api) close() { a.http.CloseIdleConnections() }

// envelope is the part of brokerd's answer the bench reads.
type envelope struct {
	Success   bool            `json:"success"`
	Message   *string         `json:"message"`
	Data      json.RawMessage `json:"data"`
	ErrorCode *string         `json:"error_code"`
}

// submitted is the data of a submit's answer.
type submitted struct {
	OperationID string          `json:"operation_id"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result"` // with ?wait=
}

// do sends a request and decodes the envelope of a 200 answer; any other
// status is an error that quotes the answer. The body is read to its end so
// that the connection goes back to the pool.
func (a api) do(ctx context.Context, method, path string, body []byte) (envelope, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return envelope{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return envelope{}, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return envelope{}, fmt.Errorf("%s %s: HTTP %d: %s", method, routeOf(path), resp.StatusCode, truncate(string(raw), 200))
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return envelope{}, fmt.Errorf("%s %s: the answer is not the envelope: %w", method, routeOf(path), err)
	}
	return env, nil
}

// submit posts an operation; wait > 0 adds ?wait= and then requires the
// operation to have succeeded.
func (a api) submit(ctx context.Context, name string, body []byte, wait time.Duration) (submitted, error) {
	path := "/api/v1/operations/" + name
	if wait > 0 {
		path += "?wait=" + fmt.Sprint(wait.Seconds())
	}
	env, err := a.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return submitted{}, err
	}
	if !env.Success {
		return submitted{}, fmt.Errorf("submit %s: %s", name, describe(env))
	}
	var s submitted
	if err := json.Unmarshal(env.Data, &s); err != nil || s.OperationID == "" {
		return submitted{}, fmt.Errorf("submit %s: no operation_id in %s", name, truncate(string(env.Data), 200))
	}
	if wait > 0 && s.Status != "success" {
		return s, fmt.Errorf("submit %s with ?wait=: operation %s is %s after the wait", name, s.OperationID, s.Status)
	}
	return s, nil
}

// result blocks on GET /result until the operation has finished, and
// requires it to have succeeded.
func (a api) result(ctx context.Context, id string) error {
	env, err := a.do(ctx, http.MethodGet, "/api/v1/operations/"+url.PathEscape(id)+"/result", nil)
	if err != nil {
		return err
	}
	if !env.Success {
		return fmt.Errorf("operation %s did not succeed: %s", id, describe(env))
	}
	return nil
}

func (a api) pause(ctx context.Context) error {
	_, err := a.do(ctx, http.MethodPost, "/api/v1/queue/pause", nil)
	return err
}

func (a api) resume(ctx context.Context) error {
	_, err := a.do(ctx, http.MethodPost, "/api/v1/queue/resume", nil)
	return err
}

func (a api) ping(ctx context.Context) error {
	_, err := a.do(ctx, http.MethodGet, "/api/v1/ping", nil)
	return err
}

func describe(env envelope) string {
	var msg, code string
	if env.Message != nil {
		msg = *env.Message
	}
	if env.ErrorCode != nil {
		code = *env.ErrorCode
	}
	return fmt.Sprintf("error_code %q: %s", code, truncate(msg, 200))
}

// routeOf hides the operation id of /api/v1/operations/{id}/…, so that
// error texts group by route.
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	if len(parts) == 6 && parts[3] == "operations" {
		parts[4] = "{id}"
	}
	return strings.Join(parts, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// operationBody is a valid submit body for op on terminal ("" for the
// default): a buy of one lot of code at price (the generated config quotes
// it, so the buy fills), or no parameters for the queries.
func operationBody(op, terminal, code string, price float64) ([]byte, error) {
	var params string
	switch op {
	case "buy", "sell":
		params = fmt.Sprintf(`{"stock_code":%q,"price":%.2f,"quantity":100}`, code, price)
	case "funds_query", "holding_query", "order_query":
		params = `{}`
	default:
		return nil, fmt.Errorf("the bench has no body for operation %q: use buy, sell, funds_query, holding_query or order_query", op)
	}
	if terminal == "" {
		return fmt.Appendf(nil, `{"params":%s}`, params), nil
	}
	return fmt.Appendf(nil, `{"params":%s,"terminal":%q}`, params, terminal), nil
}
