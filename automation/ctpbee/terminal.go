package ctpbee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shopspring/decimal"

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
		t.closeOnce.Do(func() { close(t.quit) })
		t.background.Wait()
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

	stop       context.CancelFunc
	wake       chan struct{}
	done       chan struct{}
	quit       chan struct{}  // closed by Close: background settling ends
	background sync.WaitGroup // background settling
	closeOnce  sync.Once
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
		quit:    make(chan struct{}),
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
	t.closeOnce.Do(func() { close(t.quit) })
	t.stop()
	<-t.done
	t.background.Wait()
	t.mu.Lock()
	t.state = automation.StateDisconnected
	t.token = ""
	t.mu.Unlock()
	return nil
}

// session is the token to use, logging in first when there is none.
func (t *terminal) session(ctx context.Context) (string, uint64, error) {
	t.mu.Lock()
	token, gen, halted, reason := t.token, t.gen, t.halted, t.reason
	t.mu.Unlock()
	if halted {
		return "", 0, automation.NotConnected("%s", reason)
	}
	if token != "" {
		return token, gen, nil
	}
	if err := t.relogin(ctx, gen); err != nil {
		return "", 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" {
		return "", 0, automation.NotConnected("not logged in to ctpbee_backend: %s", t.reason)
	}
	return t.token, t.gen, nil
}

// relogin logs in unless another caller already did since gen.
func (t *terminal) relogin(ctx context.Context, gen uint64) error {
	t.authMu.Lock()
	defer t.authMu.Unlock()
	t.mu.Lock()
	current, halted, reason := t.gen, t.halted, t.reason
	t.mu.Unlock()
	if halted {
		return automation.NotConnected("%s", reason)
	}
	if current != gen {
		return nil
	}
	a, err := t.send(ctx, http.MethodPost, "/login", t.login, "")
	if err != nil {
		t.setState(automation.StateReconnecting, "cannot log in to ctpbee_backend: "+err.Error())
		return automation.NotConnected("cannot log in to ctpbee_backend: %v", err)
	}
	var token string
	if a.Success {
		token, err = decodeToken(a)
	}
	switch {
	case !a.Success:
		return t.halt(fmt.Sprintf("ctpbee_backend refused the login: %s", a.Msg))
	case err != nil:
		return t.halt(err.Error())
	}
	t.mu.Lock()
	t.token = token
	t.gen++
	t.state, t.reason = automation.StateReady, ""
	t.mu.Unlock()
	t.log.Info("logged in to ctpbee_backend", "msg", a.Msg)
	return nil
}

func decodeToken(a answer) (string, error) {
	var token string
	if err := json.Unmarshal(a.Data, &token); err != nil || token == "" {
		return "", errors.New("ctpbee_backend's login answered no token")
	}
	return token, nil
}

// halt puts the terminal in error until Reconnect: the backend refused
// the credentials or a fresh token, which trying again by itself would
// not mend (and CTP locks an account after repeated wrong passwords).
func (t *terminal) halt(reason string) error {
	t.mu.Lock()
	t.halted = true
	t.token = ""
	t.state, t.reason = automation.StateError, reason
	t.mu.Unlock()
	t.log.Error("ctpbee terminal stopped; fix the cause and reconnect", "reason", reason)
	return automation.NotConnected("%s", reason)
}

func (t *terminal) setState(s automation.State, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.halted {
		return
	}
	t.state, t.reason = s, reason
}

// readBook reads GET /order_solve and keeps it for the caches.
func (t *terminal) readBook(ctx context.Context) (book, error) {
	started := t.now()
	a, err := t.call(ctx, http.MethodGet, "/order_solve", nil)
	if err == nil && !a.Success {
		err = automation.VenueError(automation.CodeNotConnected, "", "ctpbee_backend's /order_solve refused: "+a.Msg)
	}
	var b book
	if err == nil {
		b, err = decodeBook(a.Data)
	}
	if err != nil {
		var lost *lostAnswer
		if errors.As(err, &lost) || automation.CodeOf(err) == automation.CodeNotConnected {
			t.setState(automation.StateReconnecting, err.Error())
		}
		if automation.CodeOf(err) == automation.CodeInternal {
			err = automation.NotConnected("cannot read the orders from ctpbee_backend: %v", err)
		}
		return book{}, err
	}
	t.observe(b, started)
	return b, nil
}

// observe keeps b, read from started on, as the latest book (unless a
// read started later is already kept), marks the terminal ready and
// reports orders that changed since the last book as venue events.
func (t *terminal) observe(b book, started time.Time) {
	now := t.now()
	avg := avgPrices(b.Trades)
	var changed []automation.ExchangeOrder
	t.mu.Lock()
	if t.book == nil || started.After(t.bookAt) {
		// Stamped with the read's start: an order sent while the read
		// was under way may be missing from it.
		t.book, t.bookAt = &b, started
		first := t.emitted == nil
		if first {
			t.emitted = map[string]string{}
		}
		for _, o := range b.allOrders() {
			key := string(o.Status) + "/" + o.Traded.String()
			if t.emitted[string(o.OrderID)] != key {
				t.emitted[string(o.OrderID)] = key
				if !first {
					changed = append(changed, t.withCID(toOrder(o, avg[string(o.OrderID)], now)))
				}
			}
		}
	}
	if !t.halted && t.token != "" {
		t.state, t.reason = automation.StateReady, ""
	}
	t.mu.Unlock()
	for _, o := range changed {
		t.env.Emit(automation.VenueEvent{Terminal: t.name, Kind: "order", Data: o, At: now})
	}
}

// withCID fills in the client order id this run gave the order. t.mu held.
func (t *terminal) withCID(o automation.ExchangeOrder) automation.ExchangeOrder {
	for cid, c := range t.cids {
		if c.OrderID != "" && c.OrderID == o.OrderID {
			o.ClientOrderID = cid
			break
		}
	}
	return o
}

// markSent notes that an order, close or cancel on symbol is on its way:
// the cached position of symbol is unknown until a book read after it.
func (t *terminal) markSent(symbol string) {
	t.mu.Lock()
	t.sentAt[symbol] = t.now()
	t.mu.Unlock()
}

// CachedPosition is the held quantity of one side of symbol as the last
// book showed it, when that still holds: the book is recent, was read
// after this terminal's last order on the symbol, and shows no open order
// that could add to that side. It never blocks.
func (t *terminal) CachedPosition(symbol string, side automation.PositionSide) (decimal.Decimal, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.book == nil || t.now().Sub(t.bookAt) > 3*refreshEvery || !t.bookAt.After(t.sentAt[symbol]) {
		return decimal.Zero, false
	}
	for _, o := range t.book.Active {
		if o.localSymbol() != symbol {
			continue
		}
		if s, _ := orderStatus(string(o.Status)); !s.Open() {
			continue
		}
		opensLong := string(o.Direction) == dirLong && string(o.Offset) == offOpen
		opensShort := string(o.Direction) == dirShort && string(o.Offset) == offOpen
		if side == automation.PositionLong && opensLong || side == automation.PositionShort && opensShort {
			return decimal.Zero, false
		}
	}
	held := decimal.Zero
	for _, p := range t.book.positions() {
		if p.symbol == symbol && p.side == side {
			held = held.Add(p.volume)
		}
	}
	return held, true
}

// CachedSymbol gives what a symbol tells by itself: whole lots, and
// whether its exchange tells today's position from yesterday's. The price
// tick is unknown (zero): ctpbee_backend does not give contracts over
// HTTP. It never blocks.
func (t *terminal) CachedSymbol(symbol string) (automation.SymbolInfo, bool) {
	c, err := parseSymbol(symbol)
	if err != nil {
		return automation.SymbolInfo{}, false
	}
	return automation.SymbolInfo{
		Symbol:             symbol,
		QuantityStep:       decimal.NewFromInt(1),
		MinQuantity:        decimal.NewFromInt(1),
		QuoteAsset:         "CNY",
		CloseTodayDistinct: closeTodayDistinct(c.exchange),
	}, true
}

var (
	_ automation.Exchange       = (*terminal)(nil)
	_ automation.PositionCloser = (*terminal)(nil)
	_ automation.OffsetTaker    = (*terminal)(nil)
	_ automation.SymbolRules    = (*terminal)(nil)
	_ automation.PositionRules  = (*terminal)(nil)
)
