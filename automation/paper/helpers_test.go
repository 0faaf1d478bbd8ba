package paper

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/store"
)

var ctx = context.Background()

// tomlOptions decode a [terminals.options] table written as TOML text
// the way cmd/brokerd does: the config file is read into a map, which is
// encoded again and decoded strictly into the driver's options.
type tomlOptions string

func (o tomlOptions) Decode(into any) error {
	var raw map[string]any
	if err := toml.Unmarshal([]byte(o), &raw); err != nil {
		return err
	}
	if len(raw) == 0 {
		return nil
	}
	b, err := toml.Marshal(raw)
	if err != nil {
		return err
	}
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			var keys []string
			for _, e := range strict.Errors {
				keys = append(keys, "options."+strings.Join(e.Key(), "."))
			}
			return errors.New("unknown key " + strings.Join(keys, ", "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			return errors.New("options." + strings.Join(de.Key(), ".") + ": " + de.Error())
		}
		return err
	}
	return nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// events records the venue events a terminal publishes.
type events struct {
	mu   sync.Mutex
	list []automation.VenueEvent
}

func (e *events) publish(ev automation.VenueEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) take() []automation.VenueEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

// rig is a paper terminal under test with what it was opened on.
type rig struct {
	*Terminal
	clock  *clock
	events *events
	ledger automation.Ledger
	opts   string
}

// standard is the account most tests trade on.
const standard = `
quotes = { BTCUSDT = "65000.00", ETHUSDT = "3000.00" }
balances = { USDT = "100000" }
`

func open(t testing.TB, opts string, ledger automation.Ledger) *rig {
	t.Helper()
	r := &rig{clock: newClock(), events: &events{}, ledger: ledger, opts: opts}
	r.reopen(t)
	return r
}

// reopen opens the terminal again on the same ledger and clock, as a
// restart of brokerd would.
func (r *rig) reopen(t testing.TB) {
	t.Helper()
	term, err := Open(ctx, "paper", tomlOptions(r.opts), automation.Env{Ledger: r.ledger, Now: r.clock.Now, Publish: r.events.publish})
	if err != nil {
		t.Fatal(err)
	}
	r.Terminal = term.(*Terminal)
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "brokerd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// limit is a GTC limit order request.
func limit(symbol string, side automation.OrderSide, qty, price string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{Symbol: symbol, Side: side, Type: automation.TypeLimit, Quantity: d(qty), Price: d(price)}
}

func market(symbol string, side automation.OrderSide, qty string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{Symbol: symbol, Side: side, Type: automation.TypeMarket, Quantity: d(qty)}
}

func (r *rig) mustPlace(t testing.TB, req automation.PlaceOrderRequest) automation.ExchangeOrder {
	t.Helper()
	o, err := r.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatalf("place %+v: %v", req, err)
	}
	return o
}

func (r *rig) mustQuote(t testing.TB, symbol, price string) {
	t.Helper()
	if err := r.SetQuote(ctx, symbol, d(price)); err != nil {
		t.Fatalf("set quote %s %s: %v", symbol, price, err)
	}
}

// balance is the wallet balance and available of asset.
func (r *rig) balance(t testing.TB, asset string) (balance, available decimal.Decimal) {
	t.Helper()
	assets, err := r.Assets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range assets {
		if a.Asset == asset {
			return a.Balance, a.Available
		}
	}
	return decimal.Zero, decimal.Zero
}

// position is the symbol's position, zero values when flat.
func (r *rig) position(t testing.TB, symbol string) automation.ExchangePosition {
	t.Helper()
	ps, err := r.Positions(ctx, symbol)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		return automation.ExchangePosition{}
	}
	return ps[0]
}

// wantCode fails unless err carries code and, when venueCode is set,
// that venue code.
func wantCode(t testing.TB, err error, code automation.Code, venueCode string) {
	t.Helper()
	if got := automation.CodeOf(err); err == nil || got != code {
		t.Fatalf("error %v (code %s), want code %s", err, got, code)
	}
	var e *automation.Error
	if venueCode != "" && (!errors.As(err, &e) || e.VenueCode != venueCode) {
		t.Fatalf("error %v, want venue code %s", err, venueCode)
	}
}

// wantDecimal fails unless got is exactly want (same value; trailing
// zeros aside).
func wantDecimal(t testing.TB, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(d(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func envWithoutLedger() automation.Env { return automation.Env{} }
