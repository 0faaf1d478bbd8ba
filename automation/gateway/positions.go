package gateway

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// Futures platforms: close_position, and the positions the notices tell
// (automation.PositionRules), so that a close beyond the position is a 422
// at submit.

var (
	_ automation.PositionCloser = (*Terminal)(nil)
	_ automation.PositionRules  = (*Terminal)(nil)
)

// heldPosition is one symbol's two sides as last told, and the gateway's
// utime of it (zero when it gave none).
type heldPosition struct {
	long, short decimal.Decimal
	utime       time.Time
}

// notePositionsLocked records a symbol's sides from a position answer or
// notice; one older (utime) than what is held is not taken (a previous
// session's notice delivered late: stale.go), and applied says so.
func (t *Terminal) notePositionsLocked(symbol string, ps []automation.ExchangePosition, utime time.Time) (applied bool) {
	if old, ok := t.held[symbol]; ok && !utime.IsZero() && !old.utime.IsZero() && utime.Before(old.utime) {
		return false
	}
	h := heldPosition{utime: utime}
	for _, p := range ps {
		switch p.PositionSide {
		case automation.PositionLong:
			h.long = p.Quantity.Abs()
		case automation.PositionShort:
			h.short = p.Quantity.Abs()
		}
	}
	t.held[symbol] = h
	return true
}

// CachedPosition is the size of one side of a symbol's position from the
// last position answer or notice (read at every READY).
func (t *Terminal) CachedPosition(symbol string, side automation.PositionSide) (decimal.Decimal, bool) {
	if !t.opts.Futures {
		return decimal.Zero, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.held[symbol]
	switch {
	case !ok:
		return decimal.Zero, false
	case side == automation.PositionLong:
		return h.long, true
	case side == automation.PositionShort:
		return h.short, true
	}
	return decimal.Zero, false
}

// ClosePosition closes (part of) one side with a MARKET order: SELL of
// the long side, BUY of the short side (a negative quantity at the
// gateway). Quantity zero closes the whole side, as the gateway reports
// it now. The order goes through PlaceOrder: sent once, a lost answer
// settled.
func (t *Terminal) ClosePosition(ctx context.Context, req automation.ClosePositionRequest) (automation.ExchangeOrder, error) {
	if !t.opts.Futures {
		return automation.ExchangeOrder{}, automation.ErrUnsupported
	}
	side := automation.SideSell
	switch req.PositionSide {
	case automation.PositionLong:
	case automation.PositionShort:
		side = automation.SideBuy
	default:
		return automation.ExchangeOrder{}, automation.Rejected("position_side must be LONG or SHORT, got %q", req.PositionSide)
	}
	qty := req.Quantity
	if qty.IsZero() {
		ps, err := t.Positions(ctx, req.Symbol)
		if err != nil {
			return automation.ExchangeOrder{}, err
		}
		for _, p := range ps {
			if p.PositionSide == req.PositionSide {
				qty = p.Quantity.Abs()
			}
		}
		if qty.IsZero() {
			return automation.ExchangeOrder{}, automation.Rejected("there is no %s position in %s to close", req.PositionSide, req.Symbol)
		}
	}
	return t.PlaceOrder(ctx, automation.PlaceOrderRequest{
		Symbol: req.Symbol, Side: side, Type: automation.TypeMarket, Quantity: qty,
		PositionSide: req.PositionSide, ClientOrderID: req.ClientOrderID,
	})
}
