package risk

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// Side is an order's direction.
type Side string

const (
	Buy  Side = "buy"
	Sell Side = "sell"
)

// Facts are what the limits need to know about an order, taken from its
// validated parameters.
type Facts struct {
	Symbol   string
	Side     Side
	Quantity decimal.Decimal
	// Price is the limit (or trigger) price; zero for a market order,
	// which is valued at the last known price.
	Price decimal.Decimal
}

// Extractor takes an order's facts from its validated parameters (the
// canonical JSON the queue journals); false when they are not there.
type Extractor func(params json.RawMessage) (Facts, bool)

// DefaultExtractors are the orders of brokerd's operation sets: the A-share
// buy, sell, market_buy, market_sell and condition_buy (stock_code, price or
// target_price, quantity), and the exchange place_order (symbol, side,
// price, quantity as decimal strings).
func DefaultExtractors() map[string]Extractor {
	return map[string]Extractor{
		automation.OpBuy:          stockOrder(Buy, "price"),
		automation.OpSell:         stockOrder(Sell, "price"),
		automation.OpMarketBuy:    stockOrder(Buy, ""),
		automation.OpMarketSell:   stockOrder(Sell, ""),
		automation.OpConditionBuy: stockOrder(Buy, "target_price"),
		automation.OpPlaceOrder:   exchangeOrder,
	}
}

// stockOrder reads an A-share order; priceField "" is a market order.
func stockOrder(side Side, priceField string) Extractor {
	return func(raw json.RawMessage) (Facts, bool) {
		p, ok := decodeParams(raw)
		if !ok {
			return Facts{}, false
		}
		code, ok := p["stock_code"].(string)
		if !ok || code == "" {
			return Facts{}, false
		}
		qty, ok := decimalOf(p["quantity"])
		if !ok || !qty.IsPositive() {
			return Facts{}, false
		}
		f := Facts{Symbol: code, Side: side, Quantity: qty}
		if priceField != "" {
			if f.Price, ok = decimalOf(p[priceField]); !ok || !f.Price.IsPositive() {
				return Facts{}, false
			}
		}
		return f, true
	}
}

// exchangeOrder reads place_order: symbol, side (BUY/SELL), quantity and an
// optional price (absent or zero for a market order).
func exchangeOrder(raw json.RawMessage) (Facts, bool) {
	p, ok := decodeParams(raw)
	if !ok {
		return Facts{}, false
	}
	symbol, _ := p["symbol"].(string)
	side, _ := p["side"].(string)
	qty, ok := decimalOf(p["quantity"])
	if symbol == "" || !ok || !qty.IsPositive() {
		return Facts{}, false
	}
	f := Facts{Symbol: symbol, Quantity: qty}
	switch strings.ToLower(side) {
	case "buy":
		f.Side = Buy
	case "sell":
		f.Side = Sell
	default:
		return Facts{}, false
	}
	if v, given := p["price"]; given && v != nil {
		if f.Price, ok = decimalOf(v); !ok || f.Price.IsNegative() {
			return Facts{}, false
		}
	}
	return f, true
}

func decodeParams(raw json.RawMessage) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var p map[string]any
	if err := dec.Decode(&p); err != nil {
		return nil, false
	}
	return p, true
}

// decimalOf reads a JSON number or a decimal string exactly.
func decimalOf(v any) (decimal.Decimal, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, false
	}
	return d, true
}
