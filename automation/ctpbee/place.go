package ctpbee

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// msgMissingParams is /order_solve's and /close_position's answer to a
// missing field: nothing was sent.
const msgMissingParams = "参数含空"

// orderParams is one order as /order_solve takes it, and as its lists
// show it once sent.
type orderParams struct {
	contract  contract
	direction string // long | short
	offset    automation.Offset
	kind      string // limit | market | fak | fok
	price     decimal.Decimal
	volume    decimal.Decimal
}

func (p orderParams) form() url.Values {
	return url.Values{
		"local_symbol": {p.contract.local()},
		"exchange":     {p.contract.exchange},
		"direction":    {p.direction},
		"offset":       {offsetParam[p.offset]},
		"type":         {p.kind},
		"price":        {p.price.String()},
		"volume":       {p.volume.String()},
	}
}

func (p orderParams) String() string {
	return fmt.Sprintf("%s %s %s %s %s@%s", p.contract.local(), p.direction, offsetParam[p.offset], p.kind, p.volume, p.price)
}

// newOrderParams checks a place_order against what CTP can take; a
// refusal here is rejected with nothing sent.
func newOrderParams(req automation.PlaceOrderRequest) (orderParams, error) {
	c, err := parseSymbol(req.Symbol)
	if err != nil {
		return orderParams{}, automation.Rejected("%v", err)
	}
	p := orderParams{contract: c, volume: req.Quantity}
	if !req.Quantity.IsPositive() || !req.Quantity.IsInteger() {
		return orderParams{}, automation.Rejected("quantity must be a whole number of lots, got %s", req.Quantity)
	}
	switch req.Side {
	case automation.SideBuy:
		p.direction = "long"
	case automation.SideSell:
		p.direction = "short"
	default:
		return orderParams{}, automation.Rejected("side must be BUY or SELL, got %q", req.Side)
	}
	// The side of the position the order acts on: a buy opens a long or
	// closes a short.
	closes := req.PositionSide == automation.PositionShort && req.Side == automation.SideBuy ||
		req.PositionSide == automation.PositionLong && req.Side == automation.SideSell
	p.offset = req.Offset
	if p.offset == "" {
		p.offset = automation.OffsetOpen
		if req.ReduceOnly || closes {
			p.offset = automation.OffsetClose
		}
	}
	if _, ok := offsetParam[p.offset]; !ok {
		return orderParams{}, automation.Rejected("offset must be OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY, got %q", req.Offset)
	}
	opening := p.offset == automation.OffsetOpen
	actsOn := automation.PositionLong // a buy opens a long, a sell closes it
	if (req.Side == automation.SideBuy) != opening {
		actsOn = automation.PositionShort
	}
	switch {
	case opening && req.ReduceOnly:
		return orderParams{}, automation.Rejected("reduce_only contradicts offset OPEN")
	case req.PositionSide != "" && req.PositionSide != automation.PositionBoth && req.PositionSide != actsOn:
		return orderParams{}, automation.Rejected("a %s with offset %s acts on the %s position, not %s", req.Side, p.offset, actsOn, req.PositionSide)
	case (p.offset == automation.OffsetCloseToday || p.offset == automation.OffsetCloseYesterday) && !closeTodayDistinct(c.exchange):
		return orderParams{}, automation.Rejected("offset %s is only for SHFE and INE, which tell today's position from yesterday's; use CLOSE on %s", p.offset, c.exchange)
	}
	switch req.Type {
	case automation.TypeMarket:
		if !req.Price.IsZero() {
			return orderParams{}, automation.Rejected("a MARKET order takes no price")
		}
		p.kind, p.price = "market", decimal.Zero
	case automation.TypeLimit, "":
		if !req.Price.IsPositive() {
			return orderParams{}, automation.Rejected("a LIMIT order needs a positive price")
		}
		p.price = req.Price
		switch req.TimeInForce {
		case automation.GTC, "":
			p.kind = "limit"
		case automation.IOC:
			p.kind = "fak"
		case automation.FOK:
			p.kind = "fok"
		default:
			return orderParams{}, automation.Rejected("time_in_force %s is not available on CTP (GTC, IOC, FOK)", req.TimeInForce)
		}
	default:
		return orderParams{}, automation.Rejected("type must be LIMIT or MARKET, got %q", req.Type)
	}
	return p, nil
}

// PlaceOrder sends one order to POST /order_solve and confirms it in the
// book: the backend answers without an order id, and a rejection later
// than 0.2 s still answers success. It is never sent twice.
func (t *terminal) PlaceOrder(ctx context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	p, err := newOrderParams(req)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	before, err := t.readBook(ctx)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	known := orderIDs(before)
	sent := p.sent()
	if err := t.remember(ctx, req.ClientOrderID, pending(p.contract.local(), sent, known, t.now())); err != nil {
		return automation.ExchangeOrder{}, err // nothing was sent
	}
	t.markSent(p.contract.local())
	sendCtx, cancel := leaveForSettling(ctx)
	a, err := t.call(sendCtx, http.MethodPost, "/order_solve", p.form())
	cancel()
	var lost *lostAnswer
	switch {
	case errors.As(err, &lost):
		t.log.Warn("the answer to an order was lost; settling it from the book", "order", p.String(), "error", lost.err.Error())
	case err != nil:
		t.settled(req.ClientOrderID, "", p.contract.local())
		return automation.ExchangeOrder{}, err // nothing was sent
	case !a.Success && a.Msg == msgMissingParams:
		t.settled(req.ClientOrderID, "", p.contract.local())
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	found, err := t.settle(ctx, known, sent.matches, a, lost)
	return t.outcome(found, err, req.ClientOrderID, p.contract.local(), a, known, sent.matches)
}
