package binancetest

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// The peer's matching engine: one account, orders filled against each
// symbol's price (no order book). A marketable LIMIT order and a MARKET
// order fill at once at the price; a resting LIMIT order fills at its limit
// when SetPrice crosses it. Positions are one-way (BOTH) or hedge
// (LONG/SHORT) as the order says, with entry price averaging and realized
// profit into the wallet.

// Order is an order as the peer keeps it.
type Order struct {
	ID            int64
	ClientOrderID string
	Symbol        string
	Side          string // BUY, SELL
	Type          string // LIMIT, MARKET
	TimeInForce   string
	PositionSide  string
	ReduceOnly    bool
	Price         decimal.Decimal
	Quantity      decimal.Decimal
	Executed      decimal.Decimal
	AvgPrice      decimal.Decimal
	Status        string // NEW, FILLED, CANCELED, EXPIRED
	Updated       time.Time
}

func (o *Order) open() bool { return o.Status == "NEW" || o.Status == "PARTIALLY_FILLED" }

// Position is one position of the account.
type Position struct {
	Symbol       string
	PositionSide string
	Amount       decimal.Decimal // signed
	EntryPrice   decimal.Decimal
}

type positionKey struct{ symbol, side string }

// engine is guarded by Server.mu.
type engine struct {
	symbols map[string]*Symbol
	orders  []*Order
	byID    map[int64]*Order
	byCID   map[string]*Order // the last order with the client order id
	resting map[int64]*Order  // the open orders
	// restingMargin is the initial margin the open orders hold, kept as
	// they come and go so that placing stays O(1).
	restingMargin decimal.Decimal
	nextID        int64
	wallet        decimal.Decimal
	leverage      int
	positions     map[positionKey]*Position
}

// apiError is a refusal with Binance's code and message.
type apiError struct {
	status int
	code   int
	msg    string
	data   map[string]int64 // serverTime, retryAfter of a 429 or 418
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func refuse(code int, format string, args ...any) *apiError {
	return &apiError{status: 400, code: code, msg: fmt.Sprintf(format, args...)}
}

func (e *engine) findOrder(symbol string, id int64, cid string) *Order {
	var o *Order
	if id != 0 {
		o = e.byID[id]
	} else if cid != "" {
		o = e.byCID[cid]
	}
	if o == nil || o.Symbol != symbol {
		return nil
	}
	return o
}

// place checks an order against the symbol's filters and the account,
// then matches it. changed lists the orders whose state changed (for the
// user data stream).
func (e *engine) place(o *Order, now time.Time) (*apiError, []*Order) {
	sym := e.symbols[o.Symbol]
	if sym == nil {
		return refuse(-1121, "Invalid symbol."), nil
	}
	if o.ClientOrderID != "" {
		// Client order ids are unique among open orders only.
		if x := e.byCID[o.ClientOrderID]; x != nil && x.open() {
			return refuse(-2010, "Duplicate order sent."), nil
		}
	} else {
		o.ClientOrderID = fmt.Sprintf("peer%016d", e.nextID+1)
	}
	if !o.Quantity.IsPositive() {
		return refuse(-4003, "Quantity less than or equal to zero."), nil
	}
	if !o.Quantity.Mod(sym.Step).IsZero() {
		return refuse(-1111, "Precision is over the maximum defined for this asset."), nil
	}
	if o.Quantity.LessThan(sym.MinQty) {
		return refuse(-4005, "Quantity less than min quantity."), nil
	}
	price := sym.Price
	if o.Type == "LIMIT" {
		if !o.Price.IsPositive() {
			return refuse(-4001, "Price less than 0."), nil
		}
		if !o.Price.Mod(sym.Tick).IsZero() {
			return refuse(-4014, "Price not increased by tick size."), nil
		}
		price = o.Price
	}
	if !o.ReduceOnly && price.Mul(o.Quantity).LessThan(sym.MinNotional) {
		return refuse(-4164, "Order's notional must be no smaller than %s (unless you choose reduce only).", sym.MinNotional), nil
	}
	if o.PositionSide == "" {
		o.PositionSide = "BOTH"
	}
	if o.ReduceOnly && !e.reduces(o) {
		return refuse(-2022, "ReduceOnly Order is rejected."), nil
	}
	if !o.ReduceOnly && e.marginNeeded().Add(price.Mul(o.Quantity).Div(decimal.NewFromInt(int64(e.leverage)))).GreaterThan(e.equity()) {
		return refuse(-2019, "Margin is insufficient."), nil
	}
	e.nextID++
	o.ID = 8389765000000000 + e.nextID
	o.Status, o.Updated = "NEW", now
	o.Executed, o.AvgPrice = decimal.Zero, decimal.Zero
	e.orders = append(e.orders, o)
	e.byID[o.ID], e.byCID[o.ClientOrderID] = o, o
	marketable := o.Type == "MARKET" ||
		(o.Side == "BUY" && o.Price.GreaterThanOrEqual(sym.Price)) ||
		(o.Side == "SELL" && o.Price.LessThanOrEqual(sym.Price))
	switch {
	case marketable && o.TimeInForce == "GTX":
		o.Status = "EXPIRED" // post-only would take
	case marketable:
		e.fill(o, sym.Price, now)
	case o.TimeInForce == "IOC" || o.TimeInForce == "FOK":
		o.Status = "EXPIRED"
	default:
		e.rest(o)
	}
	return nil, []*Order{o}
}

// reduces reports whether o only makes its position smaller.
func (e *engine) reduces(o *Order) bool {
	p := e.positions[positionKey{o.Symbol, o.PositionSide}]
	if p == nil || p.Amount.IsZero() {
		return false
	}
	if o.Side == "BUY" {
		return p.Amount.IsNegative() && o.Quantity.LessThanOrEqual(p.Amount.Neg())
	}
	return p.Amount.IsPositive() && o.Quantity.LessThanOrEqual(p.Amount)
}

func (e *engine) fill(o *Order, price decimal.Decimal, now time.Time) {
	e.unrest(o)
	q := o.Quantity.Sub(o.Executed)
	o.AvgPrice = price
	o.Executed = o.Quantity
	o.Status, o.Updated = "FILLED", now
	delta := q
	if o.Side == "SELL" {
		delta = q.Neg()
	}
	k := positionKey{o.Symbol, o.PositionSide}
	p := e.positions[k]
	if p == nil {
		p = &Position{Symbol: o.Symbol, PositionSide: o.PositionSide}
		e.positions[k] = p
	}
	switch {
	case p.Amount.IsZero() || p.Amount.Sign() == delta.Sign():
		total := p.Amount.Abs().Add(q)
		p.EntryPrice = p.EntryPrice.Mul(p.Amount.Abs()).Add(price.Mul(q)).Div(total)
		p.Amount = p.Amount.Add(delta)
	default:
		closed := decimal.Min(p.Amount.Abs(), q)
		pnl := price.Sub(p.EntryPrice).Mul(closed)
		if p.Amount.IsNegative() {
			pnl = pnl.Neg()
		}
		e.wallet = e.wallet.Add(pnl)
		p.Amount = p.Amount.Add(delta)
		switch {
		case p.Amount.IsZero():
			p.EntryPrice = decimal.Zero
		case p.Amount.Sign() == delta.Sign(): // flipped
			p.EntryPrice = price
		}
	}
}

// setPrice moves a symbol's price and fills the resting orders it crosses.
func (e *engine) setPrice(symbol string, price decimal.Decimal, now time.Time) []*Order {
	sym := e.symbols[symbol]
	if sym == nil {
		return nil
	}
	sym.Price = price
	var changed []*Order
	ids := slices.Sorted(maps.Keys(e.resting))
	for _, id := range ids {
		o := e.resting[id]
		if o.Symbol != symbol || o.Type != "LIMIT" {
			continue
		}
		if (o.Side == "BUY" && price.LessThanOrEqual(o.Price)) || (o.Side == "SELL" && price.GreaterThanOrEqual(o.Price)) {
			e.fill(o, o.Price, now)
			changed = append(changed, o)
		}
	}
	return changed
}

func (e *engine) cancel(symbol string, id int64, cid string, now time.Time) (*Order, *apiError) {
	o := e.findOrder(symbol, id, cid)
	if o == nil || !o.open() {
		return nil, refuse(-2011, "Unknown order sent.")
	}
	o.Status, o.Updated = "CANCELED", now
	e.unrest(o)
	return o, nil
}

func (e *engine) unrealized() decimal.Decimal {
	sum := decimal.Zero
	for _, p := range e.positions {
		sum = sum.Add(e.symbols[p.Symbol].Price.Sub(p.EntryPrice).Mul(p.Amount))
	}
	return sum
}

func (e *engine) equity() decimal.Decimal { return e.wallet.Add(e.unrealized()) }

// marginNeeded is the initial margin of the positions and open orders.
func (e *engine) marginNeeded() decimal.Decimal {
	lev := decimal.NewFromInt(int64(e.leverage))
	sum := decimal.Zero
	for _, p := range e.positions {
		sum = sum.Add(e.symbols[p.Symbol].Price.Mul(p.Amount.Abs()).Div(lev))
	}
	return sum.Add(e.restingMargin)
}

func (e *engine) orderMargin(o *Order) decimal.Decimal {
	return o.Price.Mul(o.Quantity.Sub(o.Executed)).Div(decimal.NewFromInt(int64(e.leverage)))
}

// rest keeps an open order on the book.
func (e *engine) rest(o *Order) {
	e.resting[o.ID] = o
	e.restingMargin = e.restingMargin.Add(e.orderMargin(o))
}

// unrest takes an order off the book (before its executed quantity
// changes).
func (e *engine) unrest(o *Order) {
	if _, ok := e.resting[o.ID]; ok {
		delete(e.resting, o.ID)
		e.restingMargin = e.restingMargin.Sub(e.orderMargin(o))
	}
}
