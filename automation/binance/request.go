package binance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// security is what a method needs besides its own parameters.
type security int

const (
	public     security = iota
	userStream          // apiKey only (userDataStream.*)
	signed              // timestamp, recvWindow, apiKey and signature (TRADE, USER_DATA)
)

// authorize adds the timestamp (from the server's clock), recvWindow,
// apiKey and signature a method needs. After an Ed25519 session.logon the
// connection is authorised and only the timestamp and recvWindow go.
func (t *Terminal) authorize(p params, sec security) {
	switch sec {
	case userStream:
		if !t.signer.sessionLogon() {
			p["apiKey"] = t.apiKey
		}
	case signed:
		p["timestamp"] = t.serverNow().UnixMilli()
		p["recvWindow"] = time.Duration(t.opts.RecvWindow).Milliseconds()
		if !t.signer.sessionLogon() {
			p["apiKey"] = t.apiKey
			p["signature"] = t.signer.sign(payload(p))
		}
	}
}

// roundTrip sends one request on c and waits for its answer, at most
// timeout. Errors: rate_limited and errNotSent (nothing was sent), or a
// lost answer (it may have been carried out).
func (t *Terminal) roundTrip(ctx context.Context, c *conn, method string, p params, sec security, timeout time.Duration) (answer, error) {
	if wait, ok := t.limits.reserve(method); !ok {
		return answer{}, automation.RateLimited(wait, "binance rate limits: %s held back for %s; nothing was sent", method, wait.Round(time.Millisecond))
	}
	t.authorize(p, sec)
	cl, err := c.send(ctx, method, p)
	if err != nil {
		return answer{}, err
	}
	return c.wait(ctx, cl, timeout)
}

// sendCurrent is roundTrip on the current connection. A request that a
// connection refused unsent because it was retiring or had just dropped
// goes on the next one: it never left, so this is not sending it again.
func (t *Terminal) sendCurrent(ctx context.Context, method string, p params, sec security, timeout time.Duration) (answer, error) {
	for {
		c, err := t.connection(ctx)
		if err != nil {
			return answer{}, err
		}
		a, err := t.roundTrip(ctx, c, method, p, sec, timeout)
		if !isNotSent(err) || c.usable() {
			return a, err
		}
		t.log.Debug("binance connection went before the request was written; sending it on the next", "conn", c.seq, "method", method)
	}
}

// query runs a request that is safe to repeat (a lookup): when its answer
// is lost it asks again, on the next connection if need be, until ctx
// ends.
func (t *Terminal) query(ctx context.Context, method string, p params, sec security) (answer, error) {
	for attempt := 0; ; attempt++ {
		a, err := t.sendCurrent(ctx, method, clone(p), sec, time.Duration(t.opts.RequestTimeout))
		if err == nil {
			if a.Error != nil {
				return a, t.venueErr(a)
			}
			return a, nil
		}
		if code := automation.CodeOf(err); code == automation.CodeRateLimited || code == automation.CodeNotConnected {
			return answer{}, err
		}
		if ctx.Err() != nil {
			return answer{}, &automation.Error{Code: automation.CodeTimeout, Message: fmt.Sprintf("binance %s: no answer before the deadline", method), Err: err}
		}
		t.log.Debug("binance lookup lost; asking again", "method", method, "attempt", attempt+1, "err", err)
		if !sleep(ctx, min(50*time.Millisecond<<min(attempt, 5), time.Second)) {
			return answer{}, &automation.Error{Code: automation.CodeTimeout, Message: fmt.Sprintf("binance %s: no answer before the deadline", method), Err: err}
		}
	}
}

func clone(p params) params {
	out := make(params, len(p)+4)
	for k, v := range p {
		out[k] = v
	}
	return out
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// venueErr turns Binance's error answer into a coded error that keeps
// Binance's code (venue_code) and message.
func (t *Terminal) venueErr(a answer) error {
	e := a.Error
	venueCode := strconv.Itoa(e.Code)
	switch {
	case a.Status == 429 || a.Status == 418:
		wait, _ := t.limits.throttled()
		return &automation.Error{Code: automation.CodeRateLimited, VenueCode: venueCode, Message: e.Msg, RetryAfter: wait}
	case e.Code == -2015:
		t.refuse(fmt.Sprintf("%d %s", e.Code, e.Msg))
	case e.Code == -1021:
		// Our timestamp was outside recvWindow: the offset measured at
		// connect no longer holds; measure it again for the next
		// requests. This one was refused, so nothing was carried out.
		t.resync()
	case e.Code == -2013:
		return &automation.Error{Code: automation.CodeRejected, VenueCode: venueCode, Message: e.Msg, Err: automation.ErrNoSuchOrder}
	case a.Status >= 500:
		return automation.VenueError(automation.CodeInternal, venueCode, e.Msg)
	}
	return automation.VenueError(automation.CodeRejected, venueCode, e.Msg)
}

// resync asks keepTime to measure the server-time offset again; it never
// blocks.
func (t *Terminal) resync() {
	select {
	case t.resyncAsk <- struct{}{}:
	default: // already asked
	}
}

// isNotSent reports whether err proves nothing reached Binance.
func isNotSent(err error) bool { return errors.Is(err, errNotSent) }
