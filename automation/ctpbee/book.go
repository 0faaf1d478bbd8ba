package ctpbee

// The book (GET /order_solve) as last read: the caches the submit-time
// rules read, and the venue events of what changed.

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

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
