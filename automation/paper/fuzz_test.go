package paper

import (
	"testing"

	"github.com/shopspring/decimal"
)

// Any options text decodes or fails with an error, never a panic, and a
// configuration that decodes is one the exchange can open on: quotes on
// the tick, rules positive, balances not negative.
func FuzzOptions(f *testing.F) {
	for _, seed := range []string{
		standard,
		`quotes = { BTCUSDT = 65000.1, ETHUSDT = "3000" }`,
		"leverage = 20\ntaker_fee = \"0.0004\"\nlatency = \"5ms\"",
		"[symbols.SOLUSDT]\nprice_tick = \"0.001\"\nquantity_step = 1\nmin_quantity = 1",
		"[symbols.XAUT]\nbase_asset = \"XAU\"\nquote_asset = \"USDT\"",
		`quotes = { BTCUSDT = "1e5" }`,
		`balances = { USDT = -0.0 }`,
		`quotes = { BTCUSDT = inf }`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseOptions(tomlOptions(text))
		if err != nil {
			return
		}
		for symbol, q := range c.Quotes {
			info, ok := c.Symbols[symbol]
			if !ok || !q.IsPositive() || !q.Mod(info.PriceTick).IsZero() {
				t.Fatalf("quote %s %s accepted with rules %+v", symbol, q, info)
			}
		}
		for symbol, info := range c.Symbols {
			if !info.PriceTick.IsPositive() || !info.QuantityStep.IsPositive() || info.MinNotional.IsNegative() || info.QuoteAsset == "" || info.BaseAsset == "" {
				t.Fatalf("rules of %s accepted: %+v", symbol, info)
			}
		}
		for asset, b := range c.Balances {
			if b.IsNegative() {
				t.Fatalf("balance %s %s accepted", asset, b)
			}
		}
		if _, err := New(ctx, "paper", c, envWithoutLedger()); err != nil {
			t.Fatalf("options accepted but New fails: %v", err)
		}
	})
}

// A decimal string parses to the value it spells, which prints back as
// the same number; anything else is an error.
func FuzzParseDecimal(f *testing.F) {
	for _, seed := range []string{"65000.10", "0.001", "-3", "1e3", " 1", "1.", ".5", "00012.50", "NaN", "0x10", "1_000"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseDecimal(s)
		if err != nil {
			return
		}
		if !plainDecimal.MatchString(s) {
			t.Fatalf("%q accepted, not plain notation", s)
		}
		again, err := decimal.NewFromString(v.String())
		if err != nil || !again.Equal(v) {
			t.Fatalf("%q → %s → %s, %v", s, v, again, err)
		}
		// The float path reads a number back in its shortest form.
		if f, _ := v.Float64(); len(s) < 16 {
			w, err := parseDecimal(f)
			if err != nil || w.Sub(v).Abs().GreaterThan(v.Abs().Mul(decimal.New(1, -14))) {
				t.Fatalf("%q as the number %v → %s, %v", s, f, w, err)
			}
		}
	})
}
