package paper

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// options are the [terminals.options] table as TOML gives it. Decimals are
// taken as strings ("65000.10", exact) or as numbers (65000.1, read back
// in their shortest form), so they are decoded into any and parsed here.
type options struct {
	Quotes   map[string]any           `toml:"quotes"`
	Balances map[string]any           `toml:"balances"`
	Symbols  map[string]symbolOptions `toml:"symbols"`
	Leverage any                      `toml:"leverage"`
	TakerFee any                      `toml:"taker_fee"`
	MakerFee any                      `toml:"maker_fee"`
	Latency  string                   `toml:"latency"`
}

// symbolOptions override one symbol's trading rules; absent keys keep the
// default rules of the symbol.
type symbolOptions struct {
	PriceTick    any    `toml:"price_tick"`
	QuantityStep any    `toml:"quantity_step"`
	MinQuantity  any    `toml:"min_quantity"`
	MinNotional  any    `toml:"min_notional"`
	BaseAsset    string `toml:"base_asset"`
	QuoteAsset   string `toml:"quote_asset"`
}

// Config is a paper exchange's validated configuration (see doc.go for
// the options it is read from).
type Config struct {
	// Quotes are the starting prices by symbol. A symbol the ledger
	// already has a price for keeps the ledger's.
	Quotes map[string]decimal.Decimal
	// Balances are the wallet balances of a new account by asset; once
	// the ledger holds an account, it wins.
	Balances map[string]decimal.Decimal
	// Symbols are the rules of the configured symbols (the quoted ones
	// and those of the symbols table).
	Symbols map[string]automation.SymbolInfo
	// Leverage divides a position's notional into its initial margin.
	Leverage decimal.Decimal
	// TakerFee and MakerFee are fractions of a fill's notional, charged
	// in the symbol's quote asset.
	TakerFee, MakerFee decimal.Decimal
	// Latency is how long every exchange operation takes.
	Latency time.Duration
}

// defaultBalances are the balances of an account configured with none.
var defaultBalances = map[string]decimal.Decimal{"USDT": decimal.NewFromInt(10000)}

// ParseOptions decodes and validates a [terminals.options] table.
func ParseOptions(raw automation.Options) (Config, error) {
	var o options
	if raw != nil {
		if err := raw.Decode(&o); err != nil {
			return Config{}, err
		}
	}
	return o.config()
}

func (o options) config() (Config, error) {
	c := Config{
		Quotes:   make(map[string]decimal.Decimal),
		Balances: make(map[string]decimal.Decimal),
		Symbols:  make(map[string]automation.SymbolInfo),
		Leverage: decimal.NewFromInt(1),
	}
	var err error
	if o.Leverage != nil {
		if c.Leverage, err = parseDecimal(o.Leverage); err != nil {
			return Config{}, optionError("leverage", "%v", err)
		}
		if !c.Leverage.IsInteger() || c.Leverage.LessThan(decimal.NewFromInt(1)) || c.Leverage.GreaterThan(decimal.NewFromInt(125)) {
			return Config{}, optionError("leverage", "must be a whole number from 1 to 125, got %s", c.Leverage)
		}
	}
	for _, f := range []struct {
		key  string
		raw  any
		into *decimal.Decimal
	}{{"taker_fee", o.TakerFee, &c.TakerFee}, {"maker_fee", o.MakerFee, &c.MakerFee}} {
		if f.raw == nil {
			continue
		}
		if *f.into, err = parseDecimal(f.raw); err != nil {
			return Config{}, optionError(f.key, "%v", err)
		}
		if f.into.IsNegative() || f.into.GreaterThanOrEqual(decimal.New(1, -1)) {
			return Config{}, optionError(f.key, "must be a fraction of the notional in [0, 0.1), such as \"0.0004\", got %s", f.into)
		}
	}
	if o.Latency != "" {
		d, err := time.ParseDuration(o.Latency)
		if err != nil || d < 0 {
			return Config{}, optionError("latency", "%q is not a duration such as \"50ms\" or \"0s\"", o.Latency)
		}
		c.Latency = d
	}
	for _, symbol := range slices.Sorted(maps.Keys(o.Symbols)) {
		info, err := o.Symbols[symbol].rules(symbol)
		if err != nil {
			return Config{}, optionError("symbols."+symbol, "%v", err)
		}
		c.Symbols[symbol] = info
	}
	for _, symbol := range slices.Sorted(maps.Keys(o.Quotes)) {
		key := "quotes." + symbol
		info, ok := c.Symbols[symbol]
		if !ok {
			if info, err = defaultRules(symbol); err != nil {
				return Config{}, optionError(key, "%v", err)
			}
			c.Symbols[symbol] = info
		}
		price, err := parseDecimal(o.Quotes[symbol])
		if err != nil {
			return Config{}, optionError(key, "%v", err)
		}
		if err := checkQuote(info, price); err != nil {
			return Config{}, optionError(key, "%v", err)
		}
		c.Quotes[symbol] = price
	}
	if o.Balances == nil {
		maps.Copy(c.Balances, defaultBalances)
	}
	for _, asset := range slices.Sorted(maps.Keys(o.Balances)) {
		key := "balances." + asset
		if !assetName.MatchString(asset) {
			return Config{}, optionError(key, "%q is not an asset name such as USDT", asset)
		}
		b, err := parseDecimal(o.Balances[asset])
		if err != nil {
			return Config{}, optionError(key, "%v", err)
		}
		if b.IsNegative() {
			return Config{}, optionError(key, "a balance must not be negative, got %s", b)
		}
		c.Balances[asset] = b
	}
	return c, nil
}

// rules are the symbol's default rules with the table's overrides.
func (s symbolOptions) rules(symbol string) (automation.SymbolInfo, error) {
	if !symbolName.MatchString(symbol) {
		return automation.SymbolInfo{}, fmt.Errorf("%q is not a symbol such as BTCUSDT", symbol)
	}
	info, err := defaultRules(symbol)
	if err != nil && (s.BaseAsset == "" || s.QuoteAsset == "") {
		return automation.SymbolInfo{}, fmt.Errorf("%v; or give base_asset and quote_asset", err)
	}
	if err != nil {
		info = genericRules(symbol, s.BaseAsset, s.QuoteAsset)
	}
	for _, a := range []struct {
		key  string
		name string
		into *string
	}{{"base_asset", s.BaseAsset, &info.BaseAsset}, {"quote_asset", s.QuoteAsset, &info.QuoteAsset}} {
		if a.name == "" {
			continue
		}
		if !assetName.MatchString(a.name) {
			return automation.SymbolInfo{}, fmt.Errorf("%s: %q is not an asset name such as USDT", a.key, a.name)
		}
		*a.into = a.name
	}
	for _, f := range []struct {
		key      string
		raw      any
		into     *decimal.Decimal
		positive bool
	}{
		{"price_tick", s.PriceTick, &info.PriceTick, true},
		{"quantity_step", s.QuantityStep, &info.QuantityStep, true},
		{"min_quantity", s.MinQuantity, &info.MinQuantity, true},
		{"min_notional", s.MinNotional, &info.MinNotional, false},
	} {
		if f.raw == nil {
			continue
		}
		v, err := parseDecimal(f.raw)
		if err != nil {
			return automation.SymbolInfo{}, fmt.Errorf("%s: %v", f.key, err)
		}
		if v.IsNegative() || (f.positive && v.IsZero()) {
			return automation.SymbolInfo{}, fmt.Errorf("%s: must be greater than 0, got %s", f.key, v)
		}
		*f.into = v
	}
	if !info.MinQuantity.Mod(info.QuantityStep).IsZero() {
		return automation.SymbolInfo{}, fmt.Errorf("min_quantity %s is not a multiple of quantity_step %s", info.MinQuantity, info.QuantityStep)
	}
	return info, nil
}

// checkQuote refuses a price no order could trade at.
func checkQuote(info automation.SymbolInfo, price decimal.Decimal) error {
	if !price.IsPositive() {
		return fmt.Errorf("a price must be greater than 0, got %s", price)
	}
	if !price.Mod(info.PriceTick).IsZero() {
		return fmt.Errorf("price %s of %s is not a multiple of its price_tick %s", price, info.Symbol, info.PriceTick)
	}
	return nil
}

var assetName = regexp.MustCompile(`^[A-Z0-9]{1,20}$`)

// maxDecimalLen bounds a decimal's text: prices and quantities of any
// venue fit, and products of them stay cheap.
const maxDecimalLen = 40

// parseDecimal reads a decimal given as a TOML or JSON string in plain
// notation ("65000.10") or as a number. A float is read back in its
// shortest form (65000.1), which is what was written for every value a
// venue uses; strings are exact whatever their length.
func parseDecimal(raw any) (decimal.Decimal, error) {
	switch v := raw.(type) {
	case string:
		return parseDecimalString(v)
	case int64:
		return decimal.NewFromInt(v), nil
	case int:
		return decimal.NewFromInt(int64(v)), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return decimal.Decimal{}, fmt.Errorf("%v is not a decimal", v)
		}
		return parseDecimalString(strconv.FormatFloat(v, 'f', -1, 64))
	}
	return decimal.Decimal{}, fmt.Errorf("want a decimal as a string such as \"65000.10\" or a number, got %T", raw)
}

// plainDecimal is a decimal in plain notation: no exponent, no sign but a
// leading minus, no spaces.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

func parseDecimalString(s string) (decimal.Decimal, error) {
	if len(s) > maxDecimalLen {
		return decimal.Decimal{}, fmt.Errorf("a decimal of %d characters is longer than %d", len(s), maxDecimalLen)
	}
	if !plainDecimal.MatchString(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal in plain notation such as \"65000.10\"", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal: %v", s, err)
	}
	return d, nil
}

func optionError(key, format string, args ...any) error {
	return fmt.Errorf("paper option %s: %s", key, fmt.Sprintf(format, args...))
}
