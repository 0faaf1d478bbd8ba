package gateway

import (
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

func limit(symbol string, side automation.OrderSide, qty, price string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{Symbol: symbol, Side: side, Type: automation.TypeLimit,
		Quantity: decimal.RequireFromString(qty), Price: decimal.RequireFromString(price), TimeInForce: automation.GTC}
}

func market(symbol string, side automation.OrderSide, qty string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{Symbol: symbol, Side: side, Type: automation.TypeMarket, Quantity: decimal.RequireFromString(qty)}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
