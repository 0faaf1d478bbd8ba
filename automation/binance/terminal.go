package binance

import (
	"context"
	"log/slog"
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

	offset atomic.Int64 // server clock − ours, in nanoseconds
	state  atomic.Value // automation.State

	mu      sync.Mutex
	cur     *conn         // where requests go; nil while there is none
	changed chan struct{} // closed (and replaced) when cur or the state changes
	symbols map[string]automation.SymbolInfo
	// revokedMsg is Binance's -2015 message while the key is refused:
	// the terminal stays in state error until Reconnect.
	revokedMsg string

	reconnect chan struct{}
	resyncAsk chan struct{} // asks keepTime to measure the offset now
	seq       int
	closed    chan struct{} // closed by Close
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
		resyncAsk: make(chan struct{}, 1),
		closed:    make(chan struct{}),
	}
	t.rest = rest{base: opts.RESTURL, client: &http.Client{Timeout: time.Duration(opts.RequestTimeout)}, now: t.clock}
	t.limits = newLimiter(t.serverNow)
	t.state.Store(automation.StateConnecting)
	// The goroutines' lifetime is the terminal's: Close cancels it.
	ctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.wg.Add(2)
	go t.supervise(ctx)
	go t.keepTime(ctx)
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
		close(t.closed)
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
		if c != nil && c.usable() {
			return c, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, automation.NotConnected("binance is not connected (%s): nothing was sent", t.State())
		case <-limit.C:
			return nil, automation.NotConnected("binance is not connected (%s) after %s: nothing was sent", t.State(), time.Duration(t.opts.RequestTimeout))
		case <-t.closed:
			return nil, automation.NotConnected("the binance terminal is closed: nothing was sent")
		}
	}
}
