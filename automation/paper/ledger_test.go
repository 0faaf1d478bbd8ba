package paper

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// snapshot is everything the account answers.
type snapshot struct {
	Assets    []automation.Asset
	Positions []automation.ExchangePosition
	Open      []automation.ExchangeOrder
	Quote     string
}

func snap(t testing.TB, r *rig) snapshot {
	t.Helper()
	var s snapshot
	var err error
	if s.Assets, err = r.Assets(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Positions, err = r.Positions(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s.Open, err = r.OpenOrders(ctx, ""); err != nil {
		t.Fatal(err)
	}
	q, _ := r.Quote("BTCUSDT")
	s.Quote = q.String()
	return s
}

// equal compares snapshots by their JSON, as the API shows them (a
// decimal's internal form and a time's location aside).
func equal(t testing.TB, a, b snapshot) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// The account survives a restart on the real store: balances, positions,
// open orders, quotes, finished orders by client order id, the order ids.
func TestRestartOnTheStore(t *testing.T) {
	st := openStore(t)
	r := open(t, standard+"taker_fee = \"0.0004\"\n", st)
	filled := r.mustPlace(t, automation.PlaceOrderRequest{Symbol: "BTCUSDT", Side: buy, Type: automation.TypeMarket, Quantity: d("0.010"), ClientOrderID: "first"})
	resting := r.mustPlace(t, automation.PlaceOrderRequest{Symbol: "BTCUSDT", Side: buy, Type: automation.TypeLimit, Quantity: d("0.010"), Price: d("64000.0"), ClientOrderID: "rest"})
	cancelled := r.mustPlace(t, limit("ETHUSDT", sell, "0.010", "3100.00"))
	if _, err := r.CancelOrder(ctx, automation.OrderRef{OrderID: cancelled.OrderID}); err != nil {
		t.Fatal(err)
	}
	r.mustPlace(t, market("ETHUSDT", sell, "0.050"))
	r.mustQuote(t, "BTCUSDT", "64500.0")
	r.mustQuote(t, "ETHUSDT", "3010.00")
	before := snap(t, r)

	// The options' balances and quotes no longer apply: the ledger wins.
	r.opts = `quotes = { BTCUSDT = "70000.0", SOLUSDT = "150.00" }
balances = { USDT = "5" }
taker_fee = "0.0004"`
	r.reopen(t)
	if after := snap(t, r); !equal(t, before, after) {
		t.Errorf("after a restart:\n got %+v\nwant %+v", after, before)
	}
	// A symbol new to the options is listed with its quote.
	if q, ok := r.Quote("SOLUSDT"); !ok || !q.Equal(d("150")) {
		t.Errorf("SOLUSDT %s, %v", q, ok)
	}
	for _, ref := range []automation.OrderRef{{ClientOrderID: "first"}, {OrderID: cancelled.OrderID}, {ClientOrderID: "rest"}} {
		o, err := r.OrderStatus(ctx, ref)
		if err != nil {
			t.Errorf("%+v after a restart: %v", ref, err)
			continue
		}
		want := map[string]automation.OrderStatus{filled.OrderID: automation.StatusFilled, cancelled.OrderID: automation.StatusCanceled, resting.OrderID: automation.StatusNew}[o.OrderID]
		if o.Status != want {
			t.Errorf("%+v after a restart: %+v", ref, o)
		}
	}
	// The open order still holds its client order id, and still fills.
	_, err := r.PlaceOrder(ctx, automation.PlaceOrderRequest{Symbol: "BTCUSDT", Side: buy, Type: automation.TypeLimit, Quantity: d("0.010"), Price: d("60000.0"), ClientOrderID: "rest"})
	wantCode(t, err, automation.CodeRejected, "-2010")
	r.mustQuote(t, "BTCUSDT", "64000.0")
	if o, _ := r.OrderStatus(ctx, automation.OrderRef{ClientOrderID: "rest"}); o.Status != automation.StatusFilled {
		t.Errorf("the resting order after a restart: %+v", o)
	}
	if next := r.mustPlace(t, market("BTCUSDT", buy, "0.010")); next.OrderID != "5" {
		t.Errorf("next order id %s, want 5", next.OrderID)
	}
	// 23 hours later, restarted, the archive still answers by client
	// order id.
	r.clock.Add(23 * time.Hour)
	r.reopen(t)
	if o, err := r.OrderStatus(ctx, automation.OrderRef{ClientOrderID: "first"}); err != nil || o.OrderID != filled.OrderID {
		t.Errorf("first, 23 hours later: %+v, %v", o, err)
	}
	// Two days later the finished orders are gone, from the store too
	// (which drops whole days).
	r.clock.Add(2 * finishedKept)
	r.mustQuote(t, "BTCUSDT", "64100.0") // a save prunes the archive
	r.reopen(t)
	if _, err := r.OrderStatus(ctx, automation.OrderRef{ClientOrderID: "first"}); !errors.Is(err, automation.ErrNoSuchOrder) {
		t.Errorf("first, two days later: %v", err)
	}
	if left, err := st.LoadLedgerArchive(ctx, "paper", kindOrder, time.Time{}); err != nil || len(left) != 0 {
		t.Errorf("the archive holds %d orders two days later (%v)", len(left), err)
	}
	if p := r.position(t, "BTCUSDT"); !p.Quantity.Equal(d("0.030")) {
		t.Errorf("BTCUSDT position %s two days later", p.Quantity)
	}
}

// flakyLedger fails its writes while fail is set.
type flakyLedger struct {
	automation.Ledger
	fail  atomic.Bool
	saves atomic.Int64
}

var errDiskFull = errors.New("disk full")

func (l *flakyLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	if l.fail.Load() {
		return errDiskFull
	}
	l.saves.Add(1)
	return l.Ledger.SaveLedger(ctx, terminal, state)
}

func (l *flakyLedger) ArchiveLedger(ctx context.Context, terminal string, records []automation.LedgerRecord, state []byte) error {
	if l.fail.Load() {
		return errDiskFull
	}
	l.saves.Add(1)
	return l.Ledger.ArchiveLedger(ctx, terminal, records, state)
}

// A change that cannot be saved did not happen: it is rolled back, the
// operation fails, and a restart finds the account as it was.
func TestFailedSaveRollsBack(t *testing.T) {
	ledger := &flakyLedger{Ledger: openStore(t)}
	r := open(t, standard, ledger)
	r.mustPlace(t, market("BTCUSDT", buy, "0.010"))
	resting := r.mustPlace(t, limit("BTCUSDT", buy, "0.010", "64000.0"))
	before := snap(t, r)
	ledger.fail.Store(true)
	actions := []struct {
		name string
		do   func() error
	}{
		{"market order", func() error { _, err := r.PlaceOrder(ctx, market("BTCUSDT", buy, "0.010")); return err }},
		{"resting order", func() error { _, err := r.PlaceOrder(ctx, limit("BTCUSDT", sell, "0.010", "70000.0")); return err }},
		{"expired IOC", func() error {
			req := limit("BTCUSDT", buy, "0.010", "60000.0")
			req.TimeInForce = automation.IOC
			_, err := r.PlaceOrder(ctx, req)
			return err
		}},
		{"cancel", func() error { _, err := r.CancelOrder(ctx, automation.OrderRef{OrderID: resting.OrderID}); return err }},
		{"quote that fills", func() error { return r.SetQuote(ctx, "BTCUSDT", d("63000.0")) }},
		{"quote of a new symbol", func() error { return r.SetQuote(ctx, "SOLUSDT", d("150.00")) }},
	}
	for _, a := range actions {
		err := a.do()
		if !errors.Is(err, errDiskFull) || automation.CodeOf(err) != automation.CodeInternal || !strings.Contains(err.Error(), "not carried out") {
			t.Errorf("%s with a failing ledger: %v", a.name, err)
		}
		if after := snap(t, r); !equal(t, before, after) {
			t.Errorf("%s changed the account though it was not saved:\n got %+v\nwant %+v", a.name, after, before)
		}
	}
	if evs := r.events.take(); len(evs) != 0 {
		t.Errorf("a quote that was not saved published %+v", evs)
	}
	if _, ok := r.CachedSymbol("SOLUSDT"); ok {
		t.Error("SOLUSDT is listed though its quote was not saved")
	}
	if o, err := r.OrderStatus(ctx, automation.OrderRef{OrderID: "3"}); !errors.Is(err, automation.ErrNoSuchOrder) {
		t.Errorf("an order that was not saved is found: %+v, %v", o, err)
	}
	// Reads need no save.
	if _, err := r.Assets(ctx); err != nil {
		t.Errorf("assets with a failing ledger: %v", err)
	}
	ledger.fail.Store(false)
	if o := r.mustPlace(t, market("BTCUSDT", buy, "0.010")); o.OrderID != "3" {
		t.Errorf("next order %s, want 3", o.OrderID)
	}
	r.reopen(t)
	if p := r.position(t, "BTCUSDT"); !p.Quantity.Equal(d("0.020")) {
		t.Errorf("position after a restart %s, want 0.020", p.Quantity)
	}
}

// A save that gives up because ctx ended says timeout, not internal.
func TestSaveCutShortByContext(t *testing.T) {
	ledger := &ctxLedger{Ledger: openStore(t)}
	r := open(t, standard, ledger)
	c, cancel := context.WithTimeout(ctx, time.Hour)
	ledger.beforeWrite = cancel // the deadline "passes" while the write waits
	_, err := r.PlaceOrder(c, market("BTCUSDT", buy, "0.010"))
	if code := automation.CodeOf(err); code != automation.CodeInterrupted {
		t.Errorf("error %v (code %s), want interrupted", err, code)
	}
	if p := r.position(t, "BTCUSDT"); !p.Quantity.IsZero() {
		t.Errorf("position %s after a cut-short save", p.Quantity)
	}
}

// ctxLedger calls beforeWrite, then fails a write with its ctx's error if
// that ended it, as the store does.
type ctxLedger struct {
	automation.Ledger
	beforeWrite func()
}

func (l *ctxLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	if l.beforeWrite != nil {
		l.beforeWrite()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return l.Ledger.SaveLedger(ctx, terminal, state)
}

func (l *ctxLedger) ArchiveLedger(ctx context.Context, terminal string, records []automation.LedgerRecord, state []byte) error {
	if err := l.SaveLedger(ctx, terminal, state); err != nil {
		return err
	}
	return l.Ledger.ArchiveLedger(ctx, terminal, records, state)
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name, saved, want string
	}{
		{"another version", `{"version":2,"state":{}}`, "format version 2"},
		{"not JSON", `{`, "not valid JSON"},
		{"a finished order", `{"version":1,"state":{"orders":[{"order_id":"1","status":"FILLED"}]}}`, "has ended"},
		{"a zero position", `{"version":1,"state":{"positions":{"BTCUSDT":{"quantity":"0","cost":"1"}}}}`, "bad position in BTCUSDT"},
		{"a symbol without rules", `{"version":1,"state":{"quotes":{"GOLD":"1"}}}`, "the ledger holds GOLD, whose rules are not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			if err := st.SaveLedger(ctx, "paper", []byte(tt.saved)); err != nil {
				t.Fatal(err)
			}
			_, err := Open(ctx, "paper", tomlOptions(standard), automation.Env{Ledger: st})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// The saved envelope is versioned JSON with exact decimal strings.
func TestSavedFormat(t *testing.T) {
	st := openStore(t)
	r := open(t, standard, st)
	r.mustPlace(t, market("BTCUSDT", buy, "0.010"))
	raw, err := st.LoadLedger(ctx, "paper")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Version int `json:"version"`
		State   struct {
			Balances  map[string]string                          `json:"balances"`
			Positions map[string]struct{ Quantity, Cost string } `json:"positions"`
		} `json:"state"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ Quantity, Cost string }{"BTCUSDT": {"0.01", "650"}}
	if env.Version != 1 || env.State.Balances["USDT"] != "100000" || !reflect.DeepEqual(env.State.Positions, want) {
		t.Errorf("saved %s", raw)
	}
}
