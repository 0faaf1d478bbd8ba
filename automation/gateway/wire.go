package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// The frames of seeds/004. Every request carries op and cid; its answer
// echoes them with result and error_message. state and notify come by
// themselves, told apart by token; op "error" (a handler's failure) comes
// without a cid.

// request is every frame the driver sends; fields a request does not use
// are left out. It holds the keys of a login: never log it (LogValue hides
// them anyway).
type request struct {
	Op        string   `json:"op"`
	Cid       string   `json:"cid,omitempty"`
	Token     string   `json:"token,omitempty"`
	Platform  string   `json:"platform,omitempty"`
	Symbols   []string `json:"symbols,omitempty"`
	AccessKey string   `json:"access_key,omitempty"`
	SecretKey string   `json:"secret_key,omitempty"`
	Symbol    string   `json:"symbol,omitempty"`
	Action    string   `json:"action,omitempty"`
	Price     *number  `json:"price,omitempty"`
	Quantity  *number  `json:"quantity,omitempty"`
	OrderType string   `json:"order_type,omitempty"`
	OrderNos  []string `json:"order_nos,omitempty"`
}

// LogValue keeps the keys out of any log a request might reach.
func (r request) LogValue() slog.Value {
	return slog.GroupValue(slog.String("op", r.Op), slog.String("cid", r.Cid), slog.String("symbol", r.Symbol))
}

// ping is the JSON ping; the gateway answers pong with the same ts.
type ping struct {
	Op string `json:"op"`
	TS int64  `json:"ts"`
}

// number is a decimal sent as a JSON number (the seed's schema says
// number), written exactly as the decimal reads, never through float64.
type number decimal.Decimal

func (n number) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(n).String()), nil }

func num(d decimal.Decimal) *number { n := number(d); return &n }

// frame is any frame from the gateway; fields it does not carry stay zero.
type frame struct {
	Op           string          `json:"op"`
	Cid          text            `json:"cid"`
	Result       *bool           `json:"result"`
	ErrorMessage text            `json:"error_message"`
	Token        text            `json:"token"`
	OrderNo      text            `json:"order_no"`
	Code         text            `json:"code"`
	Msg          text            `json:"msg"`
	Topic        string          `json:"topic"`
	TS           text            `json:"ts"`
	Data         json.RawMessage `json:"data"`
}

// decodeFrame reads one text frame.
func decodeFrame(b []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("not a gateway frame: %w", err)
	}
	if f.Op == "" {
		return frame{}, fmt.Errorf("a frame without op")
	}
	return f, nil
}

// ok reports whether an answer says result true.
func (f frame) ok() bool { return f.Result != nil && *f.Result }

// code is a state frame's code, 0 when absent or not a number.
func (f frame) code() int {
	n, err := strconv.Atoi(string(f.Code))
	if err != nil {
		return 0
	}
	return n
}

// text is a JSON value read as text: a string as itself, a number as its
// digits, an object or list (a Python dict repr sometimes comes as one) as
// its JSON, null as "". The gateway is loose about types; the driver
// should not fail a frame over it.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	default:
		*t = text(b)
	}
	return nil
}

// amount is a decimal that accepts a JSON number, a string of one, or
// null (zero).
type amount struct{ decimal.Decimal }

func (a *amount) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	if t == "" {
		a.Decimal = decimal.Zero
		return nil
	}
	d, err := decimal.NewFromString(string(t))
	if err != nil {
		return fmt.Errorf("%q is not a decimal", string(t))
	}
	a.Decimal = d
	return nil
}

// millis is a time in milliseconds since the epoch, as a JSON number.
type millis int64

func (m *millis) UnmarshalJSON(b []byte) error {
	var a amount
	if err := a.UnmarshalJSON(b); err != nil {
		return err
	}
	f, _ := a.Float64()
	if math.Abs(f) > 1e15 { // beyond year 33000: not a time
		return fmt.Errorf("%s is not a time in milliseconds", a.String())
	}
	*m = millis(a.IntPart())
	return nil
}

func (m millis) time() time.Time {
	if m <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(m)).UTC()
}

// wireOrder is an order as open_orders and the order notice give it.
type wireOrder struct {
	Symbol    string `json:"symbol"`
	OrderNo   text   `json:"order_no"`
	Action    string `json:"action"`
	Price     amount `json:"price"`
	Quantity  amount `json:"quantity"`
	Remain    amount `json:"remain"`
	Status    string `json:"status"`
	OrderType string `json:"order_type"`
	CTime     millis `json:"ctime"`
	UTime     millis `json:"utime"`
}

// orderStatus maps the gateway's status names (REFERENCE.md: NONE,
// SUBMITTED, PARTIAL-FILLED, FILLED, CANCELED, FAILED) onto the exchange
// set's.
func orderStatus(s string) (automation.OrderStatus, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NONE", "SUBMITTED":
		return automation.StatusNew, nil
	case "PARTIAL-FILLED", "PARTIAL_FILLED", "PARTIALLY_FILLED":
		return automation.StatusPartiallyFilled, nil
	case "FILLED":
		return automation.StatusFilled, nil
	case "CANCELED", "CANCELLED":
		return automation.StatusCanceled, nil
	case "FAILED":
		return automation.StatusRejected, nil
	}
	return "", fmt.Errorf("unknown order status %q", s)
}

// exchangeOrder maps a gateway order. symbol fills in when the frame has
// none (open_orders answers for one symbol). On a futures platform a
// negative quantity is the short side.
func (w wireOrder) exchangeOrder(symbol string, futures bool) (automation.ExchangeOrder, error) {
	if w.OrderNo == "" {
		return automation.ExchangeOrder{}, fmt.Errorf("an order without order_no")
	}
	st, err := orderStatus(w.Status)
	if err != nil {
		return automation.ExchangeOrder{}, fmt.Errorf("order %s: %w", w.OrderNo, err)
	}
	side := automation.OrderSide(strings.ToUpper(w.Action))
	if side != automation.SideBuy && side != automation.SideSell {
		return automation.ExchangeOrder{}, fmt.Errorf("order %s: unknown action %q", w.OrderNo, w.Action)
	}
	o := automation.ExchangeOrder{
		OrderID:      string(w.OrderNo),
		Symbol:       w.Symbol,
		Side:         side,
		Status:       st,
		Price:        w.Price.Decimal,
		Quantity:     w.Quantity.Abs(),
		PositionSide: automation.PositionBoth,
		UpdatedAt:    w.UTime.time(),
	}
	if o.Symbol == "" {
		o.Symbol = symbol
	}
	if futures {
		o.PositionSide = automation.PositionLong
		if w.Quantity.IsNegative() {
			o.PositionSide = automation.PositionShort
		}
	}
	if exec := o.Quantity.Sub(w.Remain.Abs()); exec.IsPositive() {
		o.ExecutedQuantity = exec
	}
	switch strings.ToUpper(w.OrderType) {
	case "MARKET":
		o.Type = automation.TypeMarket
	case "IOC":
		o.Type, o.TimeInForce = automation.TypeLimit, automation.IOC
	default: // LIMIT, and whatever a platform calls a plain limit order
		o.Type, o.TimeInForce = automation.TypeLimit, automation.GTC
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = w.CTime.time()
	}
	return o, nil
}

// wireFill is a fill notice.
type wireFill struct {
	Symbol    string `json:"symbol"`
	OrderNo   text   `json:"order_no"`
	FillNo    text   `json:"fill_no"`
	Price     amount `json:"price"`
	Quantity  amount `json:"quantity"`
	Side      string `json:"side"`
	Liquidity string `json:"liquidity"`
	CTime     millis `json:"ctime"`
}

// Fill is a fill notice as it reaches /events.
type Fill struct {
	Symbol    string          `json:"symbol"`
	OrderID   string          `json:"order_id"`
	FillID    string          `json:"fill_id"`
	Side      string          `json:"side"`
	Price     decimal.Decimal `json:"price"`
	Quantity  decimal.Decimal `json:"quantity"`
	Liquidity string          `json:"liquidity"`
	At        time.Time       `json:"at"`
}

func (w wireFill) fill() Fill {
	return Fill{Symbol: w.Symbol, OrderID: string(w.OrderNo), FillID: string(w.FillNo), Side: strings.ToUpper(w.Side),
		Price: w.Price.Decimal, Quantity: w.Quantity.Abs(), Liquidity: w.Liquidity, At: w.CTime.time()}
}

// wireBalance is one asset of the asset answer and notice.
type wireBalance struct {
	Free   amount `json:"free"`
	Locked amount `json:"locked"`
	Total  amount `json:"total"`
}

func decodeAssets(data json.RawMessage) ([]automation.Asset, error) {
	var m map[string]wireBalance
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("asset data: %w", err)
	}
	out := make([]automation.Asset, 0, len(m))
	for name, b := range m {
		out = append(out, automation.Asset{Asset: name, Balance: b.Total.Decimal, Available: b.Free.Decimal, UnrealizedPnL: decimal.Zero})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Asset < out[j].Asset })
	return out, nil
}

// wirePosition is the position answer and notice: one object with a long
// and a short side.
type wirePosition struct {
	Symbol            string `json:"symbol"`
	MarginMode        string `json:"margin_mode"`
	LongQuantity      amount `json:"long_quantity"`
	LongOpenPrice     amount `json:"long_open_price"`
	LongLiquidPrice   amount `json:"long_liquid_price"`
	LongUnrealisedPnL amount `json:"long_unrealised_pnl"`
	LongLeverage      amount `json:"long_leverage"`
	ShortQuantity     amount `json:"short_quantity"`
	ShortOpenPrice    amount `json:"short_open_price"`
	ShortLiquidPrice  amount `json:"short_liquid_price"`
	ShortUnrealPnL    amount `json:"short_unrealised_pnl"`
	ShortLeverage     amount `json:"short_leverage"`
	UTime             millis `json:"utime"`
}

// positions maps the two sides onto the exchange set's positions: LONG
// with a positive quantity, SHORT with a negative one; zero sides are left
// out. The gateway gives no mark price.
func (w wirePosition) positions(symbol string) []automation.ExchangePosition {
	if w.Symbol != "" {
		symbol = w.Symbol
	}
	var out []automation.ExchangePosition
	if q := w.LongQuantity.Abs(); !q.IsZero() {
		out = append(out, automation.ExchangePosition{Symbol: symbol, PositionSide: automation.PositionLong, Quantity: q,
			EntryPrice: w.LongOpenPrice.Decimal, UnrealizedPnL: w.LongUnrealisedPnL.Decimal,
			Leverage: w.LongLeverage.Decimal, LiquidationPrice: w.LongLiquidPrice.Decimal})
	}
	if q := w.ShortQuantity.Abs(); !q.IsZero() {
		out = append(out, automation.ExchangePosition{Symbol: symbol, PositionSide: automation.PositionShort, Quantity: q.Neg(),
			EntryPrice: w.ShortOpenPrice.Decimal, UnrealizedPnL: w.ShortUnrealPnL.Decimal,
			Leverage: w.ShortLeverage.Decimal, LiquidationPrice: w.ShortLiquidPrice.Decimal})
	}
	return out
}

// wireSymbol is the symbol_info answer.
type wireSymbol struct {
	PriceTick     amount `json:"price_tick"`
	SizeTick      amount `json:"size_tick"`
	SizeLimit     amount `json:"size_limit"`
	ValueTick     amount `json:"value_tick"`
	ValueLimit    amount `json:"value_limit"`
	BaseCurrency  text   `json:"base_currency"`
	QuoteCurrency text   `json:"quote_currency"`
}

// symbolInfo maps the rules: size_tick is the quantity step, size_limit
// the least quantity, value_limit the least notional. The gateway says
// nothing of a symbol's trading status, so Status stays "".
func (w wireSymbol) symbolInfo(symbol string) automation.SymbolInfo {
	return automation.SymbolInfo{Symbol: symbol, PriceTick: w.PriceTick.Decimal, QuantityStep: w.SizeTick.Decimal,
		MinQuantity: w.SizeLimit.Decimal, MinNotional: w.ValueLimit.Decimal,
		BaseAsset: string(w.BaseCurrency), QuoteAsset: string(w.QuoteCurrency)}
}

// wireCancel is one order's line of a cancel_order answer.
type wireCancel struct {
	Result       bool `json:"result"`
	ErrorMessage text `json:"error_message"`
	OrderNo      text `json:"order_no"`
}
