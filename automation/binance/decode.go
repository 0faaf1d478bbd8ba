package binance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// answer is one response frame: {id, status, result | error, rateLimits}.
type answer struct {
	// ID is the request's id; nil (JSON null) for a session revoked
	// under it (-2015 with "id": null).
	ID         *string         `json:"id"`
	Status     int             `json:"status"`
	Result     json.RawMessage `json:"result"`
	Error      *venueError     `json:"error"`
	RateLimits []rateLimit     `json:"rateLimits"`
}

// venueError is Binance's {code, msg[, data]}.
type venueError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data *struct {
		ServerTime int64 `json:"serverTime"`
		RetryAfter int64 `json:"retryAfter"`
	} `json:"data"`
}

// rateLimit is one entry of an answer's rateLimits (or exchangeInfo's,
// without count).
type rateLimit struct {
	Type        string `json:"rateLimitType"`
	Interval    string `json:"interval"`
	IntervalNum int    `json:"intervalNum"`
	Limit       int    `json:"limit"`
	Count       int    `json:"count"`
}

// window is the length of the rate limit's window.
func (r rateLimit) window() (time.Duration, bool) {
	unit := map[string]time.Duration{"SECOND": time.Second, "MINUTE": time.Minute, "HOUR": time.Hour, "DAY": 24 * time.Hour}[r.Interval]
	if unit == 0 || r.IntervalNum <= 0 || r.IntervalNum > 1000 || r.Limit <= 0 {
		return 0, false
	}
	return unit * time.Duration(r.IntervalNum), true
}

// decodeAnswer parses one frame. The id may be a string, a number or null:
// the driver sends strings, so anything else is kept as its JSON text.
func decodeAnswer(b []byte) (answer, error) {
	var raw struct {
		ID json.RawMessage `json:"id"`
		answer
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return answer{}, fmt.Errorf("decode an answer: %w", err)
	}
	a := raw.answer
	a.ID = nil
	switch id := bytes.TrimSpace(raw.ID); {
	case len(id) == 0 || string(id) == "null":
	case id[0] == '"':
		var s string
		if err := json.Unmarshal(id, &s); err != nil {
			return answer{}, fmt.Errorf("decode an answer's id: %w", err)
		}
		a.ID = &s
	default:
		s := string(id)
		a.ID = &s
	}
	if a.Status == 0 {
		return answer{}, errors.New("decode an answer: no status")
	}
	if a.Status != 200 && a.Error == nil {
		return answer{}, fmt.Errorf("decode an answer: status %d without an error", a.Status)
	}
	return a, nil
}

// dec is a decimal Binance sends as a JSON string (or, leniently, a
// number); empty is zero.
type dec struct{ decimal.Decimal }

func (d *dec) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		d.Decimal = decimal.Zero
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s == "" {
		d.Decimal = decimal.Zero
		return nil
	}
	v, err := parseDecimal(s)
	if err != nil {
		return err
	}
	d.Decimal = v
	return nil
}

// parseDecimal reads a plain decimal ("0.010", "-1.5"), refusing exponents
// and absurd lengths: Binance never sends them, and a huge exponent would
// make decimal arithmetic slow.
func parseDecimal(s string) (decimal.Decimal, error) {
	if len(s) == 0 || len(s) > 64 {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal", s)
	}
	dot := false
	for i, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		case c == '-' && i == 0 && len(s) > 1:
		default:
			return decimal.Decimal{}, fmt.Errorf("%q is not a plain decimal", s)
		}
	}
	if s[0] == '-' && s[1] == '.' {
		return decimal.Decimal{}, fmt.Errorf("%q is not a plain decimal", s)
	}
	return decimal.NewFromString(s)
}

// wireOrder is an order as order.place, order.status and order.cancel
// answer it.
type wireOrder struct {
	OrderID       json.Number `json:"orderId"`
	Symbol        string      `json:"symbol"`
	Status        string      `json:"status"`
	ClientOrderID string      `json:"clientOrderId"`
	Price         dec         `json:"price"`
	AvgPrice      dec         `json:"avgPrice"`
	OrigQty       dec         `json:"origQty"`
	ExecutedQty   dec         `json:"executedQty"`
	TimeInForce   string      `json:"timeInForce"`
	Type          string      `json:"type"`
	ReduceOnly    bool        `json:"reduceOnly"`
	Side          string      `json:"side"`
	PositionSide  string      `json:"positionSide"`
	UpdateTime    int64       `json:"updateTime"`
}

func decodeOrder(b []byte) (automation.ExchangeOrder, error) {
	var w wireOrder
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&w); err != nil {
		return automation.ExchangeOrder{}, fmt.Errorf("decode an order: %w", err)
	}
	if _, err := strconv.ParseInt(w.OrderID.String(), 10, 64); err != nil {
		return automation.ExchangeOrder{}, fmt.Errorf("decode an order: orderId %q is not an integer", w.OrderID)
	}
	if w.Symbol == "" {
		return automation.ExchangeOrder{}, errors.New("decode an order: no symbol")
	}
	return w.order(), nil
}

func (w wireOrder) order() automation.ExchangeOrder {
	o := automation.ExchangeOrder{
		OrderID:          w.OrderID.String(),
		ClientOrderID:    w.ClientOrderID,
		Symbol:           w.Symbol,
		Side:             automation.OrderSide(w.Side),
		Type:             automation.OrderType(w.Type),
		Status:           orderStatus(w.Status),
		Price:            w.Price.Decimal,
		AvgPrice:         w.AvgPrice.Decimal,
		Quantity:         w.OrigQty.Decimal,
		ExecutedQuantity: w.ExecutedQty.Decimal,
		TimeInForce:      automation.TimeInForce(w.TimeInForce),
		ReduceOnly:       w.ReduceOnly,
		PositionSide:     automation.PositionSide(w.PositionSide),
	}
	if w.UpdateTime > 0 {
		o.UpdatedAt = time.UnixMilli(w.UpdateTime).UTC()
	}
	return o
}

// exchangeInfo is the part of GET /fapi/v1/exchangeInfo the driver uses.
type exchangeInfo struct {
	RateLimits []rateLimit `json:"rateLimits"`
	Symbols    []struct {
		Symbol     string `json:"symbol"`
		Status     string `json:"status"`
		BaseAsset  string `json:"baseAsset"`
		QuoteAsset string `json:"quoteAsset"`
		Filters    []struct {
			FilterType string `json:"filterType"`
			TickSize   dec    `json:"tickSize"`
			StepSize   dec    `json:"stepSize"`
			MinQty     dec    `json:"minQty"`
			Notional   dec    `json:"notional"`
		} `json:"filters"`
	} `json:"symbols"`
}

// decodeExchangeInfo reads the symbols' rules: PRICE_FILTER tickSize,
// LOT_SIZE stepSize and minQty, MIN_NOTIONAL notional.
func decodeExchangeInfo(b []byte) (map[string]automation.SymbolInfo, []rateLimit, error) {
	var info exchangeInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, nil, fmt.Errorf("decode exchangeInfo: %w", err)
	}
	out := make(map[string]automation.SymbolInfo, len(info.Symbols))
	for _, s := range info.Symbols {
		if s.Symbol == "" {
			return nil, nil, errors.New("decode exchangeInfo: a symbol without a name")
		}
		si := automation.SymbolInfo{Symbol: s.Symbol, Status: s.Status, BaseAsset: s.BaseAsset, QuoteAsset: s.QuoteAsset}
		for _, f := range s.Filters {
			switch f.FilterType {
			case "PRICE_FILTER":
				si.PriceTick = f.TickSize.Decimal
			case "LOT_SIZE":
				si.QuantityStep, si.MinQuantity = f.StepSize.Decimal, f.MinQty.Decimal
			case "MIN_NOTIONAL":
				si.MinNotional = f.Notional.Decimal
			}
		}
		if si.PriceTick.IsNegative() || si.QuantityStep.IsNegative() || si.MinQuantity.IsNegative() || si.MinNotional.IsNegative() {
			return nil, nil, fmt.Errorf("decode exchangeInfo: %s has a negative filter", s.Symbol)
		}
		out[s.Symbol] = si
	}
	return out, info.RateLimits, nil
}

// orderStatus maps Binance's order statuses onto the domain's; the ones it
// adds (EXPIRED_IN_MATCH: expired by self-trade prevention) become the
// nearest.
func orderStatus(s string) automation.OrderStatus {
	if s == "EXPIRED_IN_MATCH" {
		return automation.StatusExpired
	}
	return automation.OrderStatus(s)
}
