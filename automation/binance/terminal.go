package binance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Terminal is a Binance USDⓈ-M futures account over the WebSocket API.
type Terminal struct {
	name   string
	opts   Options
	apiKey string
	signer signer
	log    *slog.Logger
	env    automation.Env
	rest   rest
	limits *limiter
	clock  func() time.Time

	offset    atomic.Int64 // server clock − ours, in nanoseconds
	resyncing atomic.Bool
	state     atomic.Value // automation.State

	mu      sync.Mutex
	cur     *conn         // where requests go; nil while there is none
	changed chan struct{} // closed (and replaced) when cur or the state changes
	symbols map[string]automation.SymbolInfo
	// revokedMsg is Binance's -2015 message while the key is refused:
	// the terminal stays in state error until Reconnect.
	revokedMsg string

	reconnect chan struct{}
	seq       int
	life      context.Context
	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var (
	_ automation.Exchange       = (*Terminal)(nil)
	_ automation.SymbolRules    = (*Terminal)(nil)
	_ automation.Throttler      = (*Terminal)(nil)
	_ automation.PositionCloser = (*Terminal)(nil)
)

// Open is the driver's automation.Opener. It checks the options and reads
// the secrets, then connects in the background: it returns at once with the
// terminal connecting, so that an unreachable Binance does not hold brokerd's
// start.
func Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := DefaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	t, err := New(name, opts, env)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return t, nil
}

// New opens a terminal from decoded options.
func New(name string, opts Options, env automation.Env) (*Terminal, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	apiKey, err := env.Secret("api_key_env", opts.APIKeyEnv)
	if err != nil {
		return nil, err
	}
	var sg signer
	if opts.PrivateKeyFile != "" {
		pemBytes, err := os.ReadFile(opts.PrivateKeyFile)
		if err != nil {
			return nil, optionError("private_key_file", "%v", err)
		}
		key, err := parseEd25519PEM(pemBytes)
		if err != nil {
			return nil, optionError("private_key_file", "%s: %v", opts.PrivateKeyFile, err)
		}
		sg = ed25519Signer{key: key}
	} else {
		secret, err := env.Secret("secret_env", opts.SecretEnv)
		if err != nil {
			return nil, err
		}
		sg = hmacSigner{secret: []byte(secret)}
	}
	t := &Terminal{
		name:      name,
		opts:      opts,
		apiKey:    apiKey,
		signer:    sg,
		log:       env.Log(),
		env:       env,
		clock:     env.Clock(),
		changed:   make(chan struct{}),
		reconnect: make(chan struct{}, 1),
	}
	t.rest = rest{base: opts.RESTURL, client: &http.Client{Timeout: time.Duration(opts.RequestTimeout)}, now: t.clock}
	t.limits = newLimiter(t.serverNow)
	t.state.Store(automation.StateConnecting)
	t.life, t.stop = context.WithCancel(context.Background())
	t.wg.Add(2)
	go t.supervise(t.life)
	go t.keepTime(t.life)
	return t, nil
}

func (t *Terminal) Name() string   { return t.name }
func (t *Terminal) Driver() string { return "binance" }

// State never blocks: it is what the supervisor last stored.
func (t *Terminal) State() automation.State { return t.state.Load().(automation.State) }

func (t *Terminal) Supports(op string) bool {
	switch op {
	case automation.OpPlaceOrder, automation.OpCancelOrder, automation.OpOrderStatus, automation.OpOpenOrders,
		automation.OpAsset, automation.OpPosition, automation.OpSymbolInfo, automation.OpClosePosition:
		return true
	}
	return false
}

// Throttled reports a hold after a 429 or 418, or a rate limit used up.
func (t *Terminal) Throttled() (time.Duration, bool) { return t.limits.throttled() }

// CachedSymbol answers from the rules read at connect; it never blocks on
// the network.
func (t *Terminal) CachedSymbol(symbol string) (automation.SymbolInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	si, ok := t.symbols[symbol]
	return si, ok
}

// Reconnect drops the connection and opens a new one (also leaving state
// error after a refused key), and waits until it is ready or ctx ends.
func (t *Terminal) Reconnect(ctx context.Context) error {
	t.mu.Lock()
	t.revokedMsg = ""
	t.mu.Unlock()
	select {
	case t.reconnect <- struct{}{}:
	default:
	}
	// Wait for the supervisor to drop the current connection first.
	for {
		t.mu.Lock()
		c, ch := t.cur, t.changed
		t.mu.Unlock()
		if c == nil || c.reason() != nil {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	_, err := t.connection(ctx)
	return err
}

// Close stops the supervisor and the connection; in-flight requests end
// with errDropped.
func (t *Terminal) Close() error {
	t.closeOnce.Do(func() {
		t.stop()
		t.wg.Wait()
		t.rest.client.CloseIdleConnections()
		t.setState(automation.StateDisconnected)
	})
	return nil
}

// serverNow is Binance's clock as measured at the last connect.
func (t *Terminal) serverNow() time.Time {
	return t.clock().Add(time.Duration(t.offset.Load()))
}

func (t *Terminal) setState(s automation.State) {
	if old := t.State(); old != s {
		t.state.Store(s)
		t.log.Info("binance terminal state", "from", old, "to", s)
	}
	t.mu.Lock()
	t.broadcast()
	t.mu.Unlock()
}

// broadcast wakes everyone waiting for a change; t.mu is held.
func (t *Terminal) broadcast() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// connection is the connection to send on, waiting for one until ctx ends;
// the error is not_connected (nothing was sent).
func (t *Terminal) connection(ctx context.Context) (*conn, error) {
	// Wait out a reconnect, but not a whole outage: at most
	// request_timeout.
	limit := time.NewTimer(time.Duration(t.opts.RequestTimeout))
	defer limit.Stop()
	for {
		t.mu.Lock()
		c, ch, revoked := t.cur, t.changed, t.revokedMsg
		t.mu.Unlock()
		if revoked != "" {
			return nil, &automation.Error{Code: automation.CodeNotConnected, VenueCode: "-2015", Message: "binance refuses the API key: " + revoked}
		}
		if c != nil && c.reason() == nil {
			return c, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, automation.NotConnected("binance is not connected (%s): nothing was sent", t.State())
		case <-limit.C:
			return nil, automation.NotConnected("binance is not connected (%s) after %s: nothing was sent", t.State(), time.Duration(t.opts.RequestTimeout))
		case <-t.life.Done():
			return nil, automation.NotConnected("the binance terminal is closed: nothing was sent")
		}
	}
}

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
		t.install(c)
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

// keepTime measures the server-time offset every resyncEvery until ctx
// ends.
func (t *Terminal) keepTime(ctx context.Context) {
	defer t.wg.Done()
	tick := time.NewTicker(resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.resync()
		}
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
func (t *Terminal) install(c *conn) {
	t.mu.Lock()
	t.cur = c
	t.mu.Unlock()
	t.setState(automation.StateReady)
	if t.opts.StreamURL != "" {
		t.wg.Add(1)
		go t.userStream(c)
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
		c.read(t.life)
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
