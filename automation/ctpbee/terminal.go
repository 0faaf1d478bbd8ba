package ctpbee

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// refreshEvery is how often the terminal reads GET /order_solve by
// itself: it keeps the session alive, State honest, the cached positions
// fresh and turns order changes into venue events.
const refreshEvery = 5 * time.Second

// Open is the ctpbee driver's automation.Opener. It returns at once; the
// login happens in the background and State says how it went.
func Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := defaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	login, err := loginForm(opts, env)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(opts.URL)
	if base.User != nil {
		return nil, optionError("url", "must not carry credentials; they come from the *_env options")
	}
	t := newTerminal(name, base, time.Duration(opts.RequestTimeout), login, env)
	if err := t.loadLedger(ctx); err != nil {
		return nil, err
	}
	t.start()
	return t, nil
}

// loginForm is /login's form. It holds secrets: it is sent, never logged.
func loginForm(o Options, env automation.Env) (url.Values, error) {
	f := url.Values{}
	for _, s := range []struct{ field, option, variable string }{
		{"authorization", "authorization_env", o.AuthorizationEnv},
		{"userid", "userid_env", o.UserIDEnv},
		{"password", "password_env", o.PasswordEnv},
		{"auth_code", "auth_code_env", o.AuthCodeEnv},
	} {
		v, err := env.Secret(s.option, s.variable)
		if err != nil {
			return nil, err
		}
		if v != "" {
			f.Set(s.field, v)
		}
	}
	for field, v := range map[string]string{
		"brokerid": o.BrokerID, "appid": o.AppID, "interface": o.Interface,
		"td_address": o.TDAddress, "md_address": o.MDAddress,
	} {
		if v != "" {
			f.Set(field, v)
		}
	}
	return f, nil
}

// terminal is one CTP account behind one ctpbee_backend.
type terminal struct {
	name    string
	base    *url.URL
	timeout time.Duration
	login   url.Values // secrets
	reads   *http.Client
	writes  *http.Client
	env     automation.Env
	log     *slog.Logger
	now     func() time.Time

	authMu sync.Mutex // one login at a time
	saveMu sync.Mutex // one journal save at a time, in order

	mu      sync.Mutex
	state   automation.State
	reason  string // why the state is not ready
	token   string // the JWT; a credential, never logged
	gen     uint64 // counts logins, so that one refusal makes one login
	halted  bool   // a refused login: no login by itself until Reconnect
	book    *book  // the last GET /order_solve
	bookAt  time.Time
	sentAt  map[string]time.Time   // symbol → our last order, close or cancel
	cids    map[string]clientOrder // client order id → its order (ledger.go)
	emitted map[string]string      // order id → status/traded last reported

	stop context.CancelFunc
	wake chan struct{}
	done chan struct{}
}

func newTerminal(name string, base *url.URL, timeout time.Duration, login url.Values, env automation.Env) *terminal {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := func(keepAlive bool) *http.Client {
		return &http.Client{
			Transport: &http.Transport{
				// No proxy from the environment: the CTP credentials go
				// to the configured backend only.
				Proxy:             nil,
				DialContext:       dialer.DialContext,
				DisableKeepAlives: !keepAlive,
				IdleConnTimeout:   30 * time.Second,
				MaxIdleConns:      4,
			},
			// The backend never redirects; following one would resend a
			// POST elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &terminal{
		name:    name,
		base:    base,
		timeout: timeout,
		login:   login,
		reads:   transport(true),
		writes:  transport(false),
		env:     env,
		log:     env.Log(),
		now:     env.Clock(),
		state:   automation.StateConnecting,
		sentAt:  map[string]time.Time{},
		cids:    map[string]clientOrder{},
		wake:    make(chan struct{}, 1),
	}
}

func (t *terminal) Name() string   { return t.name }
func (t *terminal) Driver() string { return "ctpbee" }

func (t *terminal) State() automation.State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// Supports: the exchange set but asset (the balance is not available
// over HTTP) and symbol_info (neither are contracts).
func (t *terminal) Supports(op string) bool {
	switch op {
	case automation.OpPlaceOrder, automation.OpCancelOrder, automation.OpOrderStatus,
		automation.OpOpenOrders, automation.OpPosition, automation.OpClosePosition:
		return true
	}
	return false
}

// TakesOffset: place_order's offset is CTP's.
func (t *terminal) TakesOffset() bool { return true }

// start runs the refresher until Close.
func (t *terminal) start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	t.done = make(chan struct{})
	go t.refresh(ctx)
}

// refresh logs in and then reads the book every refreshEvery until ctx
// ends. After a refused login it waits for Reconnect.
func (t *terminal) refresh(ctx context.Context) {
	defer close(t.done)
	backoff := time.Second
	for {
		wait := refreshEvery
		t.mu.Lock()
		halted := t.halted
		t.mu.Unlock()
		if !halted {
			if _, err := t.readBook(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				wait = backoff
				backoff = min(2*backoff, 30*time.Second)
			} else {
				backoff = time.Second
			}
		}
		t.mu.Lock()
		halted = t.halted
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		if halted {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Reconnect logs in again, also after a refused login.
func (t *terminal) Reconnect(ctx context.Context) error {
	t.mu.Lock()
	t.halted = false
	gen := t.gen
	t.mu.Unlock()
	err := t.relogin(ctx, gen)
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return err
}

// Close stops the refresher. It does not log out: /logout stops the
// backend's CTP session for every client of it.
func (t *terminal) Close() error {
	t.stop()
	<-t.done
	t.reads.CloseIdleConnections()
	t.mu.Lock()
	t.state = automation.StateDisconnected
	t.token = ""
	t.mu.Unlock()
	return nil
}

var (
	_ automation.Exchange       = (*terminal)(nil)
	_ automation.PositionCloser = (*terminal)(nil)
	_ automation.OffsetTaker    = (*terminal)(nil)
	_ automation.SymbolRules    = (*terminal)(nil)
	_ automation.PositionRules  = (*terminal)(nil)
)
