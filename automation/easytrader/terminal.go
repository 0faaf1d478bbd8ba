// Package easytrader is the driver of a real A-share terminal through
// easytrader's remote server (server.py, Flask) on the Windows box that
// runs the broker's client. See DRIVERS.md for its options and REFERENCE.md
// for the agent's endpoints; easytradertest is a local peer of it.
//
// The agent drives one GUI and its server is threaded: two requests at
// once would drive the client's windows at once. The terminal never
// overlaps calls, its health probe included.
package easytrader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

// Terminal is an easytrader agent's account. It implements
// automation.StockBroker.
type Terminal struct {
	name   string
	opts   Options
	agent  *agent
	log    *slog.Logger
	now    func() time.Time
	emit   func(automation.VenueEvent)
	user   string // secrets for /prepare: never logged
	secret string

	// turn is held for every call to the agent (one at a time); a channel
	// rather than a mutex so that waiting for it honours ctx.
	turn chan struct{}
	// claimed are the contract numbers (leading zeros trimmed) already
	// attributed to an order this terminal placed, so that a lost answer
	// is never settled with another order's number. Guarded by turn.
	claimed map[string]bool
	// settleTries and settleWait pace the reads of today's orders that
	// settle a lost answer: the agent may still be typing the order in.
	settleTries int
	settleWait  time.Duration

	state  atomic.Value  // automation.State
	relog  chan struct{} // asks the prober to log in again now
	cancel context.CancelFunc
	done   chan struct{}
	closed sync.Once
}

var _ automation.StockBroker = (*Terminal)(nil)

// Open is the driver's automation.Opener. It tries to connect within ctx
// (/prepare when prepare = true, then a /balance probe) and returns the
// terminal either way: a terminal that could not connect is not ready and
// goes on trying every probe_every.
func Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := defaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	base, err := opts.validate()
	if err != nil {
		return nil, err
	}
	user, err := env.Secret("user_env", opts.UserEnv)
	if err != nil {
		return nil, err
	}
	password, err := env.Secret("password_env", opts.PasswordEnv)
	if err != nil {
		return nil, err
	}
	t := &Terminal{
		name:        name,
		opts:        opts,
		agent:       &agent{base: base, http: &http.Client{Transport: newTransport()}, timeout: time.Duration(opts.RequestTimeout)},
		log:         env.Log().With("agent", base.Redacted()),
		now:         env.Clock(),
		emit:        env.Emit,
		user:        user,
		secret:      password,
		turn:        make(chan struct{}, 1),
		claimed:     make(map[string]bool),
		settleTries: 3,
		settleWait:  time.Second,
		relog:       make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	t.state.Store(automation.StateConnecting)
	if err := t.connect(ctx); err != nil {
		t.log.Warn("easytrader agent not ready at start; probing again every probe_every", "probe_every", opts.ProbeEvery.String(), "error", err)
	}
	loop, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go t.probe(loop)
	return t, nil
}

// newTransport is a transport without keep-alive: the agent is slow (a
// GUI) and one connection per call makes "nothing was sent" provable by
// the dial.
func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	tr.Proxy = nil // an agent on the LAN is never reached through a proxy
	return tr
}

func (t *Terminal) Name() string            { return t.name }
func (t *Terminal) Driver() string          { return "easytrader" }
func (t *Terminal) State() automation.State { return t.state.Load().(automation.State) }

func (t *Terminal) setState(s automation.State, why string) {
	if old := t.state.Swap(s); old != s {
		t.log.Info("easytrader terminal state", "from", old, "to", s, "why", why)
	}
}

// Supports lists what an easytrader agent can do: limit orders, the three
// queries and cancels. Market orders, history, repo and condition orders
// have no endpoint.
func (t *Terminal) Supports(op string) bool {
	switch op {
	case automation.OpBuy, automation.OpSell, automation.OpHoldingQuery, automation.OpFundsQuery,
		automation.OpOrderQuery, automation.OpOrderCancel:
		return true
	}
	return false
}

// Reconnect logs the agent in again (/prepare, when prepare = true) and
// probes it.
func (t *Terminal) Reconnect(ctx context.Context) error {
	t.setState(automation.StateReconnecting, "reconnect asked")
	return t.connect(ctx)
}

// Close ends the prober; the agent itself is left running.
func (t *Terminal) Close() error {
	t.closed.Do(func() {
		t.cancel()
		<-t.done
		t.setState(automation.StateDisconnected, "closed")
	})
	return nil
}

// take waits for the terminal's turn to call the agent, within ctx.
func (t *Terminal) take(ctx context.Context) error {
	select {
	case t.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &automation.Error{Code: automation.CodeTimeout, Message: "nothing was sent: the agent was busy with another call until the deadline", Err: context.Cause(ctx)}
	}
}

func (t *Terminal) give() { <-t.turn }

// connect logs in (/prepare, when prepare = true) and probes /balance.
func (t *Terminal) connect(ctx context.Context) error {
	if err := t.take(ctx); err != nil {
		return err
	}
	defer t.give()
	if t.opts.Prepare {
		if err := t.prepare(ctx); err != nil {
			t.setState(automation.StateError, "prepare failed")
			return err
		}
	}
	return t.probeOnce(ctx)
}

// prepare is POST /prepare; the login never reaches the log.
func (t *Terminal) prepare(ctx context.Context) error {
	body := map[string]any{"broker": t.opts.Broker}
	if t.user != "" {
		body["user"] = t.user
	}
	if t.secret != "" {
		body["password"] = t.secret
	}
	if t.opts.ExePath != "" {
		body["exe_path"] = t.opts.ExePath
	}
	a, err := t.agent.call(ctx, http.MethodPost, "/prepare", body)
	if err != nil {
		return automation.NotConnected("easytrader /prepare: %v", err)
	}
	if a.status/100 != 2 {
		if a.status == http.StatusBadRequest {
			ae := parseAgentError(a.body)
			return automation.VenueError(automation.CodeNotConnected, ae.class, "easytrader /prepare refused: "+t.redact(ae.message))
		}
		return automation.NotConnected("easytrader /prepare: %s", a)
	}
	t.log.Info("easytrader agent logged in", "broker", t.opts.Broker)
	return nil
}

// redact keeps the login out of an agent's message that might echo it.
func (t *Terminal) redact(s string) string {
	for _, secret := range []string{t.secret, t.user} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// probeOnce reads /balance with the turn held and sets the state from it.
func (t *Terminal) probeOnce(ctx context.Context) error {
	_, err := t.funds(ctx)
	switch {
	case err == nil:
		t.setState(automation.StateReady, "balance probe answered")
	case errors.Is(err, thsgrid.ErrNoTable):
		t.setState(automation.StateError, err.Error())
	case automation.CodeOf(err) == automation.CodeNotConnected:
		t.setState(automation.StateDisconnected, err.Error())
	default:
		t.setState(automation.StateError, err.Error())
	}
	return err
}

// probe re-reads /balance every probe_every until ctx ends (Close), and
// logs in again at once when a call found the agent logged out.
func (t *Terminal) probe(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(time.Duration(t.opts.ProbeEvery))
	defer tick.Stop()
	for {
		relogin := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.relog:
			relogin = true
		}
		var err error
		if relogin || (t.opts.Prepare && t.State() != automation.StateReady) {
			err = t.connect(ctx)
		} else {
			err = t.take(ctx)
			if err == nil {
				err = t.probeOnce(ctx)
				t.give()
			}
		}
		if err != nil && ctx.Err() == nil {
			t.log.Debug("easytrader probe failed", "error", err)
		}
	}
}

// loggedOut marks the agent as needing /prepare again (it restarted).
func (t *Terminal) loggedOut() {
	t.setState(automation.StateDisconnected, "the agent is not logged in (restarted?)")
	if t.opts.Prepare {
		select {
		case t.relog <- struct{}{}:
		default:
		}
	}
}

// queryError turns a failed read into a coded error. Reads have no side
// effect, so a read without an answer is simply not connected.
func (t *Terminal) queryError(what string, err error) error {
	var se *sendError
	if errors.As(err, &se) {
		if !se.sent {
			t.setState(automation.StateDisconnected, "agent unreachable")
		}
		return automation.NotConnected("easytrader %s: %v", what, err)
	}
	return fmt.Errorf("easytrader %s: %w", what, err)
}

// answerError is the coded error of a non-2xx answer to a read.
func (t *Terminal) answerError(what string, a answer) error {
	if a.status == http.StatusBadRequest {
		ae := parseAgentError(a.body)
		if ae.loggedOut() {
			t.loggedOut()
			return automation.NotConnected("easytrader %s: the agent is not logged in (restarted?): %s", what, ae)
		}
		return automation.VenueError(automation.CodeRejected, ae.class, fmt.Sprintf("easytrader %s: %s", what, ae.message))
	}
	return automation.NotConnected("easytrader %s: the agent answered %s", what, a)
}

// get reads one of the agent's tables, with the turn held.
func (t *Terminal) get(ctx context.Context, path string) ([]byte, error) {
	a, err := t.agent.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, t.queryError(path, err)
	}
	if a.status != http.StatusOK {
		return nil, t.answerError(path, a)
	}
	return a.body, nil
}
