package sim

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Options configure a sim terminal: the [terminals.options] table of a
// [[terminals]] entry with driver = "sim".
//
// Decode the table into DefaultOptions(), not into a zero Options, so that
// absent keys keep their defaults (go-toml leaves absent fields as they
// are). Validate reports the first bad value; New calls it.
//
// initial_cash, positions and quotes seed a new account only: once the
// ledger holds an account, it wins over them, and prices are moved with
// SetQuote. Everything else applies at every start.
type Options struct {
	// InitialCash is the cash of a new account, in CNY (default 1000000).
	InitialCash float64 `toml:"initial_cash"`
	// Latency is the emulated time each terminal action takes, such as
	// "50ms" (default "0s"). The wait honours the action's context.
	Latency Duration `toml:"latency"`
	// Quotes are last prices by 6-digit code; the price process starts
	// from them and they are the previous close of the first day. Codes
	// not listed start from a price derived from the code.
	Quotes map[string]float64 `toml:"quotes"`
	// Positions are holdings of a new account by code: sellable at once
	// (bought before today), at a cost of the code's starting price.
	Positions map[string]int64 `toml:"positions"`
	// Volatility is the daily standard deviation of the price's log
	// return (default 0.02, 2% a day); 0 keeps every price at its quote,
	// for deterministic paper trading.
	Volatility float64 `toml:"volatility"`
	// Seed selects the random walk: the same seed and clock give the same
	// prices (default 0).
	Seed int64 `toml:"seed"`
	// CommissionRate is the broker's commission on the traded amount, both
	// sides (default 0.00025, i.e. 0.025%).
	CommissionRate float64 `toml:"commission_rate"`
	// MinCommission is the least commission per fill in CNY (default 5).
	MinCommission float64 `toml:"min_commission"`
	// StampDutyRate is charged on sells of stocks (default 0.0005).
	StampDutyRate float64 `toml:"stamp_duty_rate"`
	// TransferFeeRate is the exchanges' transfer fee on stocks, both sides
	// (default 0.00001).
	TransferFeeRate float64 `toml:"transfer_fee_rate"`
	// RepoRates override the annual reverse repo rates, in percent, by
	// code: { "204001" = 1.85 } is GC001 at 1.85%. The codes are 204001,
	// 204002, 204003, 204004, 204007 (上海) and 131810, 131811, 131800,
	// 131809, 131801 (深圳); codes not listed keep their default rate.
	RepoRates map[string]float64 `toml:"repo_rates"`
	// Faults are injected at start, as Inject would:
	// faults = [{ kind = "reject", operation = "buy", count = 2 }].
	Faults []Fault `toml:"faults"`
}

// DefaultOptions returns the options of a sim terminal configured with
// nothing but its name.
func DefaultOptions() Options {
	return Options{
		InitialCash:     1_000_000,
		Volatility:      0.02,
		CommissionRate:  0.00025,
		MinCommission:   5,
		StampDutyRate:   0.0005,
		TransferFeeRate: 0.00001,
	}
}

// Validate reports the first option that cannot work, naming it.
func (o Options) Validate() error {
	if _, err := yuanToCents(o.InitialCash); err != nil || o.InitialCash < 0 {
		return optionError("initial_cash", "must be an amount of CNY ≥ 0 with at most 2 decimals, got %v", o.InitialCash)
	}
	if o.Latency < 0 {
		return optionError("latency", "must not be negative, got %s", o.Latency)
	}
	for _, code := range slices.Sorted(maps.Keys(o.Quotes)) {
		in, err := classifyTradable(code)
		if err != nil {
			return optionError("quotes", "%v", err)
		}
		if _, err := in.parsePrice(o.Quotes[code]); err != nil {
			return optionError("quotes", "%s: %v", code, err)
		}
	}
	for _, code := range slices.Sorted(maps.Keys(o.Positions)) {
		if _, err := classifyTradable(code); err != nil {
			return optionError("positions", "%v", err)
		}
		if q := o.Positions[code]; q <= 0 || q > maxQuantity {
			return optionError("positions", "%s: quantity must be between 1 and %d, got %d", code, maxQuantity, q)
		}
	}
	if math.IsNaN(o.Volatility) || o.Volatility < 0 || o.Volatility > 0.2 {
		return optionError("volatility", "must be a daily volatility between 0 and 0.2, got %v", o.Volatility)
	}
	for _, r := range []struct {
		key  string
		rate float64
	}{
		{"commission_rate", o.CommissionRate},
		{"stamp_duty_rate", o.StampDutyRate},
		{"transfer_fee_rate", o.TransferFeeRate},
	} {
		if math.IsNaN(r.rate) || r.rate < 0 || r.rate >= 0.01 {
			return optionError(r.key, "must be a fraction of the amount in [0, 0.01), such as 0.00025, got %v", r.rate)
		}
	}
	if c, err := yuanToCents(o.MinCommission); err != nil || c < 0 || c > 1000*centsPerYuan {
		return optionError("min_commission", "must be an amount of CNY between 0 and 1000 with at most 2 decimals, got %v", o.MinCommission)
	}
	for _, code := range slices.Sorted(maps.Keys(o.RepoRates)) {
		if _, ok := repoProductByCode(code); !ok {
			return optionError("repo_rates", "%q is not a reverse repo code; use one of %v", code, repoCodes())
		}
		if r := o.RepoRates[code]; math.IsNaN(r) || r < 0 || r > 100 {
			return optionError("repo_rates", "%s: the rate is a percentage between 0 and 100, got %v", code, r)
		}
	}
	for i, f := range o.Faults {
		if err := f.Validate(); err != nil {
			return optionError(fmt.Sprintf("faults[%d]", i), "%v", err)
		}
	}
	return nil
}

func optionError(key, format string, args ...any) error {
	return fmt.Errorf("sim option %s: %s", key, fmt.Sprintf(format, args...))
}

func (o Options) fees() feeSchedule {
	c, _ := yuanToCents(o.MinCommission)
	return feeSchedule{
		commissionRate: rateUnits(o.CommissionRate),
		minCommission:  c,
		stampDutyRate:  rateUnits(o.StampDutyRate),
		transferRate:   rateUnits(o.TransferFeeRate),
	}
}

// Duration is a time.Duration written as a string in TOML and JSON: "0s",
// "50ms", "1m30s".
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New(`empty duration: write "0s" for none`)
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf(`%q is not a duration such as "50ms" or "2s"`, b)
	}
	*d = Duration(v)
	return nil
}
