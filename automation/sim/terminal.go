package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Deps are what a sim terminal takes from its surroundings.
type Deps struct {
	// Now is the sim clock; nil means time.Now. Trading days, the price
	// path and T+1 all follow it.
	Now func() time.Time
	// Ledger persists the account; nil keeps it in memory only.
	Ledger Ledger
	// After is how the terminal waits out its latency and stall faults;
	// nil means time.After. Tests pass a channel they control.
	After func(time.Duration) <-chan time.Time
}

// Terminal is a simulated A-share broker terminal. It implements
// automation.StockBroker. Its methods are safe for concurrent use: the
// queue calls the broker methods one at a time, while State, Quote,
// SetQuote, Inject, ClearFaults and Faults may come from other goroutines.
type Terminal struct {
	name    string
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	ledger  Ledger
	latency time.Duration
	fees    feeSchedule
	repo    repoTable

	ctl control

	// mu guards the account. It is never held while waiting out latency
	// or a fault; it is held while the ledger saves, so that nobody sees
	// a change that might still be rolled back.
	mu          sync.Mutex
	st          *state
	open        []*order          // today's open orders, in time priority
	watching    []*condition      // condition orders being watched
	byClientID  map[string]*order // orders by client order id
	prices      *priceModel
	enc         encodeCache
	evaluatedAt time.Time // the sim-clock instant the account is up to
	saved       []byte    // the state as last saved (nil without a ledger)
	savedAt     time.Time // evaluatedAt as last saved
	// changed is set by every change to st since the last save, so that
	// a call that changed nothing costs no encoding.
	changed bool

	onBlock func(op, why string) // tests: told when an action starts to wait
}

var _ automation.StockBroker = (*Terminal)(nil)

// New builds a sim terminal named name. With a Ledger, the account stored
// under name is loaded; when none is stored, a new account is opened from
// opts and saved before New returns.
func New(name string, opts Options, deps Deps) (*Terminal, error) {
	if name == "" {
		return nil, errors.New("sim: a terminal needs a name")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := &Terminal{
		name:    name,
		now:     deps.Now,
		after:   deps.After,
		ledger:  deps.Ledger,
		latency: time.Duration(opts.Latency),
		fees:    opts.fees(),
		repo:    newRepoTable(opts.RepoRates),
		prices:  newPriceModel(opts.Seed, opts.Volatility),
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.after == nil {
		t.after = time.After
	}
	t.ctl.state = automation.StateReady
	if err := t.load(context.Background(), opts); err != nil {
		return nil, err
	}
	for _, f := range opts.Faults {
		t.ctl.inject(f)
	}
	return t, nil
}

// load loads the stored account or opens a new one.
func (t *Terminal) load(ctx context.Context, opts Options) error {
	if t.ledger != nil {
		raw, err := t.ledger.LoadLedger(ctx, t.name)
		if err != nil {
			return fmt.Errorf("sim %s: cannot load the ledger: %w", t.name, err)
		}
		if raw != nil {
			st, body, at, err := decodeEnvelope(raw)
			if err != nil {
				return fmt.Errorf("sim %s: %w", t.name, err)
			}
			t.setState(st, at)
			t.saved, t.savedAt = body, at
			return nil
		}
	}
	now := t.now()
	here := pointOf(now)
	cash, _ := yuanToCents(opts.InitialCash) // validated
	st := newState(here.Day, dayOf(now), cash)
	t.setState(st, now)
	for code, q := range opts.Quotes {
		in, _ := classifyTradable(code)
		m, _ := in.parsePrice(q)
		st.Quotes[code] = anchor{At: here, Price: m, PrevClose: m}
	}
	for code, qty := range opts.Positions {
		in, _ := classifyTradable(code)
		price, _ := t.priceAt(in, here)
		st.Positions[code] = &position{Quantity: qty, Cost: amountCents(price, qty)}
	}
	if t.ledger == nil {
		return nil
	}
	body, err := t.encodeState()
	if err != nil {
		return fmt.Errorf("sim %s: cannot encode the new account: %w", t.name, err)
	}
	raw, err := encodeEnvelope(body, now)
	if err != nil {
		return fmt.Errorf("sim %s: cannot encode the new account: %w", t.name, err)
	}
	if err := t.ledger.SaveLedger(ctx, t.name, raw); err != nil {
		return fmt.Errorf("sim %s: cannot save the new account: %w", t.name, err)
	}
	t.saved, t.savedAt = body, now
	return nil
}

// setState installs st and rebuilds what is derived from it.
func (t *Terminal) setState(st *state, evaluatedAt time.Time) {
	t.st, t.evaluatedAt, t.changed = st, evaluatedAt, false
	t.open, t.watching = nil, nil
	t.indexClientIDs()
	for _, o := range st.Orders {
		if o.open() {
			t.open = append(t.open, o)
		}
	}
	for _, c := range st.Conditions {
		if c.Status == automation.ConditionWatching {
			t.watching = append(t.watching, c)
		}
	}
	t.prices.reset()
	t.enc.reset()
}

func (t *Terminal) indexClientIDs() {
	t.byClientID = make(map[string]*order)
	for _, o := range t.st.Orders {
		if o.ClientOrderID != "" {
			t.byClientID[o.ClientOrderID] = o
		}
	}
}

// run carries out one terminal action: connection and faults, latency,
// then — under the lock — bringing the account up to now, the action, and
// saving what changed. An action that fails changes nothing but the
// replay of time.
func run[T any](ctx context.Context, t *Terminal, op string, act func(now time.Time) (T, error)) (T, error) {
	var zero T
	fault, err := t.prepare(ctx, op)
	if err != nil {
		return zero, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.advance(now)
	res, actErr := act(now)
	if err := t.commit(ctx); err != nil && actErr == nil {
		return zero, err
	}
	if actErr != nil {
		return zero, actErr
	}
	if fault.Kind == FaultLostReply {
		return zero, automation.OutcomeUnknown(nil,
			"sim terminal %s: %s was carried out but its reply was lost (injected fault); look it up before retrying", t.name, op)
	}
	return res, nil
}

func (t *Terminal) blocked(op, why string) {
	if t.onBlock != nil {
		t.onBlock(op, why)
	}
}

// Name is the terminal's configured name.
func (t *Terminal) Name() string { return t.name }

// Driver is "sim".
func (t *Terminal) Driver() string { return "sim" }

// State is ready, or disconnected after a disconnect fault or Close.
func (t *Terminal) State() automation.State { return t.ctl.get() }

// Supports is true for every A-share operation.
func (t *Terminal) Supports(operation string) bool {
	return slices.Contains(automation.StockOperations, operation)
}

// Reconnect restores a disconnected sim after its latency.
func (t *Terminal) Reconnect(ctx context.Context) error {
	if err := t.ctl.reopen(); err != nil {
		return fmt.Errorf("sim terminal %s: %w", t.name, err)
	}
	prev := t.ctl.get()
	t.ctl.set(automation.StateReconnecting)
	if err := t.wait(ctx, "reconnect"); err != nil {
		t.ctl.set(prev)
		return err
	}
	t.ctl.set(automation.StateReady)
	return nil
}

// Close makes the terminal unusable. Every change is saved as it happens,
// so there is nothing to flush.
func (t *Terminal) Close() error {
	t.ctl.close()
	return nil
}

// orderOperation is the operation name an order request is, for faults.
func orderOperation(req automation.OrderRequest) string {
	switch {
	case req.Kind == automation.Market && req.Side == automation.Sell:
		return automation.OpMarketSell
	case req.Kind == automation.Market:
		return automation.OpMarketBuy
	case req.Side == automation.Sell:
		return automation.OpSell
	}
	return automation.OpBuy
}

// PlaceOrder places a limit or market order. A marketable order fills at
// once at the current price; a limit order that is not rests until the
// price reaches it, it is cancelled, or its day ends. A ClientOrderID seen
// before returns the order it placed instead of placing another.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.OrderRequest) (automation.Order, error) {
	return run(ctx, t, orderOperation(req), func(now time.Time) (automation.Order, error) {
		s, err := specOf(req)
		if err != nil {
			return automation.Order{}, err
		}
		o, err := t.placeOrder(now, s)
		if err != nil {
			return automation.Order{}, err
		}
		return o.view(), nil
	})
}

// CancelOrders cancels the open orders that match and returns them.
func (t *Terminal) CancelOrders(ctx context.Context, req automation.CancelRequest) ([]automation.Order, error) {
	return run(ctx, t, automation.OpOrderCancel, func(time.Time) ([]automation.Order, error) {
		return t.cancelOrders(req)
	})
}

// Orders lists today's orders (当日委托), of code when given.
func (t *Terminal) Orders(ctx context.Context, code string) ([]automation.Order, error) {
	return run(ctx, t, automation.OpOrderQuery, func(now time.Time) ([]automation.Order, error) {
		return t.ordersView(dayOf(now), code), nil
	})
}

// OrderHistory lists the orders placed since q.Since, across days, as
// far back as the sim keeps them (a year).
func (t *Terminal) OrderHistory(ctx context.Context, q automation.HistoryQuery) ([]automation.Order, error) {
	return run(ctx, t, automation.OpHistoricalCommissionQuery, func(time.Time) ([]automation.Order, error) {
		return t.historyView(q), nil
	})
}

// Trades lists the fills since q.Since, with their fees. It is not part of
// automation.StockBroker: it serves paper trading and tests.
func (t *Terminal) Trades(ctx context.Context, q automation.HistoryQuery) ([]Trade, error) {
	return run(ctx, t, "trade_query", func(time.Time) ([]Trade, error) {
		return t.tradesView(q.Since, q.Code), nil
	})
}

// Funds reports the cash account at the current prices.
func (t *Terminal) Funds(ctx context.Context) (automation.Funds, error) {
	return run(ctx, t, automation.OpFundsQuery, func(now time.Time) (automation.Funds, error) {
		return t.fundsView(pointOf(now)), nil
	})
}

// Positions lists the holdings at the current prices.
func (t *Terminal) Positions(ctx context.Context) ([]automation.Position, error) {
	return run(ctx, t, automation.OpHoldingQuery, func(now time.Time) ([]automation.Position, error) {
		return t.positionsView(pointOf(now), dayOf(now)), nil
	})
}

// RepoRates lists the reverse repo rate table.
func (t *Terminal) RepoRates(ctx context.Context) ([]automation.RepoRate, error) {
	return run(ctx, t, automation.OpReverseRepoQuery, func(time.Time) ([]automation.RepoRate, error) {
		return t.repoRates(), nil
	})
}

// LendRepo lends cash through a reverse repo; the cash is frozen until it
// comes back with the interest.
func (t *Terminal) LendRepo(ctx context.Context, req automation.RepoRequest) (automation.RepoLoan, error) {
	return run(ctx, t, automation.OpReverseRepoBuy, func(now time.Time) (automation.RepoLoan, error) {
		return t.lendRepo(now, req)
	})
}

// PlaceConditionOrder sets a condition buy or a stop-loss/stop-profit.
func (t *Terminal) PlaceConditionOrder(ctx context.Context, req automation.ConditionRequest) (automation.ConditionOrder, error) {
	op := automation.OpStopLossProfit
	if req.Kind == automation.ConditionBuy {
		op = automation.OpConditionBuy
	}
	return run(ctx, t, op, func(now time.Time) (automation.ConditionOrder, error) {
		return t.placeCondition(now, req)
	})
}

// ConditionOrders lists the condition orders being watched.
func (t *Terminal) ConditionOrders(ctx context.Context) ([]automation.ConditionOrder, error) {
	return run(ctx, t, automation.OpConditionOrderQuery, func(time.Time) ([]automation.ConditionOrder, error) {
		return t.conditionsView(), nil
	})
}

// CancelConditionOrders deletes the watched condition orders that match.
func (t *Terminal) CancelConditionOrders(ctx context.Context, req automation.ConditionCancel) ([]automation.ConditionOrder, error) {
	return run(ctx, t, automation.OpConditionOrderCancel, func(now time.Time) ([]automation.ConditionOrder, error) {
		return t.cancelConditions(now, req), nil
	})
}

// Quote is code's current price on the sim's market. It is not a terminal
// action: no latency, no faults, and it works while disconnected.
func (t *Terminal) Quote(code string) (float64, error) {
	in, err := classifyTradable(code)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	price, _ := t.priceAt(in, pointOf(t.now()))
	return milliFloat(price), nil
}

// SetQuote moves code's price to price now; the price process goes on
// from there, and resting orders and condition orders the move reaches
// act at once. A price outside today's limit band around the previous
// close also becomes the previous close, as if the stock had been re-based
// (the sim trusts the caller about the market). Quotes are saved in the
// ledger. Like Quote, it is not a terminal action.
func (t *Terminal) SetQuote(code string, price float64) error {
	in, err := classifyTradable(code)
	if err != nil {
		return err
	}
	m, err := in.parsePrice(price)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.advance(now)
	p := pointOf(now)
	_, prevClose := t.priceAt(in, p)
	if down, up := in.band(prevClose); m < down || m > up {
		prevClose = m
	}
	t.st.Quotes[code] = anchor{At: p, Price: m, PrevClose: prevClose}
	t.changed = true
	t.matchOpen(p, now, code)
	t.watchAt(p, now, code)
	return t.commit(context.Background())
}

// Quotes lists the codes whose price was set (by config or SetQuote) with
// their current prices.
func (t *Terminal) Quotes() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := pointOf(t.now())
	out := make(map[string]float64, len(t.st.Quotes))
	for code := range t.st.Quotes {
		in, _ := classify(code)
		price, _ := t.priceAt(in, p)
		out[code] = milliFloat(price)
	}
	return out
}

// Inject adds a fault; a disconnect takes effect at once.
func (t *Terminal) Inject(f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sim fault: %w", err)
	}
	t.ctl.inject(f)
	return nil
}

// ClearFaults drops every pending fault. A disconnected terminal stays
// disconnected until Reconnect.
func (t *Terminal) ClearFaults() { t.ctl.clear() }

// Faults lists the pending faults, with the counts they have left.
func (t *Terminal) Faults() []Fault { return t.ctl.pending() }
