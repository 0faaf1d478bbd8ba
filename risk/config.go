package risk

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Limits are one [risk] or [[risk]] table of config.toml. A nil field is a
// limit not set there; Terminal "" applies to every terminal, and a
// terminal's own table overrides it field by field.
type Limits struct {
	Terminal string

	MaxOrderNotional     *decimal.Decimal
	MaxDailyBuyNotional  *decimal.Decimal
	MaxDailySellNotional *decimal.Decimal
	MaxOrdersPerMinute   *int64
	MaxOrdersPerDay      *int64
	MaxPosition          *decimal.Decimal
	PriceCollarPercent   *decimal.Decimal
	// Allow, when set, lists the only codes/symbols that may be traded;
	// Deny those that may not.
	Allow []string
	Deny  []string
	// TradingHours: "auto" (the default: A-share sessions for an A-share
	// terminal, always for an exchange), "a_share", "always", or sessions.
	TradingHours *Hours
	// Holidays are dates (YYYY-MM-DD, in the hours' zone) without trading.
	Holidays []string
}

// The keys a risk table takes, for the error that names a wrong one.
var limitKeys = []string{"terminal", "max_order_notional", "max_daily_buy_notional", "max_daily_sell_notional",
	"max_orders_per_minute", "max_orders_per_day", "max_position", "price_collar_percent", "allow", "deny",
	"trading_hours", "trading_days", "holidays"}

// ParseConfig reads the risk key of config.toml as a TOML decoder gives it
// for a field of type any: one table ([risk], for every terminal) or an
// array of tables ([[risk]], each for the terminal it names, or for every
// terminal without one). nil (no key) is no limits. An error names the key.
func ParseConfig(v any) ([]Limits, error) {
	var tables []map[string]any
	var names []string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		tables, names = []map[string]any{x}, []string{"risk"}
	case []any:
		for i, t := range x {
			m, ok := t.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("risk[%d] is not a table: write [[risk]] with its keys", i)
			}
			tables = append(tables, m)
			names = append(names, fmt.Sprintf("risk[%d]", i))
		}
	case []map[string]any:
		tables = x
		for i := range x {
			names = append(names, fmt.Sprintf("risk[%d]", i))
		}
	default:
		return nil, errors.New("risk must be a table ([risk]) or an array of tables ([[risk]])")
	}
	out := make([]Limits, 0, len(tables))
	seen := map[string]string{}
	for i, t := range tables {
		l, err := parseLimits(names[i], t)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[l.Terminal]; dup {
			what := "every terminal"
			if l.Terminal != "" {
				what = fmt.Sprintf("terminal %q", l.Terminal)
			}
			return nil, fmt.Errorf("%s: %s already has limits in %s: merge them into one table", names[i], what, other)
		}
		seen[l.Terminal] = names[i]
		out = append(out, l)
	}
	return out, nil
}

func parseLimits(name string, t map[string]any) (Limits, error) {
	var l Limits
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors do not depend on a map's order
	var days string
	for _, k := range keys {
		v := t[k]
		key := name + "." + k
		var err error
		switch k {
		case "terminal":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				err = errors.New("must be the name of a configured terminal")
			}
			l.Terminal = s
		case "max_order_notional":
			l.MaxOrderNotional, err = positiveAmount(v)
		case "max_daily_buy_notional":
			l.MaxDailyBuyNotional, err = positiveAmount(v)
		case "max_daily_sell_notional":
			l.MaxDailySellNotional, err = positiveAmount(v)
		case "max_position":
			l.MaxPosition, err = positiveAmount(v)
		case "price_collar_percent":
			if l.PriceCollarPercent, err = positiveAmount(v); err == nil && l.PriceCollarPercent.GreaterThanOrEqual(decimal.NewFromInt(100)) {
				err = errors.New("must be a percentage below 100, such as 5")
			}
		case "max_orders_per_minute":
			l.MaxOrdersPerMinute, err = positiveCount(v)
		case "max_orders_per_day":
			l.MaxOrdersPerDay, err = positiveCount(v)
		case "allow":
			l.Allow, err = symbols(v)
		case "deny":
			l.Deny, err = symbols(v)
		case "trading_hours":
			l.TradingHours, err = parseHours(v)
		case "trading_days":
			s, ok := v.(string)
			if !ok || (s != "weekdays" && s != "every_day") {
				err = errors.New(`must be "weekdays" or "every_day"`)
			}
			days = s
		case "holidays":
			l.Holidays, err = dates(v)
		default:
			err = fmt.Errorf("unknown key (a risk table takes %s)", strings.Join(limitKeys, ", "))
		}
		if err != nil {
			return Limits{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if days != "" {
		if l.TradingHours == nil || len(l.TradingHours.Sessions) == 0 {
			return Limits{}, fmt.Errorf("%s.trading_days: applies only to trading_hours given as sessions, such as [\"09:30-11:30\"]", name)
		}
		l.TradingHours.Weekdays = days == "weekdays"
	}
	return l, nil
}

func positiveAmount(v any) (*decimal.Decimal, error) {
	var d decimal.Decimal
	switch x := v.(type) {
	case int64:
		d = decimal.NewFromInt(x)
	case float64:
		if x != x || x > 1e15 || x < -1e15 {
			return nil, errors.New("must be a positive number")
		}
		d = decimal.NewFromFloat(x)
	case string:
		var err error
		if d, err = decimal.NewFromString(strings.TrimSpace(x)); err != nil {
			return nil, errors.New("must be a positive number")
		}
	default:
		return nil, errors.New("must be a positive number")
	}
	if !d.IsPositive() {
		return nil, errors.New("must be a positive number")
	}
	return &d, nil
}

func positiveCount(v any) (*int64, error) {
	n, ok := v.(int64)
	if !ok || n <= 0 {
		return nil, errors.New("must be a positive integer")
	}
	return &n, nil
}

func symbols(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New(`must be a list of codes or symbols, such as ["600000", "BTCUSDT"]`)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, errors.New("must be a list of codes or symbols, each a non-empty string (codes are strings: \"600000\")")
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, nil
}

// dates reads holidays: strings YYYY-MM-DD, or TOML local dates (whose
// String is that form).
func dates(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New(`must be a list of dates, such as ["2026-10-01"]`)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		var s string
		switch d := x.(type) {
		case string:
			s = d
		case fmt.Stringer:
			s = d.String()
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("%v is not a date YYYY-MM-DD", x)
		}
		out = append(out, s)
	}
	return out, nil
}

// Rules are one terminal's limits in effect: the limits for every terminal
// overlaid with its own.
type Rules struct {
	Limits
	Hours Hours
	// holidays, as a set.
	holidays map[string]bool
}

// Family says which trading hours "auto" means.
type Family int

const (
	StockFamily    Family = iota // A-share sessions
	ExchangeFamily               // always open
)

// Resolve gives terminal's rules from every table, or nil when no table
// applies to it.
func Resolve(all []Limits, terminal string, family Family) *Rules {
	var base, own *Limits
	for i := range all {
		switch all[i].Terminal {
		case "":
			base = &all[i]
		case terminal:
			own = &all[i]
		}
	}
	if base == nil && own == nil {
		return nil
	}
	var l Limits
	for _, src := range []*Limits{base, own} {
		if src == nil {
			continue
		}
		overlay(&l, src)
	}
	l.Terminal = terminal
	r := &Rules{Limits: l, holidays: map[string]bool{}}
	switch {
	case l.TradingHours == nil || l.TradingHours.Preset == "auto":
		if family == StockFamily {
			r.Hours = AShareHours()
		} else {
			r.Hours = AlwaysOpen()
		}
	default:
		r.Hours = *l.TradingHours
	}
	for _, d := range l.Holidays {
		r.holidays[d] = true
	}
	return r
}

func overlay(dst, src *Limits) {
	set := func(d **decimal.Decimal, s *decimal.Decimal) {
		if s != nil {
			*d = s
		}
	}
	set(&dst.MaxOrderNotional, src.MaxOrderNotional)
	set(&dst.MaxDailyBuyNotional, src.MaxDailyBuyNotional)
	set(&dst.MaxDailySellNotional, src.MaxDailySellNotional)
	set(&dst.MaxPosition, src.MaxPosition)
	set(&dst.PriceCollarPercent, src.PriceCollarPercent)
	if src.MaxOrdersPerMinute != nil {
		dst.MaxOrdersPerMinute = src.MaxOrdersPerMinute
	}
	if src.MaxOrdersPerDay != nil {
		dst.MaxOrdersPerDay = src.MaxOrdersPerDay
	}
	if src.Allow != nil {
		dst.Allow = slices.Clone(src.Allow)
	}
	if src.Deny != nil {
		dst.Deny = slices.Clone(src.Deny)
	}
	if src.TradingHours != nil {
		dst.TradingHours = src.TradingHours
	}
	if src.Holidays != nil {
		dst.Holidays = slices.Clone(src.Holidays)
	}
}
