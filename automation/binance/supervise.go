package binance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// The connection's supervisor: connect (server time, symbol rules, the
// socket, session.logon), reconnect with backoff, replace ahead of
// max_connection_age, keep the clock, and stop on a refused key.

// supervise keeps one connection up until ctx ends: it connects with
// backoff, replaces the connection ahead of max_connection_age, and
// reconnects on any drop.
func (t *Terminal) supervise(ctx context.Context) {
	defer t.wg.Done()
	var c *conn
	flaps := 0 // connections in a row that dropped young
	for ctx.Err() == nil {
		if c == nil {
			if c = t.connectWithBackoff(ctx, flaps); c == nil {
				return
			}
		}
		t.install(ctx, c)
		next, dropped := t.serve(ctx, c)
		switch {
		case dropped && time.Since(c.born) < flapAge:
			flaps++
		default:
			flaps = 0
		}
		c = next
	}
}

// resyncEvery is how often the server-time offset is measured again
// between connects: clocks drift over a day-long connection, and -1021
// must never come from ours.
const resyncEvery = 10 * time.Minute

// keepTime measures the server-time offset every resyncEvery, and when
// resync asks (after a -1021), until ctx ends.
func (t *Terminal) keepTime(ctx context.Context) {
	defer t.wg.Done()
	tick := time.NewTicker(resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.resyncAsk:
		}
		rctx, cancel := context.WithTimeout(ctx, time.Duration(t.opts.RequestTimeout))
		offset, err := t.rest.serverOffset(rctx)
		cancel()
		if err != nil {
			t.log.Warn("binance server time could not be measured again", "err", err)
			continue
		}
		t.offset.Store(int64(offset))
		t.log.Debug("binance server time measured again", "server_offset", offset.Round(time.Millisecond))
	}
}

// flapAge: a connection that drops younger than this counts as a flap,
// and the next connect backs off as after a failed one (a server that
// accepts and drops at once must not be hammered).
const flapAge = 10 * time.Second

// connectWithBackoff connects, waiting ever longer (with jitter) between
// failed attempts; a refused key stops it until Reconnect. Nil when ctx
// ended.
func (t *Terminal) connectWithBackoff(ctx context.Context, flaps int) *conn {
	if flaps > 0 {
		wait := backoff(flaps - 1)
		t.log.Info("binance connection dropped young; waiting before reconnecting", "flaps", flaps, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-t.reconnect:
		case <-ctx.Done():
			return nil
		}
	}
	for attempt := flaps; ; attempt++ {
		t.mu.Lock()
		refusedKey := t.revokedMsg != ""
		t.mu.Unlock()
		if refusedKey {
			select {
			case <-t.reconnect:
				attempt = -1
				t.setState(automation.StateReconnecting)
				continue
			case <-ctx.Done():
				return nil
			}
		}
		c, err := t.connect(ctx)
		if err == nil {
			return c
		}
		if ctx.Err() != nil {
			return nil
		}
		var refused *keyRefused
		if errors.As(err, &refused) {
			t.refuse(refused.msg)
		}
		t.mu.Lock()
		refusedKey = t.revokedMsg != ""
		t.mu.Unlock()
		if refusedKey { // refused at logon, or revoked under it
			attempt = -1
			continue
		}
		if t.State() != automation.StateConnecting {
			t.setState(automation.StateReconnecting)
		}
		wait := backoff(attempt)
		t.log.Warn("binance connect failed", "attempt", attempt+1, "retry_in", wait.Round(time.Millisecond), "err", err)
		select {
		case <-time.After(wait):
		case <-t.reconnect:
		case <-ctx.Done():
			return nil
		}
	}
}

// backoff is 250ms doubling to 30s, with up to half of it added at random
// so that many terminals do not reconnect in step.
func backoff(attempt int) time.Duration {
	d := 250 * time.Millisecond << min(attempt, 7)
	d = min(d, 30*time.Second)
	return d + rand.N(d/2+1)
}

// refuse puts the terminal in state error for a refused key.
func (t *Terminal) refuse(msg string) {
	t.mu.Lock()
	t.revokedMsg = msg
	c := t.cur
	t.mu.Unlock()
	if c != nil {
		c.fail(&revokedError{msg: msg})
	}
	t.log.Error("binance refuses the API key; the terminal stays in error until reconnected", "venue_code", "-2015", "msg", msg)
	t.setState(automation.StateError)
}

// keyRefused is a connect that failed because Binance refused the key
// (-2015, or -1022 on session.logon): trying again cannot help.
type keyRefused struct{ msg string }

func (e *keyRefused) Error() string { return "binance refuses the API key: " + e.msg }

// install makes c the connection requests go to.
func (t *Terminal) install(ctx context.Context, c *conn) {
	t.mu.Lock()
	t.cur = c
	t.mu.Unlock()
	t.setState(automation.StateReady)
	if t.opts.StreamURL != "" {
		t.wg.Add(1)
		go t.userStream(ctx, c)
	}
}

// serve waits until c must go: it dropped, it reached max_connection_age,
// Reconnect asked, or ctx ended. At the age limit a new connection is
// opened first and returned, and c is closed once its requests in flight
// are answered: nothing is lost to the planned switch. It also reports
// whether c dropped (rather than was let go).
func (t *Terminal) serve(ctx context.Context, c *conn) (*conn, bool) {
	age := time.NewTimer(time.Duration(t.opts.MaxConnectionAge) - time.Since(c.born))
	defer age.Stop()
	select {
	case <-c.done:
		t.uninstall(c)
		if t.State() != automation.StateError {
			t.log.Warn("binance connection dropped; reconnecting", "conn", c.seq, "err", c.reason())
			t.setState(automation.StateReconnecting)
		}
		return nil, true
	case <-age.C:
		t.log.Info("binance connection reached max_connection_age; replacing it", "conn", c.seq)
		next, err := t.connect(ctx)
		if err != nil {
			dropped := false
			t.log.Warn("binance could not open the replacement connection; keeping the old one until it drops", "err", err)
			select {
			case <-c.done:
				dropped = true
			case <-ctx.Done():
			case <-t.reconnect:
			}
			t.uninstall(c)
			c.fail(errors.New("replaced"))
			<-c.done
			t.setState(automation.StateReconnecting)
			return nil, dropped
		}
		// Requests go to next from now on; c answers those in flight
		// and closes. A request that picked c just before the switch is
		// refused by it unsent and goes on next (sendCurrent).
		c.retire()
		t.mu.Lock()
		t.cur = next
		t.broadcast()
		t.mu.Unlock()
		t.wg.Add(1)
		go t.drain(c)
		return next, false
	case <-t.reconnect:
		t.log.Info("binance reconnect asked", "conn", c.seq)
		t.uninstall(c)
		c.fail(errors.New("reconnect asked"))
		<-c.done
		t.setState(automation.StateReconnecting)
		return nil, false
	case <-ctx.Done():
		t.uninstall(c)
		c.fail(errors.New("the terminal is closed"))
		<-c.done
		return nil, false
	}
}

// uninstall stops sending on c.
func (t *Terminal) uninstall(c *conn) {
	t.mu.Lock()
	if t.cur == c {
		t.cur = nil
	}
	t.broadcast()
	t.mu.Unlock()
}

// drain closes a replaced connection once its requests in flight are
// answered (or request_timeout has passed).
func (t *Terminal) drain(c *conn) {
	defer t.wg.Done()
	deadline := time.NewTimer(time.Duration(t.opts.RequestTimeout))
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for c.inFlight() > 0 {
		select {
		case <-c.done:
			return
		case <-deadline.C:
			c.fail(errors.New("replaced after max_connection_age"))
			<-c.done
			return
		case <-tick.C:
		}
	}
	c.ws.Close(1000, "replaced")
	c.fail(errors.New("replaced after max_connection_age"))
	<-c.done
}

// connect opens and prepares one connection: the server-time offset, the
// symbols' rules, the socket, and session.logon for an Ed25519 key.
func (t *Terminal) connect(ctx context.Context) (*conn, error) {
	timeout := time.Duration(t.opts.RequestTimeout)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	offset, err := t.rest.serverOffset(rctx)
	if err != nil {
		return nil, fmt.Errorf("measure the server time: %w", err)
	}
	t.offset.Store(int64(offset))
	symbols, limits, err := t.rest.symbols(rctx)
	if err != nil {
		return nil, fmt.Errorf("read the symbol rules: %w", err)
	}
	t.limits.learn(limits)
	t.mu.Lock()
	t.seq++
	seq := t.seq
	t.mu.Unlock()
	c, err := dial(ctx, t.opts.URL, seq, t.log, timeout)
	if err != nil {
		return nil, err
	}
	c.observe = t.observe
	c.revoked = func(a answer) { t.revokedBy(c, a) }
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		c.read(ctx)
	}()
	if t.signer.sessionLogon() {
		if err := t.logon(rctx, c); err != nil {
			c.fail(err)
			<-c.done
			return nil, err
		}
	}
	t.mu.Lock()
	t.symbols = symbols
	t.mu.Unlock()
	t.log.Info("binance connected", "conn", seq, "server_offset", offset.Round(time.Millisecond), "symbols", len(symbols), "logon", t.signer.sessionLogon())
	return c, nil
}

// logon authorises the connection with the Ed25519 key: later requests on
// it go without apiKey and signature.
func (t *Terminal) logon(ctx context.Context, c *conn) error {
	p := params{"apiKey": t.apiKey, "timestamp": t.serverNow().UnixMilli()}
	p["signature"] = t.signer.sign(payload(p))
	if _, ok := t.limits.reserve("session.logon"); !ok {
		return errors.New("session.logon held back by the rate limits")
	}
	cl, err := c.send(ctx, "session.logon", p)
	if err != nil {
		return fmt.Errorf("session.logon: %w", err)
	}
	a, err := c.wait(ctx, cl, time.Duration(t.opts.RequestTimeout))
	if err != nil {
		return fmt.Errorf("session.logon: %w", err)
	}
	if a.Error != nil {
		switch a.Error.Code {
		case -2015, -1022, -2014:
			return &keyRefused{msg: fmt.Sprintf("%d %s", a.Error.Code, a.Error.Msg)}
		}
		return fmt.Errorf("session.logon: %d %s", a.Error.Code, a.Error.Msg)
	}
	return nil
}

// observe sees every answer: the rate limits it reports, and a 429 or 418
// that must stop every request until the window resets.
func (t *Terminal) observe(a answer) {
	t.limits.observe(a.RateLimits)
	if a.Status != 429 && a.Status != 418 {
		return
	}
	if a.Error != nil && a.Error.Data != nil && a.Error.Data.RetryAfter > 0 {
		at := time.UnixMilli(a.Error.Data.RetryAfter)
		t.limits.hold(t.clock().Add(at.Sub(t.serverNow())))
	} else {
		t.limits.holdWindows()
	}
	if a.Status == 418 {
		t.log.Error("binance banned this IP for breaking the rate limits (418)", "msg", a.Error.Msg)
	} else {
		t.log.Warn("binance answered 429; holding every request until the window resets", "msg", a.Error.Msg)
	}
}

// revokedBy handles a -2015 with "id": null: Binance revoked the session
// (a deleted key, an IP not allowed). The connection ends and the terminal
// stays in error until Reconnect: a retry loop would only repeat it.
func (t *Terminal) revokedBy(c *conn, a answer) {
	c.fail(&revokedError{msg: a.Error.Msg})
	t.refuse(fmt.Sprintf("%d %s", a.Error.Code, a.Error.Msg))
}

// revokedError ends a connection whose session Binance revoked.
type revokedError struct{ msg string }

func (e *revokedError) Error() string { return "binance revoked the session (-2015): " + e.msg }
