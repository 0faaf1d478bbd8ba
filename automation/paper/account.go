package paper

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// state is the paper account: everything that can still change, saved
// whole after every change (see ledger.go). Orders that finish leave it
// for the archive.
type state struct {
	// Balances are the wallet balances by asset: deposits, realised PnL
	// and fees. Unrealised PnL and margin are derived (available).
	Balances map[string]decimal.Decimal `json:"balances"`
	// Positions are the non-zero positions by symbol (one-way mode).
	Positions map[string]*position `json:"positions"`
	// Orders are the open orders, in time priority.
	Orders []*order `json:"orders"`
	// Quotes are the current prices by symbol: from the options at
	// first, then from SetQuote.
	Quotes map[string]decimal.Decimal `json:"quotes"`
	// LastOrderID is the last order id given; ids increase from 1.
	LastOrderID int64 `json:"last_order_id"`
	// LastArchiveSeq is the Seq of the last order archived.
	LastArchiveSeq int64 `json:"last_archive_seq"`
}

// position is a signed position with its cost: the entry notional of the
// quantity held, kept exact, so that unrealised PnL needs no division and
// a position closed in full realises exactly what its fills made.
type position struct {
	Quantity decimal.Decimal `json:"quantity"` // negative: short
	Cost     decimal.Decimal `json:"cost"`     // > 0, in the quote asset
}

// order is an order as the paper exchange keeps it.
type order struct {
	automation.ExchangeOrder
	PlacedAt time.Time `json:"placed_at"`
}

// remaining is what is left to fill.
func (o *order) remaining() decimal.Decimal { return o.Quantity.Sub(o.ExecutedQuantity) }

// view is the order as the Exchange interface answers it.
func (o *order) view() automation.ExchangeOrder { return o.ExchangeOrder }

// signedQuantity is q as a change of position: negative for a sell.
func signedQuantity(side automation.OrderSide, q decimal.Decimal) decimal.Decimal {
	if side == automation.SideSell {
		return q.Neg()
	}
	return q
}

// divPlaces is the precision of amounts that need a division: an entry
// price, the cost share of a partial close, margin at a leverage above 1.
const divPlaces = 8

// trade applies a fill of delta (signed) at price to the symbol's
// position and returns the PnL it realises. A fill that reduces the
// position releases the cost of what it closes (all of it when it closes
// the whole position, else its share rounded to divPlaces); one that goes
// through zero opens the rest at price.
func (st *state) trade(symbol string, delta, price decimal.Decimal) (realised decimal.Decimal) {
	p := st.Positions[symbol]
	if p == nil {
		p = &position{}
	}
	if p.Quantity.IsZero() || p.Quantity.Sign() == delta.Sign() {
		p.Quantity = p.Quantity.Add(delta)
		p.Cost = p.Cost.Add(delta.Abs().Mul(price))
		st.Positions[symbol] = p
		return decimal.Zero
	}
	held := p.Quantity.Abs()
	closing := decimal.Min(delta.Abs(), held)
	released := p.Cost
	if closing.LessThan(held) {
		released = p.Cost.Mul(closing).DivRound(held, divPlaces)
	}
	proceeds := closing.Mul(price)
	if p.Quantity.IsPositive() {
		realised = proceeds.Sub(released)
	} else {
		realised = released.Sub(proceeds)
	}
	p.Cost = p.Cost.Sub(released)
	p.Quantity = p.Quantity.Add(closing.Mul(decimal.NewFromInt(int64(delta.Sign()))))
	if rest := delta.Abs().Sub(closing); rest.IsPositive() {
		p.Quantity = signedQuantity(sideOf(delta), rest)
		p.Cost = rest.Mul(price)
	}
	if p.Quantity.IsZero() {
		delete(st.Positions, symbol)
		return realised
	}
	st.Positions[symbol] = p
	return realised
}

func sideOf(delta decimal.Decimal) automation.OrderSide {
	if delta.IsNegative() {
		return automation.SideSell
	}
	return automation.SideBuy
}

// unrealised is a position's PnL at mark.
func (p *position) unrealised(mark decimal.Decimal) decimal.Decimal {
	value := p.Quantity.Abs().Mul(mark)
	if p.Quantity.IsPositive() {
		return value.Sub(p.Cost)
	}
	return p.Cost.Sub(value)
}

// entryPrice is the average entry price, rounded to divPlaces.
func (p *position) entryPrice() decimal.Decimal {
	return p.Cost.DivRound(p.Quantity.Abs(), divPlaces)
}

// mark is the symbol's price for PnL and margin: its quote, or the entry
// price of a position that has none (which cannot happen: a fill needs a
// quote, and quotes are never removed).
func (st *state) mark(symbol string, p *position) decimal.Decimal {
	if q, ok := st.Quotes[symbol]; ok {
		return q
	}
	return p.entryPrice()
}

// margin is what the account's symbols quoted in asset hold: their
// unrealised PnL, the initial margin of their positions (notional at the
// mark over the leverage) and of their open orders.
//
// An open order's margin is that of the part of it that would open a
// position: a buy first closes a short (in time priority among the open
// buys), a sell a long. The buys and the sells cannot both open, so a
// symbol holds the larger of the two sides, as Binance does. Reduce-only
// orders never open and hold none.
func (st *state) margin(asset string, rules map[string]automation.SymbolInfo, leverage decimal.Decimal) (unrealised, initial decimal.Decimal) {
	opening := make(map[string]*[2]decimal.Decimal) // by symbol: buys, sells
	capacity := make(map[string]*[2]decimal.Decimal)
	for _, o := range st.Orders {
		if o.ReduceOnly || rules[o.Symbol].QuoteAsset != asset {
			continue
		}
		if opening[o.Symbol] == nil {
			held := decimal.Zero
			if p := st.Positions[o.Symbol]; p != nil {
				held = p.Quantity
			}
			// Buys can close a short, sells a long.
			capacity[o.Symbol] = &[2]decimal.Decimal{decimal.Max(held.Neg(), decimal.Zero), decimal.Max(held, decimal.Zero)}
			opening[o.Symbol] = &[2]decimal.Decimal{}
		}
		i := 0
		if o.Side == automation.SideSell {
			i = 1
		}
		rem := o.remaining()
		closes := decimal.Min(rem, capacity[o.Symbol][i])
		capacity[o.Symbol][i] = capacity[o.Symbol][i].Sub(closes)
		opening[o.Symbol][i] = opening[o.Symbol][i].Add(rem.Sub(closes).Mul(o.Price))
	}
	notional := decimal.Zero
	for _, sides := range opening {
		notional = notional.Add(decimal.Max(sides[0], sides[1]))
	}
	for symbol, p := range st.Positions {
		if rules[symbol].QuoteAsset != asset {
			continue
		}
		mark := st.mark(symbol, p)
		unrealised = unrealised.Add(p.unrealised(mark))
		notional = notional.Add(p.Quantity.Abs().Mul(mark))
	}
	return unrealised, notional.DivRound(leverage, divPlaces)
}

// available is what the account can still put up as margin in asset: the
// wallet balance with the unrealised PnL, less the initial margin held.
func (st *state) available(asset string, rules map[string]automation.SymbolInfo, leverage decimal.Decimal) decimal.Decimal {
	unrealised, initial := st.margin(asset, rules, leverage)
	return st.Balances[asset].Add(unrealised).Sub(initial)
}

// liquidationPrice is the mark of the symbol at which the margin balance
// of its quote asset (wallet and every unrealised PnL, the other symbols'
// at their quotes) would reach zero; zero when no price would do it. The
// paper exchange models no maintenance margin and liquidates nothing: it
// is shown to tell how far a position can go.
func (st *state) liquidationPrice(symbol string, rules map[string]automation.SymbolInfo, leverage decimal.Decimal) decimal.Decimal {
	p := st.Positions[symbol]
	asset := rules[symbol].QuoteAsset
	unrealised, _ := st.margin(asset, rules, leverage)
	// Margin balance without this position's part: wallet + others.
	rest := st.Balances[asset].Add(unrealised).Sub(p.unrealised(st.mark(symbol, p)))
	q := p.Quantity.Abs()
	var price decimal.Decimal
	if p.Quantity.IsPositive() {
		// rest + q·L − cost = 0
		price = p.Cost.Sub(rest).DivRound(q, divPlaces)
	} else {
		// rest + cost − q·L = 0
		price = rest.Add(p.Cost).DivRound(q, divPlaces)
	}
	return decimal.Max(price, decimal.Zero)
}

// removeOrder takes o out of the open orders.
func (st *state) removeOrder(o *order) {
	if i := slices.Index(st.Orders, o); i >= 0 {
		st.Orders = slices.Delete(st.Orders, i, i+1)
	}
}

func newState(cfg Config) *state {
	st := &state{
		Balances:  make(map[string]decimal.Decimal),
		Positions: make(map[string]*position),
		Quotes:    make(map[string]decimal.Decimal),
	}
	for a, b := range cfg.Balances {
		st.Balances[a] = b
	}
	for s, q := range cfg.Quotes {
		st.Quotes[s] = q
	}
	return st
}
