package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// The exchange set (DRIVERS.md): place_order, cancel_order, order_status,
// open_orders, asset, position, symbol_info and, on futures terminals,
// close_position. Prices and quantities are decimals (TypeDecimal), exact
// from the request to the venue and back. The rules they share are here;
// each operation has its file (place_order.go, …).

// ExchangeSet is the exchange operations, in the order of
// automation.ExchangeOperations.
func ExchangeSet() Set {
	return Set{Family: "exchange", Plugins: []*Plugin{
		placeOrderPlugin(), cancelOrderPlugin(), orderStatusPlugin(), openOrdersPlugin(),
		assetPlugin(), positionPlugin(), symbolInfoPlugin(), closePositionPlugin(),
	}}
}

// exchangeFunc is the body of an exchange plugin.
type exchangeFunc func(ctx context.Context, x automation.Exchange, c Call) (Result, error)

// onExchange completes p as a plugin of the exchange set: it accepts only
// Exchange terminals and hands run the exchange.
func onExchange(p Plugin, run exchangeFunc) *Plugin {
	p.Accepts = isExchange
	p.Execute = func(ctx context.Context, c Call) (Result, error) {
		x, ok := c.Terminal.(automation.Exchange)
		if !ok {
			return Result{}, unsupported(c.Terminal, p.Name)
		}
		return run(ctx, x, c)
	}
	if p.Version == "" {
		p.Version = "1.0.0"
	}
	return &p
}

func isExchange(t automation.Terminal) bool {
	_, ok := t.(automation.Exchange)
	return ok
}

// Patterns of the exchange set's identifiers.
const (
	// symbolPattern: a venue's symbol, BTCUSDT, BTC/USDT or rb2501.SHFE.
	symbolPattern = `^[A-Za-z0-9][A-Za-z0-9._/:-]{0,39}$`
	// orderIDPattern: a venue's order id.
	orderIDPattern = `^[0-9A-Za-z._:/-]{1,64}$`
	// clientOrderIDPattern is Binance's rule for newClientOrderId, the
	// strictest of the venues.
	clientOrderIDPattern = `^[.A-Z:/a-z0-9_-]{1,36}$`
)

func init() {
	patternMeanings[symbolPattern] = `a symbol as the venue writes it, such as "BTCUSDT", "BTC/USDT" or "rb2501.SHFE"`
	patternMeanings[orderIDPattern] = "an order id as the venue gave it in order_id (1 to 64 letters, digits, . _ : / -)"
	patternMeanings[clientOrderIDPattern] = "a client order id of 1 to 36 letters, digits, . : / _ -, as place_order returned it in client_order_id"
}

var clientOrderIDRule = regexp.MustCompile(clientOrderIDPattern)

// ClientOrderID is the client order id brokerd sends with a place_order:
// the idempotency key itself when it fits every venue's rule, else a
// deterministic short hash of it ("bk-" and 26 base32 letters), and the
// operation id when there is no key. It is a function of what the journal
// holds before the venue is called, so a lost answer can always be settled
// by looking the order up by it.
func ClientOrderID(idempotencyKey, operationID string) string {
	key := idempotencyKey
	if key == "" {
		key = operationID
	}
	if clientOrderIDRule.MatchString(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "bk-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// The parameters the exchange set shares.

func symbolParam(required bool, en string) Param {
	return Param{
		Name: "symbol", Type: TypeString, Required: required, Pattern: symbolPattern,
		Description: "交易对或合约代码,按交易所写法", DescriptionEn: en, Example: "BTCUSDT",
	}
}

func decimalParam(name string, required bool, zh, en string, example string) Param {
	return Param{
		Name: name, Type: TypeDecimal, Required: required, Minimum: bound(0), ExclusiveMinimum: true,
		Description: zh, DescriptionEn: en, Example: example,
	}
}

func positionSideParam(required bool, values []any, def any) Param {
	return Param{
		Name: "position_side", Type: TypeString, Required: required, Enum: values, Default: def,
		Description:   "持仓方向:BOTH(单向持仓)/LONG/SHORT(双向持仓)",
		DescriptionEn: "the position side: BOTH in one-way mode, LONG or SHORT in hedge mode",
		Example:       values[0],
	}
}

func orderRefParams() []Param {
	return []Param{
		symbolParam(true, "the symbol of the order"),
		{
			Name: "order_id", Type: TypeString, Pattern: orderIDPattern,
			Description: "交易所订单号(与 client_order_id 二选一)", DescriptionEn: "the venue's order id (give this or client_order_id)",
			Example: "8389765510214717441",
		},
		{
			Name: "client_order_id", Type: TypeString, Pattern: clientOrderIDPattern,
			Description: "客户订单号(与 order_id 二选一)", DescriptionEn: "the client order id place_order returned (give this or order_id)",
			Example: "my-order-1",
		},
	}
}

// checkOneRef requires exactly one of order_id and client_order_id.
func checkOneRef(p Params) []FieldError {
	switch has, hasClient := p.given("order_id"), p.given("client_order_id"); {
	case has && hasClient:
		return []FieldError{fieldError("client_order_id", "give order_id or client_order_id, not both")}
	case !has && !hasClient:
		return []FieldError{fieldError("order_id", "is required: give order_id or client_order_id")}
	}
	return nil
}

func orderRef(p Params) automation.OrderRef {
	return automation.OrderRef{Symbol: p.str("symbol"), OrderID: p.str("order_id"), ClientOrderID: p.str("client_order_id")}
}

// symbolFits applies a symbol's known rules (SymbolRules) to an order's
// price and quantity: on the tick, on the step, at least the minimum
// quantity and (unless it only reduces a position, which venues let go
// under it) the minimum notional. A symbol whose rules are not cached yet
// is left to the venue.
func symbolFits(t automation.Terminal, symbol string, price, quantity decimal.Decimal, reduceOnly bool) []FieldError {
	rules, ok := t.(automation.SymbolRules)
	if !ok {
		return nil
	}
	info, ok := rules.CachedSymbol(symbol)
	if !ok {
		return nil
	}
	var errs []FieldError
	if info.Status != "" && !strings.EqualFold(info.Status, "TRADING") {
		errs = append(errs, fieldError("symbol", fmt.Sprintf("%s is not trading on terminal %q (status %s)", symbol, t.Name(), info.Status)))
	}
	if !price.IsZero() && info.PriceTick.IsPositive() && !price.Mod(info.PriceTick).IsZero() {
		errs = append(errs, fieldError("price", fmt.Sprintf("must be a multiple of %s's tick %s, got %s", symbol, info.PriceTick, price)))
	}
	if info.QuantityStep.IsPositive() && !quantity.Mod(info.QuantityStep).IsZero() {
		errs = append(errs, fieldError("quantity", fmt.Sprintf("must be a multiple of %s's step %s, got %s", symbol, info.QuantityStep, quantity)))
	} else if info.MinQuantity.IsPositive() && quantity.LessThan(info.MinQuantity) {
		errs = append(errs, fieldError("quantity", fmt.Sprintf("must be at least %s's minimum %s, got %s", symbol, info.MinQuantity, quantity)))
	}
	if len(errs) == 0 && !reduceOnly && !price.IsZero() && info.MinNotional.IsPositive() {
		if notional := price.Mul(quantity); notional.LessThan(info.MinNotional) {
			errs = append(errs, fieldError("quantity", fmt.Sprintf("makes a notional of %s (price × quantity), under %s's minimum of %s", notional, symbol, info.MinNotional)))
		}
	}
	return errs
}

// closeFits refuses a close larger than the position the terminal knows
// (PositionRules), naming quantity.
func closeFits(t automation.Terminal, symbol string, side automation.PositionSide, quantity decimal.Decimal) []FieldError {
	rules, ok := t.(automation.PositionRules)
	if !ok || quantity.IsZero() {
		return nil
	}
	held, ok := rules.CachedPosition(symbol, side)
	if !ok || !quantity.GreaterThan(held.Abs()) {
		return nil
	}
	return []FieldError{fieldError("quantity", fmt.Sprintf("closes %s but the %s position in %s is %s", quantity, side, symbol, held.Abs()))}
}

// takesOffset reports whether t is a futures terminal that takes offset.
func takesOffset(t automation.Terminal) bool {
	o, ok := t.(automation.OffsetTaker)
	return ok && o.TakesOffset()
}

// orderMessage says what became of an order, for a person.
func orderMessage(o automation.ExchangeOrder) string {
	msg := fmt.Sprintf("%s %s %s %s", o.Side, o.Type, o.Quantity, o.Symbol)
	if !o.Price.IsZero() {
		msg += " at " + o.Price.String()
	}
	msg += ": " + string(o.Status)
	if o.OrderID != "" {
		msg += " (order " + o.OrderID + ")"
	}
	if o.ExecutedQuantity.IsPositive() {
		msg += fmt.Sprintf(", %s filled at %s", o.ExecutedQuantity, o.AvgPrice)
	}
	return msg
}
