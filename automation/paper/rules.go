package paper

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// quoteAssets are the quote assets a symbol's name may end in, longest
// first, so that its base and quote asset can be told without a table.
var quoteAssets = []string{"FDUSD", "USDT", "USDC", "BUSD", "BTC", "ETH", "BNB"}

// symbolName is a symbol as Binance spells it (BTCUSDT, BTCUSDT_250328).
var symbolName = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_]{1,29}$`)

// knownRules are Binance USDⓈ-M futures' rules for its two largest
// symbols; other symbols get genericRules.
var knownRules = map[string]automation.SymbolInfo{
	"BTCUSDT": rulesOf("BTCUSDT", "BTC", "USDT", "0.10", "0.001", "0.001", "100"),
	"ETHUSDT": rulesOf("ETHUSDT", "ETH", "USDT", "0.01", "0.001", "0.001", "20"),
}

// defaultRules are the rules of a symbol not configured in the symbols
// table: Binance's for BTCUSDT and ETHUSDT, else a tick of 0.01, a step
// and minimum of 0.001 and a minimum notional of 5 in the quote asset
// its name ends in.
func defaultRules(symbol string) (automation.SymbolInfo, error) {
	if info, ok := knownRules[symbol]; ok {
		return info, nil
	}
	if !symbolName.MatchString(symbol) {
		return automation.SymbolInfo{}, fmt.Errorf("%q is not a symbol such as BTCUSDT", symbol)
	}
	for _, q := range quoteAssets {
		if base, ok := strings.CutSuffix(symbol, q); ok && base != "" {
			return genericRules(symbol, base, q), nil
		}
	}
	return automation.SymbolInfo{}, fmt.Errorf("symbol %s does not end in a known quote asset (%s)", symbol, strings.Join(quoteAssets, ", "))
}

func genericRules(symbol, base, quote string) automation.SymbolInfo {
	return rulesOf(symbol, base, quote, "0.01", "0.001", "0.001", "5")
}

func rulesOf(symbol, base, quote, tick, step, minQty, minNotional string) automation.SymbolInfo {
	return automation.SymbolInfo{
		Symbol:       symbol,
		Status:       "TRADING",
		PriceTick:    decimal.RequireFromString(tick),
		QuantityStep: decimal.RequireFromString(step),
		MinQuantity:  decimal.RequireFromString(minQty),
		MinNotional:  decimal.RequireFromString(minNotional),
		BaseAsset:    base,
		QuoteAsset:   quote,
	}
}

// checkOrder refuses an order the symbol's rules do not allow, as
// Binance does, with its error codes. price is the limit price, or the
// quote of a MARKET order (zero when there is none).
func checkOrder(info automation.SymbolInfo, req automation.PlaceOrderRequest, price decimal.Decimal) error {
	q := req.Quantity
	switch {
	case !q.IsPositive():
		return reject("-4003", "quantity %s must be greater than 0", q)
	case !q.Mod(info.QuantityStep).IsZero():
		return reject("-1111", "quantity %s of %s is not a multiple of its quantity_step %s", q, info.Symbol, info.QuantityStep)
	case q.LessThan(info.MinQuantity):
		return reject("-4003", "quantity %s of %s is under its min_quantity %s", q, info.Symbol, info.MinQuantity)
	}
	if req.Type == automation.TypeLimit {
		switch {
		case !req.Price.IsPositive():
			return reject("-4014", "price %s must be greater than 0", req.Price)
		case !req.Price.Mod(info.PriceTick).IsZero():
			return reject("-4014", "price %s of %s is not a multiple of its price_tick %s", req.Price, info.Symbol, info.PriceTick)
		}
	}
	// Binance exempts reduce-only orders from the minimum notional.
	if !req.ReduceOnly && price.IsPositive() {
		if n := q.Mul(price); n.LessThan(info.MinNotional) {
			return reject("-4164", "notional %s %s (%s × %s) of %s is under its min_notional %s; use reduce_only to close a smaller position",
				n, info.QuoteAsset, q, price, info.Symbol, info.MinNotional)
		}
	}
	return nil
}

// reject is a rejection with the code Binance gives the same refusal, so
// that a script handles the paper exchange as it handles Binance.
func reject(venueCode, format string, args ...any) error {
	return &automation.Error{Code: automation.CodeRejected, Message: fmt.Sprintf(format, args...), VenueCode: venueCode}
}
