package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// close_position closes (part of) a futures position: the terminal must be
// a PositionCloser.
func closePositionPlugin() *Plugin {
	p := onExchange(Plugin{
		Name:          automation.OpClosePosition,
		Title:         "ClosePositionOperation",
		Description:   "平仓(期货终端)",
		DescriptionEn: "close a futures position, all of it or quantity; futures terminals only",
		SideEffect:    true,
		Params: []Param{
			symbolParam(true, "the contract, such as rb2501.SHFE"),
			positionSideParam(true, []any{"LONG", "SHORT"}, nil),
			decimalParam("quantity", false, "平仓数量(手),默认全部", "lots to close; the whole position when absent", "1"),
		},
		Fits: func(p Params, t automation.Terminal) []FieldError {
			// Whole lots on the futures terminals that count in lots
			// (CTP); a crypto perpetual (Binance) closes 0.002 BTC.
			quantity := p.decimal("quantity")
			if p.has("quantity") && takesOffset(t) && !quantity.IsInteger() {
				return []FieldError{fieldError("quantity", "must be a whole number of lots, got "+quantity.String())}
			}
			return closeFits(t, p.str("symbol"), automation.PositionSide(p.str("position_side")), quantity)
		},
		Example: map[string]any{"symbol": "rb2501.SHFE", "position_side": "LONG", "quantity": "1"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		closer := x.(automation.PositionCloser) // Accepts made sure
		req := automation.ClosePositionRequest{
			Symbol:        c.Params.str("symbol"),
			PositionSide:  automation.PositionSide(c.Params.str("position_side")),
			Quantity:      c.Params.decimal("quantity"),
			ClientOrderID: ClientOrderID(c.ClientOrderID, c.OperationID),
		}
		order, err := closer.ClosePosition(ctx, req)
		if err != nil {
			return Result{Data: newUnsettledOrder(req.ClientOrderID, req.Symbol, err)}, err
		}
		return Result{Data: order, Message: orderMessage(order)}, nil
	})
	p.Accepts = func(t automation.Terminal) bool {
		_, ok := t.(automation.PositionCloser)
		return isExchange(t) && ok
	}
	return p
}
