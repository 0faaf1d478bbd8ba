package plugins

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/brokerd/brokerd/automation"
)

// place_order places one order on an exchange terminal.
func placeOrderPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpPlaceOrder,
		Title:         "PlaceOrderOperation",
		Description:   "交易所下单(限价或市价)",
		DescriptionEn: "place a limit or market order on an exchange terminal; the answer is the order as the venue recorded it",
		SideEffect:    true,
		Params: []Param{
			symbolParam(true, "the symbol, as the venue writes it"),
			{
				Name: "side", Type: TypeString, Required: true, Enum: []any{"BUY", "SELL"},
				Description: "买卖方向 BUY/SELL", DescriptionEn: "BUY or SELL", Example: "BUY",
			},
			{
				Name: "type", Type: TypeString, Enum: []any{"LIMIT", "MARKET"}, Default: "LIMIT",
				Description: "订单类型 LIMIT/MARKET,默认 LIMIT", DescriptionEn: "LIMIT or MARKET; default LIMIT", Example: "LIMIT",
			},
			decimalParam("quantity", true, "数量(精确小数,字符串或数字)", "the quantity, an exact decimal (a string such as \"0.010\" or a number); on the symbol's step when its rules are known", "0.01"),
			decimalParam("price", false, "限价(LIMIT 必填,MARKET 不可填)", "the limit price: required for LIMIT, refused for MARKET; on the symbol's tick when its rules are known", "65000"),
			{
				Name: "time_in_force", Type: TypeString, Enum: []any{"GTC", "IOC", "FOK", "GTX"},
				Description:   "有效方式 GTC/IOC/FOK/GTX,LIMIT 默认 GTC,MARKET 不可填",
				DescriptionEn: "GTC, IOC, FOK or GTX (post only); default GTC for LIMIT, refused for MARKET", Example: "GTC",
			},
			{
				Name: "reduce_only", Type: TypeBoolean, Default: false,
				Description: "只减仓", DescriptionEn: "only reduce a position, never open or increase one", Example: false,
			},
			positionSideParam(false, []any{"BOTH", "LONG", "SHORT"}, "BOTH"),
			{
				Name: "offset", Type: TypeString, Enum: []any{"OPEN", "CLOSE", "CLOSE_TODAY", "CLOSE_YESTERDAY"},
				Description:   "开平(仅期货终端):OPEN/CLOSE/CLOSE_TODAY/CLOSE_YESTERDAY,默认 OPEN",
				DescriptionEn: "futures terminals only: OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY (the last two only where the exchange tells them apart, SHFE and INE); default OPEN there, refused elsewhere",
				Example:       "OPEN",
			},
		},
		Defaults: func(p Params) {
			if p.str("type") == string(automation.TypeLimit) && !p.has("time_in_force") {
				p["time_in_force"] = string(automation.GTC)
			}
		},
		Check: checkPlaceOrder,
		Fits:  placeOrderFits,
		Example: map[string]any{
			"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "65000", "time_in_force": "GTC",
		},
	}, placeOrder)
}

// checkPlaceOrder: a LIMIT order needs a price, a MARKET order takes
// neither a price nor a time in force.
func checkPlaceOrder(p Params) []FieldError {
	switch automation.OrderType(p.str("type")) {
	case automation.TypeLimit:
		if !p.has("price") {
			return []FieldError{fieldError("price", "is required for a LIMIT order")}
		}
	case automation.TypeMarket:
		var errs []FieldError
		if p.has("price") {
			errs = append(errs, fieldError("price", "is refused for a MARKET order: it fills at the market; send type LIMIT to set a price"))
		}
		if p.has("time_in_force") {
			errs = append(errs, fieldError("time_in_force", "is refused for a MARKET order"))
		}
		return errs
	}
	return nil
}

// placeOrderFits applies the terminal's rules: the symbol's tick, step
// and minimums, and the futures-only offset.
func placeOrderFits(p Params, t automation.Terminal) []FieldError {
	symbol, quantity := p.str("symbol"), p.decimal("quantity")
	errs := symbolFits(t, symbol, p.decimal("price"), quantity, p.bool("reduce_only"))
	futures := takesOffset(t)
	switch {
	case p.has("offset") && !futures:
		errs = append(errs, fieldError("offset", "terminal "+strconv.Quote(t.Name())+" is not a futures terminal and takes no offset"))
	case futures:
		if !quantity.IsInteger() && !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == "params.quantity" }) {
			errs = append(errs, fieldError("quantity", "must be a whole number of lots on a futures terminal, got "+quantity.String()))
		}
		offset := automation.Offset(p.str("offset"))
		if offset == automation.OffsetCloseToday || offset == automation.OffsetCloseYesterday {
			if rules, ok := t.(automation.SymbolRules); ok {
				if info, ok := rules.CachedSymbol(symbol); ok && !info.CloseTodayDistinct {
					errs = append(errs, fieldError("offset", string(offset)+" applies only where the exchange tells today's position from yesterday's (SHFE, INE); use CLOSE for "+symbol))
				}
			}
		}
		if offset != "" && offset != automation.OffsetOpen {
			// Selling closes the long position, buying the short one.
			side := automation.PositionLong
			if automation.OrderSide(p.str("side")) == automation.SideBuy {
				side = automation.PositionShort
			}
			errs = append(errs, closeFits(t, symbol, side, quantity)...)
		}
	}
	return errs
}

func placeOrder(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
	req := automation.PlaceOrderRequest{
		Symbol:        c.Params.str("symbol"),
		Side:          automation.OrderSide(c.Params.str("side")),
		Type:          automation.OrderType(c.Params.str("type")),
		Quantity:      c.Params.decimal("quantity"),
		Price:         c.Params.decimal("price"),
		TimeInForce:   automation.TimeInForce(c.Params.str("time_in_force")),
		ReduceOnly:    c.Params.bool("reduce_only"),
		PositionSide:  automation.PositionSide(c.Params.str("position_side")),
		Offset:        automation.Offset(c.Params.str("offset")),
		ClientOrderID: ClientOrderID(c.ClientOrderID, c.OperationID),
	}
	if req.Offset == "" && takesOffset(x) {
		req.Offset = automation.OffsetOpen
	}
	order, err := x.PlaceOrder(ctx, req)
	if err != nil {
		// The client order id goes into the journal with the failure, so
		// that an unknown outcome can be settled by it later.
		return Result{Data: newUnsettledOrder(req.ClientOrderID, req.Symbol, err)}, err
	}
	return Result{Data: order, Message: orderMessage(order)}, nil
}

// unsettledOrder is the data of a place_order that failed: what identifies
// the order at the venue if it was placed after all, and the orders it may
// have become when the driver found several (a venue without client order
// ids: the gateway).
type unsettledOrder struct {
	ClientOrderID string                     `json:"client_order_id"`
	Symbol        string                     `json:"symbol"`
	Candidates    []automation.ExchangeOrder `json:"candidates,omitempty"`
}

// candidateLister is a driver's error that names the orders a lost answer
// may have been.
type candidateLister interface {
	Candidates() []automation.ExchangeOrder
}

func newUnsettledOrder(clientOrderID, symbol string, err error) unsettledOrder {
	u := unsettledOrder{ClientOrderID: clientOrderID, Symbol: symbol}
	var cl candidateLister
	if errors.As(err, &cl) {
		u.Candidates = cl.Candidates()
	}
	return u
}
