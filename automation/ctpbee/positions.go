package ctpbee

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// Positions lists the long and short holdings, with today's and
// yesterday's volumes.
func (t *terminal) Positions(ctx context.Context, symbol string) ([]automation.ExchangePosition, error) {
	b, err := t.readBook(ctx)
	if err != nil {
		return nil, err
	}
	out := []automation.ExchangePosition{}
	for _, p := range b.positions() {
		if p.volume.IsZero() || (symbol != "" && p.symbol != symbol) {
			continue
		}
		out = append(out, p.toPosition())
	}
	return out, nil
}

// Assets: the balance is not available over ctpbee_backend's HTTP API
// (it pushes the account on its socket only).
func (t *terminal) Assets(context.Context) ([]automation.Asset, error) {
	return nil, automation.ErrUnsupported
}

// SymbolInfo: contracts are not available over ctpbee_backend's HTTP API
// either; CachedSymbol gives what the symbol itself tells.
func (t *terminal) SymbolInfo(context.Context, string) (automation.SymbolInfo, error) {
	return automation.SymbolInfo{}, automation.ErrUnsupported
}

// ClosePosition closes (part of) one side of a holding through POST
// /close_position, which closes at the last price (today's first on SHFE
// and INE, as the backend is configured) and answers 平仓请求发送成功 even
// when it sent nothing: the closing order is found in the book.
func (t *terminal) ClosePosition(ctx context.Context, req automation.ClosePositionRequest) (automation.ExchangeOrder, error) {
	c, err := parseSymbol(req.Symbol)
	if err != nil {
		return automation.ExchangeOrder{}, automation.Rejected("%v", err)
	}
	// direction=long buys back the short holding, short sells the long.
	var direction string
	switch req.PositionSide {
	case automation.PositionLong:
		direction = "short"
	case automation.PositionShort:
		direction = "long"
	default:
		return automation.ExchangeOrder{}, automation.Rejected("position_side must be LONG or SHORT, got %q", req.PositionSide)
	}
	if req.Quantity.IsNegative() || !req.Quantity.IsInteger() {
		return automation.ExchangeOrder{}, automation.Rejected("quantity must be a whole number of lots, got %s", req.Quantity)
	}
	before, err := t.readBook(ctx)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	held := decimal.Zero
	for _, p := range before.positions() {
		if p.symbol == c.local() && p.side == req.PositionSide {
			held = held.Add(p.volume)
		}
	}
	volume := req.Quantity
	switch {
	case !held.IsPositive():
		return automation.ExchangeOrder{}, automation.Rejected("no %s position in %s to close", req.PositionSide, c.local())
	case volume.IsZero():
		volume = held
	case volume.GreaterThan(held):
		return automation.ExchangeOrder{}, automation.Rejected("quantity %s is more than the %s position in %s (%s)", volume, req.PositionSide, c.local(), held)
	}
	known := orderIDs(before)
	sent := sentOrder{Close: true, Symbol: c.local(), Direction: direction, Volume: volume}
	if err := t.remember(ctx, req.ClientOrderID, pending(c.local(), sent, known, t.now())); err != nil {
		return automation.ExchangeOrder{}, err // nothing was sent
	}
	t.markSent(c.local())
	sendCtx, cancel := leaveForSettling(ctx)
	a, err := t.call(sendCtx, http.MethodPost, "/close_position", url.Values{
		"local_symbol": {c.local()}, "symbol": {c.code}, "exchange": {c.exchange},
		"direction": {direction}, "volume": {volume.String()},
	})
	cancel()
	var lost *lostAnswer
	switch {
	case errors.As(err, &lost):
		t.log.Warn("the answer to a close was lost; settling it from the book", "symbol", c.local(), "error", lost.err.Error())
	case err != nil:
		t.settled(req.ClientOrderID, "", c.local())
		return automation.ExchangeOrder{}, err
	case !a.Success && a.Msg == msgMissingParams:
		t.settled(req.ClientOrderID, "", c.local())
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	found, err := t.settleClose(ctx, known, sent.matches, volume, a, lost)
	return t.outcome(found, err, req.ClientOrderID, c.local(), a, known, sent.matches)
}

// settleClose finds the closing orders /close_position sent. On SHFE and
// INE a close of today's and yesterday's lots is two orders (平今 and
// 平昨): the first is the answer, the others are reported as venue
// events. An answer of success with no order is rejected: the backend
// answers so when it sent nothing (no holding it knows, no last price).
func (t *terminal) settleClose(ctx context.Context, known map[string]bool, closing func(wireOrder) bool, volume decimal.Decimal, a answer, lost *lostAnswer) (automation.ExchangeOrder, error) {
	s := t.lookFor(ctx, known, closing)
	total := decimal.Zero
	for _, o := range s.candidates {
		total = total.Add(o.Volume.Decimal)
	}
	switch {
	case len(s.candidates) == 1:
		return t.mapped(s.book, s.candidates[0]), nil
	case len(s.candidates) > 1 && total.Equal(volume):
		for _, o := range s.candidates[1:] {
			t.env.Emit(automation.VenueEvent{Terminal: t.name, Kind: "order", Data: t.mapped(s.book, o), At: t.now()})
		}
		t.log.Info("the backend sent the close as several orders", "orders", ids(s.candidates))
		return t.mapped(s.book, s.candidates[0]), nil
	case len(s.candidates) > 1:
		return automation.ExchangeOrder{}, ambiguous(s.candidates)
	case !s.read:
		return automation.ExchangeOrder{}, unreadable(lost, s.readErr)
	case lost != nil:
		return automation.ExchangeOrder{}, automation.NoSuchOrder(fmt.Sprintf("%v, and the backend's book shows no closing order after %s", lost, settleWindow))
	case !a.Success:
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	return automation.ExchangeOrder{}, automation.Rejected(
		"ctpbee_backend answered %q but sent no closing order (it does so without a last price for the contract: subscribe it in the backend)", a.Msg)
}

func ids(orders []wireOrder) string {
	var s []string
	for _, o := range orders {
		s = append(s, fmt.Sprintf("%s %s %s", o.OrderID, o.Offset, o.Volume))
	}
	return strings.Join(s, ", ")
}
