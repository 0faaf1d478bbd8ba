package paper

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// clientOrderIDRule is Binance's rule for a client order id.
var clientOrderIDRule = regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)

// PlaceOrder places an order against the symbol's quote, with infinite
// liquidity at it: a MARKET order, and a LIMIT order priced through the
// quote (a BUY at or above it, a SELL at or below), fill in full at the
// quote, as a taker; any other LIMIT order rests (GTC, GTX) until a quote
// reaches its price, where it fills at its price as a maker, or expires
// (IOC, FOK). A GTX order that would fill at once is rejected.
//
// A client order id is unique among the open orders (a reuse is rejected,
// as Binance's -2010); it may be reused once its order has finished, and
// looking it up finds the newest order with it.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	return run(ctx, t, automation.OpPlaceOrder, func(now time.Time) (automation.ExchangeOrder, error) {
		return t.place(now, req)
	})
}

func (t *Terminal) place(now time.Time, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	info, err := t.symbol(req.Symbol)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	if req.Type == "" {
		req.Type = automation.TypeLimit
	}
	if req.PositionSide == "" {
		req.PositionSide = automation.PositionBoth
	}
	switch {
	case req.Side != automation.SideBuy && req.Side != automation.SideSell:
		return automation.ExchangeOrder{}, reject("-1117", "side %q: use BUY or SELL", req.Side)
	case req.Type != automation.TypeLimit && req.Type != automation.TypeMarket:
		return automation.ExchangeOrder{}, reject("-1116", "type %q: the paper exchange takes LIMIT and MARKET", req.Type)
	case req.PositionSide != automation.PositionBoth:
		return automation.ExchangeOrder{}, reject("-4061", "position_side %s: the paper account is in one-way mode; use BOTH", req.PositionSide)
	case req.Offset != "":
		return automation.ExchangeOrder{}, reject("", "offset %s: the paper exchange is not a CTP futures terminal", req.Offset)
	case req.ClientOrderID != "" && !clientOrderIDRule.MatchString(req.ClientOrderID):
		return automation.ExchangeOrder{}, reject("-1100", "client order id %q: use 1 to 36 of A-Z a-z 0-9 . : / _ -", req.ClientOrderID)
	}
	quote, quoted := t.st.Quotes[req.Symbol]
	price := req.Price // what the notional is counted at
	if req.Type == automation.TypeMarket {
		switch {
		case !req.Price.IsZero():
			return automation.ExchangeOrder{}, reject("-1106", "a MARKET order takes no price (got %s)", req.Price)
		case !quoted:
			return automation.ExchangeOrder{}, reject("", "%s has no quote yet, so a MARKET order cannot fill; set one (POST /api/v1/sim/quote) or place a LIMIT order", req.Symbol)
		}
		req.TimeInForce, price = "", quote
	} else {
		switch req.TimeInForce {
		case "":
			req.TimeInForce = automation.GTC
		case automation.GTC, automation.IOC, automation.FOK, automation.GTX:
		default:
			return automation.ExchangeOrder{}, reject("-1115", "time_in_force %q: use GTC, IOC, FOK or GTX", req.TimeInForce)
		}
	}
	if err := checkOrder(info, req, price); err != nil {
		return automation.ExchangeOrder{}, err
	}
	if prev := t.byClient[req.ClientOrderID]; req.ClientOrderID != "" && prev != nil && prev.Status.Open() {
		return automation.ExchangeOrder{}, reject("-2010", "duplicate order: client order id %s names open order %s", req.ClientOrderID, prev.OrderID)
	}
	delta := signedQuantity(req.Side, req.Quantity)
	if req.ReduceOnly {
		if err := t.checkReduce(req.Symbol, delta); err != nil {
			return automation.ExchangeOrder{}, err
		}
	}

	availableBefore := t.available(info.QuoteAsset)
	t.st.LastOrderID++
	t.changed = true
	id := strconv.FormatInt(t.st.LastOrderID, 10)
	if req.ClientOrderID == "" {
		req.ClientOrderID = "paper-" + id
	}
	o := &order{
		ExchangeOrder: automation.ExchangeOrder{
			OrderID:          id,
			ClientOrderID:    req.ClientOrderID,
			Symbol:           req.Symbol,
			Side:             req.Side,
			Type:             req.Type,
			Status:           automation.StatusNew,
			Price:            req.Price,
			AvgPrice:         decimal.Zero,
			Quantity:         req.Quantity,
			ExecutedQuantity: decimal.Zero,
			TimeInForce:      req.TimeInForce,
			ReduceOnly:       req.ReduceOnly,
			PositionSide:     req.PositionSide,
			UpdatedAt:        now,
		},
		PlacedAt: now,
	}
	marketable := req.Type == automation.TypeMarket ||
		quoted && (req.Side == automation.SideBuy && req.Price.GreaterThanOrEqual(quote) ||
			req.Side == automation.SideSell && req.Price.LessThanOrEqual(quote))
	switch {
	case marketable && req.TimeInForce == automation.GTX:
		return automation.ExchangeOrder{}, reject("-5022", "post-only (GTX) order %s %s %s at %s would fill at once against the quote %s, so it is rejected",
			req.Side, req.Quantity, req.Symbol, req.Price, quote)
	case marketable:
		t.fill(now, o, req.Quantity, quote, false)
	case req.TimeInForce == automation.IOC || req.TimeInForce == automation.FOK:
		o.Status = automation.StatusExpired
	default:
		t.st.Orders = append(t.st.Orders, o)
	}
	if after := t.available(info.QuoteAsset); after.IsNegative() && after.LessThan(availableBefore) {
		return automation.ExchangeOrder{}, reject("-2019", "margin is insufficient: the order needs %s %s at leverage %s and %s %s is available",
			availableBefore.Sub(after), info.QuoteAsset, t.cfg.Leverage, decimal.Max(availableBefore, decimal.Zero), info.QuoteAsset)
	}
	t.index(o)
	if !o.Status.Open() {
		t.retiring = append(t.retiring, o)
	}
	return o.view(), nil
}

// checkReduce refuses a reduce-only change of position that would not
// only reduce it.
func (t *Terminal) checkReduce(symbol string, delta decimal.Decimal) error {
	held := decimal.Zero
	if p := t.st.Positions[symbol]; p != nil {
		held = p.Quantity
	}
	switch {
	case held.IsZero():
		return reject("-2022", "reduce_only order rejected: there is no %s position to reduce", symbol)
	case held.Sign() == delta.Sign():
		return reject("-2022", "reduce_only order rejected: a %s of %s would increase the position of %s", sideOf(delta), delta.Abs(), held)
	case delta.Abs().GreaterThan(held.Abs()):
		return reject("-2022", "reduce_only order rejected: %s %s is more than the position of %s", sideOf(delta), delta.Abs(), held)
	}
	return nil
}

// fill executes qty of o at price: the position moves, the realised PnL
// and the fee go to the quote asset's wallet balance.
func (t *Terminal) fill(now time.Time, o *order, qty, price decimal.Decimal, maker bool) {
	asset := t.rules[o.Symbol].QuoteAsset
	notional := qty.Mul(price)
	rate := t.cfg.TakerFee
	if maker {
		rate = t.cfg.MakerFee
	}
	realised := t.st.trade(o.Symbol, signedQuantity(o.Side, qty), price)
	t.st.Balances[asset] = t.st.Balances[asset].Add(realised).Sub(notional.Mul(rate))
	executed := o.ExecutedQuantity.Add(qty)
	if o.ExecutedQuantity.IsZero() {
		o.AvgPrice = price
	} else {
		o.AvgPrice = o.AvgPrice.Mul(o.ExecutedQuantity).Add(notional).DivRound(executed, divPlaces)
	}
	o.ExecutedQuantity = executed
	o.Status = automation.StatusPartiallyFilled
	if executed.Equal(o.Quantity) {
		o.Status = automation.StatusFilled
	}
	o.UpdatedAt = now
	t.changed = true
}

func (t *Terminal) available(asset string) decimal.Decimal {
	return t.st.available(asset, t.rules, t.cfg.Leverage)
}

// symbol is the rules of a listed symbol.
func (t *Terminal) symbol(symbol string) (automation.SymbolInfo, error) {
	info, ok := t.rules[symbol]
	if !ok {
		return automation.SymbolInfo{}, reject("-1121", "invalid symbol %q: the paper exchange lists %s", symbol, strings.Join(slices.Sorted(maps.Keys(t.rules)), ", "))
	}
	return info, nil
}

// CancelOrder cancels an open order.
func (t *Terminal) CancelOrder(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	return run(ctx, t, automation.OpCancelOrder, func(now time.Time) (automation.ExchangeOrder, error) {
		o, err := t.find(ref, "-2011")
		if err != nil {
			return automation.ExchangeOrder{}, err
		}
		if !o.Status.Open() {
			return automation.ExchangeOrder{}, reject("-2011", "order %s (client order id %s) is already %s: nothing to cancel", o.OrderID, o.ClientOrderID, o.Status)
		}
		o.Status, o.UpdatedAt = automation.StatusCanceled, now
		t.retire(o)
		return o.view(), nil
	})
}

// OrderStatus looks an order up: an open one, or one that finished in
// the last 24 hours.
func (t *Terminal) OrderStatus(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	return run(ctx, t, automation.OpOrderStatus, func(time.Time) (automation.ExchangeOrder, error) {
		o, err := t.find(ref, "-2013")
		if err != nil {
			return automation.ExchangeOrder{}, err
		}
		return o.view(), nil
	})
}

// find is the order ref names; by client order id, the newest with it.
func (t *Terminal) find(ref automation.OrderRef, venueCode string) (*order, error) {
	if (ref.OrderID == "") == (ref.ClientOrderID == "") {
		return nil, reject("-1102", "give exactly one of order_id and client_order_id")
	}
	if ref.Symbol != "" {
		if _, err := t.symbol(ref.Symbol); err != nil {
			return nil, err
		}
	}
	o, what := t.byID[ref.OrderID], "order_id "+ref.OrderID
	if ref.ClientOrderID != "" {
		o, what = t.byClient[ref.ClientOrderID], "client_order_id "+ref.ClientOrderID
	}
	if o == nil || (ref.Symbol != "" && o.Symbol != ref.Symbol) {
		return nil, &automation.Error{
			Code:      automation.CodeRejected,
			Message:   "the paper exchange has no order with " + what + " on " + ref.Symbol + " (open, or finished in the last 24 hours)",
			Err:       automation.ErrNoSuchOrder,
			VenueCode: venueCode,
		}
	}
	return o, nil
}

// OpenOrders lists the open orders in time priority, of symbol when given.
func (t *Terminal) OpenOrders(ctx context.Context, symbol string) ([]automation.ExchangeOrder, error) {
	return run(ctx, t, automation.OpOpenOrders, func(time.Time) ([]automation.ExchangeOrder, error) {
		if symbol != "" {
			if _, err := t.symbol(symbol); err != nil {
				return nil, err
			}
		}
		out := []automation.ExchangeOrder{}
		for _, o := range t.st.Orders {
			if symbol == "" || o.Symbol == symbol {
				out = append(out, o.view())
			}
		}
		return out, nil
	})
}

// SetQuote moves a symbol's price. The open orders it reaches fill at
// their price, as makers, in time priority (a reduce-only one only as far
// as it reduces the position, the rest expiring), and are reported as
// venue events ("fill", or "order" for one that expired unfilled). A
// symbol not yet listed is listed with its default rules. The change is
// saved like any other: when the save fails, nothing moved.
func (t *Terminal) SetQuote(ctx context.Context, symbol string, price decimal.Decimal) error {
	if t.closed.Load() {
		return automation.NotConnected("paper terminal %s is closed", t.name)
	}
	if ctx.Err() != nil {
		return notCarriedOut(ctx, "paper terminal %s: set quote", t.name)
	}
	t.mu.Lock()
	info, listed := t.rules[symbol]
	if !listed {
		var err error
		if info, err = defaultRules(symbol); err != nil {
			t.mu.Unlock()
			return reject("-1121", "cannot list %s: %v; configure it in the symbols option", symbol, err)
		}
	}
	if err := checkQuote(info, price); err != nil {
		t.mu.Unlock()
		return reject("", "%v", err)
	}
	now := t.now()
	t.pruneRecent(now)
	t.rules[symbol] = info
	t.st.Quotes[symbol] = price
	t.changed = true
	events := t.cross(now, symbol, price)
	if err := t.commit(ctx); err != nil {
		if !listed {
			delete(t.rules, symbol)
		}
		t.mu.Unlock()
		return t.cutShort(ctx, "set quote", err)
	}
	t.mu.Unlock()
	for _, ev := range events {
		t.emit(ev)
	}
	return nil
}

// cross fills the open orders of symbol that the quote has reached and
// returns the events to report once saved.
func (t *Terminal) cross(now time.Time, symbol string, quote decimal.Decimal) []automation.VenueEvent {
	var events []automation.VenueEvent
	for _, o := range slices.Clone(t.st.Orders) {
		reached := o.Side == automation.SideBuy && o.Price.GreaterThanOrEqual(quote) ||
			o.Side == automation.SideSell && o.Price.LessThanOrEqual(quote)
		if o.Symbol != symbol || !reached {
			continue
		}
		qty := o.remaining()
		if o.ReduceOnly {
			held := decimal.Zero
			if p := t.st.Positions[symbol]; p != nil {
				held = p.Quantity
			}
			if held.IsZero() || held.Sign() == signedQuantity(o.Side, qty).Sign() {
				qty = decimal.Zero
			}
			qty = decimal.Min(qty, held.Abs())
		}
		kind := "order"
		if qty.IsPositive() {
			t.fill(now, o, qty, o.Price, true)
			kind = "fill"
		}
		if o.remaining().IsPositive() {
			o.Status, o.UpdatedAt = automation.StatusExpired, now
		}
		t.retire(o)
		events = append(events, automation.VenueEvent{Terminal: t.name, Kind: kind, Data: o.view(), At: now})
	}
	return events
}
