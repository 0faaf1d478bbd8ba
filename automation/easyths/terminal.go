// Package easyths is the driver of an EasyTHS server (seeds/003): each
// operation is submitted to EasyTHS's own queue (POST
// /api/v1/operations/{name}, priority 0: brokerd has already ordered its
// lane) and awaited on /operations/{id}/result. It reads both the
// documented (v2) and the v1.7 shapes REFERENCE.md lists.
//
// EasyTHS has no idempotency: a submit is never repeated. EasyTHS's
// operation id is logged and journaled (env.Ledger) as soon as the submit
// answers, and an answer lost after that is settled by asking EasyTHS for
// that id's status — in the call while its deadline lasts, then in the
// background (logged, and published as a venue event), and at the next
// start for ids a crash left behind. An order whose submit lost its answer
// (and so its id) is looked for with an order_query, which EasyTHS's FIFO
// worker runs after the lost submit if that was queued.
package easyths

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Terminal is an EasyTHS server's account. It implements
// automation.StockBroker.
type Terminal struct {
	name   string
	opts   Options
	api    *client
	log    *slog.Logger
	now    func() time.Time
	emit   func(automation.VenueEvent)
	ledger automation.Ledger

	ops   atomic.Pointer[catalog] // what /api/v1/operations/ listed
	state atomic.Value            // automation.State

	// pollEvery paces /status reads when /result cannot be used.
	pollEvery time.Duration

	mu      sync.Mutex
	pending map[string]pendingOp // EasyTHS ids not yet settled
	claimed map[string]bool      // contract numbers already some order's (thsgrid.TrimContract)

	closing chan struct{} // closed by Close: ends the prober and background settles
	wg      sync.WaitGroup
	closed  sync.Once
}

// catalog is the operations EasyTHS has loaded, with their parameter
// names.
type catalog map[string]map[string]bool

var _ automation.StockBroker = (*Terminal)(nil)

// Open is the driver's automation.Opener. It reads the operation list and
// the health within ctx; a server not reachable yet leaves the terminal
// not ready, probing every probe_every.
func Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := defaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	base, err := opts.validate()
	if err != nil {
		return nil, err
	}
	key, err := env.Secret("api_key_env", opts.APIKeyEnv)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	t := &Terminal{
		name:      name,
		opts:      opts,
		api:       &client{base: base, http: &http.Client{Transport: tr}, key: key, timeout: time.Duration(opts.RequestTimeout)},
		log:       env.Log().With("easyths", base.Redacted()),
		now:       env.Clock(),
		emit:      env.Emit,
		ledger:    env.Ledger,
		pollEvery: time.Second,
		pending:   make(map[string]pendingOp),
		claimed:   make(map[string]bool),
	}
	t.state.Store(automation.StateConnecting)
	t.closing = make(chan struct{})
	if err := t.connect(ctx); err != nil {
		t.log.Warn("EasyTHS not ready at start; probing again every probe_every", "probe_every", opts.ProbeEvery.String(), "error", err)
	}
	t.recover(ctx)
	t.wg.Add(1)
	go t.probe()
	return t, nil
}

func (t *Terminal) Name() string            { return t.name }
func (t *Terminal) Driver() string          { return "easyths" }
func (t *Terminal) State() automation.State { return t.state.Load().(automation.State) }

func (t *Terminal) setState(s automation.State, why string) {
	if old := t.state.Swap(s); old != s {
		t.log.Info("EasyTHS terminal state", "from", old, "to", s, "why", why)
	}
}

// Supports is what EasyTHS listed at connect, among the 15 operations.
// Before EasyTHS could be asked, every one of them: a submit then fails
// not_connected (true) rather than unsupported (which it may not be).
func (t *Terminal) Supports(op string) bool {
	c := t.ops.Load()
	if c == nil {
		return slices.Contains(automation.StockOperations, op)
	}
	_, ok := (*c)[op]
	return ok
}

// takes reports whether EasyTHS's operation op declares parameter p.
func (t *Terminal) takes(op, p string) bool {
	c := t.ops.Load()
	return c != nil && (*c)[op][p]
}

// Reconnect asks EasyTHS to reconnect to its client (v2's POST
// /system/reconnect; v1.7 has none) and reads the operations and health
// again.
func (t *Terminal) Reconnect(ctx context.Context) error {
	t.setState(automation.StateReconnecting, "reconnect asked")
	r, err := t.api.call(ctx, http.MethodPost, "/api/v1/system/reconnect", nil, nil, 0)
	if err == nil && r.status/100 != 2 && r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
		t.log.Warn("EasyTHS reconnect refused", "answer", r.String())
	}
	return t.connect(ctx)
}

// Close ends the prober and the background settles.
func (t *Terminal) Close() error {
	t.closed.Do(func() {
		close(t.closing)
		t.wg.Wait()
		t.setState(automation.StateDisconnected, "closed")
	})
	return nil
}

// connect reads the operation list, then the health.
func (t *Terminal) connect(ctx context.Context) error {
	if err := t.loadCatalog(ctx); err != nil {
		t.setState(automation.StateDisconnected, err.Error())
		return err
	}
	return t.probeOnce(ctx)
}

func (t *Terminal) loadCatalog(ctx context.Context) error {
	r, err := t.api.call(ctx, http.MethodGet, "/api/v1/operations/", nil, nil, 0)
	if err != nil {
		return automation.NotConnected("EasyTHS operations list: %v", err)
	}
	if r.status != http.StatusOK {
		return t.httpError("operations list", r)
	}
	env, _ := decodeEnvelope(r.body)
	var data struct {
		Operations map[string]struct {
			Parameters map[string]json.RawMessage `json:"parameters"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return &automation.Error{Code: automation.CodeInternal, Message: "EasyTHS operations list: unreadable", Err: err}
	}
	known := make(map[string]bool)
	for _, op := range automation.StockOperations {
		known[op] = true
	}
	c := catalog{}
	for name, op := range data.Operations {
		if !known[name] {
			continue
		}
		params := map[string]bool{}
		for p := range op.Parameters {
			params[p] = true
		}
		c[name] = params
	}
	t.ops.Store(&c)
	return nil
}

// probeOnce reads /api/v1/system/health.
func (t *Terminal) probeOnce(ctx context.Context) error {
	r, err := t.api.call(ctx, http.MethodGet, "/api/v1/system/health", nil, nil, 0)
	if err != nil {
		t.setState(automation.StateDisconnected, err.Error())
		return automation.NotConnected("EasyTHS health: %v", err)
	}
	if r.status != http.StatusOK {
		err := t.httpError("health", r)
		t.setState(automation.StateError, err.Error())
		return err
	}
	env, _ := decodeEnvelope(r.body)
	var h struct {
		Status     string `json:"status"`
		Components struct {
			Automator any   `json:"automator"`
			LoggedIn  *bool `json:"logged_in"`
		} `json:"components"`
	}
	_ = json.Unmarshal(env.Data, &h)
	switch {
	case env.Success != nil && !*env.Success, h.Status != "" && h.Status != "healthy" && h.Status != "ok":
		t.setState(automation.StateDisconnected, "EasyTHS reports "+h.Status+": "+env.text())
		return automation.NotConnected("EasyTHS is %s: %s", h.Status, env.text())
	case h.Components.LoggedIn != nil && !*h.Components.LoggedIn:
		t.setState(automation.StateDisconnected, "the client is not logged in")
		return automation.NotConnected("EasyTHS's client is not logged in")
	case h.Components.Automator == "disconnected":
		t.setState(automation.StateDisconnected, "the automator is disconnected")
		return automation.NotConnected("EasyTHS's automator is disconnected")
	}
	t.setState(automation.StateReady, "health probe answered")
	return nil
}

// probe reads the operation list and the health every probe_every until
// Close.
func (t *Terminal) probe() {
	defer t.wg.Done()
	ctx, cancel := t.untilClose()
	defer cancel()
	tick := time.NewTicker(time.Duration(t.opts.ProbeEvery))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// The list too: a restarted EasyTHS may have loaded other plugins.
		err := t.connect(ctx)
		if err != nil && ctx.Err() == nil {
			t.log.Debug("EasyTHS probe failed", "error", err)
		}
	}
}

// untilClose is a context for a background goroutine: done at Close or
// when cancel is called (which the goroutine defers).
func (t *Terminal) untilClose() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-t.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
