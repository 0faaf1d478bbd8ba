package ctpbee

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/brokerd/brokerd/automation"
)

// maxAnswer bounds an answer's size: GET /order_solve carries the day's
// orders, trades and the backend's log history.
const maxAnswer = 32 << 20

// lostAnswer is a request that reached the backend (or may have) whose
// answer did not come back readable: a dropped connection, a timeout, an
// HTML error page. What it did is found by reading the orders.
type lostAnswer struct{ err error }

func (e *lostAnswer) Error() string { return "the answer was lost: " + e.err.Error() }
func (e *lostAnswer) Unwrap() error { return e.err }

// send makes one request with the given token. Parameters are form
// encoded: in the body for POST, in the query string otherwise (the
// backend reads request.values; a JSON body is ignored). It returns a
// NotConnected error when provably nothing reached the backend (the
// connection could not be made or the request was not written), a
// *lostAnswer when it may have.
func (t *terminal) send(ctx context.Context, method, path string, params url.Values, token string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	u := t.base.JoinPath(path)
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else if len(params) > 0 {
		u.RawQuery = params.Encode()
	}
	var wrote atomic.Bool // set by the transport's writer
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return answer{}, fmt.Errorf("build the request: %w", err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "JWT "+token)
	}
	client := t.reads
	if method != http.MethodGet {
		// A request that changes something goes on a fresh connection:
		// a pooled one the server has closed would swallow it and leave
		// an order's fate to be settled instead of a clean "not sent".
		client = t.writes
	}
	resp, err := client.Do(req)
	if err != nil {
		cause := describe(err)
		if !wrote.Load() {
			return answer{}, automation.NotConnected("ctpbee_backend %s %s was not sent: %s", method, path, cause)
		}
		return answer{}, &lostAnswer{fmt.Errorf("%s %s: %s", method, path, cause)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return answer{}, &lostAnswer{fmt.Errorf("%s %s: reading the answer: %s", method, path, describe(err))}
	}
	a, err := decodeAnswer(resp.StatusCode, b)
	if err != nil {
		return answer{}, &lostAnswer{fmt.Errorf("%s %s: %w", method, path, err)}
	}
	return a, nil
}

// describe is a transport error without the request's URL (which is only
// the configured base and a path, but the message reads better without).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return err.Error()
}

// call makes a request in the current session. A refused token (the
// backend's "token error") is answered by logging in again once and
// repeating the request, which is safe: the backend refused it before
// doing anything. A second refusal puts the terminal in error.
func (t *terminal) call(ctx context.Context, method, path string, params url.Values) (answer, error) {
	token, gen, err := t.session(ctx)
	if err != nil {
		return answer{}, err
	}
	a, err := t.send(ctx, method, path, params, token)
	if err != nil || !a.tokenRefused() {
		return a, err
	}
	t.log.Warn("ctpbee_backend refused the session's token; logging in again", "path", path, "msg", a.Msg)
	if err := t.relogin(ctx, gen); err != nil {
		return answer{}, err
	}
	token, _, err = t.session(ctx)
	if err != nil {
		return answer{}, err
	}
	a, err = t.send(ctx, method, path, params, token)
	if err == nil && a.tokenRefused() {
		return answer{}, t.halt(fmt.Sprintf("ctpbee_backend refused the token of a fresh login (%s): another client may be logging in to the same backend", a.Msg))
	}
	return a, err
}
