package paper

import (
	"strings"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    string
		wantErr string // "" = valid
		check   func(t *testing.T, c Config)
	}{
		{name: "empty: USDT 10000, leverage 1, no fees", opts: ``, check: func(t *testing.T, c Config) {
			wantDecimal(t, "USDT", c.Balances["USDT"], "10000")
			wantDecimal(t, "leverage", c.Leverage, "1")
			wantDecimal(t, "taker_fee", c.TakerFee, "0")
			if c.Latency != 0 || len(c.Quotes) != 0 {
				t.Errorf("config %+v", c)
			}
		}},
		{name: "strings and numbers", opts: `
quotes = { BTCUSDT = "65000.10", ETHUSDT = 3000.25, SOLUSDT = 150 }
balances = { USDT = 2500.5, BTC = "0.12345678" }
leverage = 10
taker_fee = "0.0004"
maker_fee = 0.0002
latency = "25ms"`, check: func(t *testing.T, c Config) {
			wantDecimal(t, "BTCUSDT", c.Quotes["BTCUSDT"], "65000.1")
			wantDecimal(t, "ETHUSDT", c.Quotes["ETHUSDT"], "3000.25")
			wantDecimal(t, "SOLUSDT", c.Quotes["SOLUSDT"], "150")
			wantDecimal(t, "USDT", c.Balances["USDT"], "2500.5")
			wantDecimal(t, "BTC", c.Balances["BTC"], "0.12345678")
			wantDecimal(t, "leverage", c.Leverage, "10")
			wantDecimal(t, "taker_fee", c.TakerFee, "0.0004")
			wantDecimal(t, "maker_fee", c.MakerFee, "0.0002")
			if c.Latency != 25*time.Millisecond {
				t.Errorf("latency %v", c.Latency)
			}
			if _, ok := c.Balances["USDT"]; !ok || len(c.Balances) != 2 {
				t.Errorf("balances %v: the default must not be added to configured ones", c.Balances)
			}
			if sol := c.Symbols["SOLUSDT"]; sol.BaseAsset != "SOL" || sol.QuoteAsset != "USDT" || !sol.MinNotional.Equal(d("5")) {
				t.Errorf("SOLUSDT rules %+v", sol)
			}
		}},
		{name: "BTCUSDT and ETHUSDT have Binance's rules", opts: `quotes = { BTCUSDT = "65000", ETHUSDT = "3000" }`, check: func(t *testing.T, c Config) {
			btc, eth := c.Symbols["BTCUSDT"], c.Symbols["ETHUSDT"]
			wantDecimal(t, "BTC tick", btc.PriceTick, "0.1")
			wantDecimal(t, "BTC min notional", btc.MinNotional, "100")
			wantDecimal(t, "ETH tick", eth.PriceTick, "0.01")
			wantDecimal(t, "ETH min notional", eth.MinNotional, "20")
			wantDecimal(t, "ETH step", eth.QuantityStep, "0.001")
		}},
		{name: "symbol rules override the defaults", opts: `
[symbols.BTCUSDT]
price_tick = "0.5"
min_notional = 5
[symbols.XAUT]
base_asset = "XAU"
quote_asset = "USDT"
quantity_step = "1"
min_quantity = "2"`, check: func(t *testing.T, c Config) {
			btc := c.Symbols["BTCUSDT"]
			wantDecimal(t, "BTC tick", btc.PriceTick, "0.5")
			wantDecimal(t, "BTC step (default)", btc.QuantityStep, "0.001")
			wantDecimal(t, "BTC min notional", btc.MinNotional, "5")
			if x := c.Symbols["XAUT"]; x.BaseAsset != "XAU" || x.QuoteAsset != "USDT" || !x.MinQuantity.Equal(d("2")) {
				t.Errorf("XAUT %+v", x)
			}
		}},
		{name: "unknown key", opts: `quote = { BTCUSDT = "1" }`, wantErr: "options.quote"},
		{name: "unknown symbol key", opts: "[symbols.BTCUSDT]\ntick = \"1\"", wantErr: "options.symbols.BTCUSDT.tick"},
		{name: "quote off the tick", opts: `quotes = { BTCUSDT = "65000.05" }`, wantErr: "quotes.BTCUSDT: price 65000.05 of BTCUSDT is not a multiple of its price_tick 0.1"},
		{name: "quote zero", opts: `quotes = { BTCUSDT = "0" }`, wantErr: "quotes.BTCUSDT: a price must be greater than 0"},
		{name: "quote in exponent notation", opts: `quotes = { BTCUSDT = "6.5e4" }`, wantErr: "quotes.BTCUSDT: \"6.5e4\" is not a decimal in plain notation"},
		{name: "quote a bool", opts: `quotes = { BTCUSDT = true }`, wantErr: "quotes.BTCUSDT: want a decimal"},
		{name: "quote nan", opts: `quotes = { BTCUSDT = nan }`, wantErr: "quotes.BTCUSDT: NaN is not a decimal"},
		{name: "unknown quote asset", opts: `quotes = { BTCXYZ = "1" }`, wantErr: "symbol BTCXYZ does not end in a known quote asset"},
		{name: "lower-case symbol", opts: `quotes = { btcusdt = "1" }`, wantErr: `"btcusdt" is not a symbol`},
		{name: "symbol without assets", opts: "[symbols.GOLD]\nprice_tick = \"1\"", wantErr: "symbols.GOLD: symbol GOLD does not end in a known quote asset (FDUSD, USDT, USDC, BUSD, BTC, ETH, BNB); or give base_asset and quote_asset"},
		{name: "zero tick", opts: "[symbols.BTCUSDT]\nprice_tick = 0", wantErr: "symbols.BTCUSDT: price_tick: must be greater than 0"},
		{name: "min quantity off the step", opts: "[symbols.BTCUSDT]\nmin_quantity = \"0.0015\"", wantErr: "min_quantity 0.0015 is not a multiple of quantity_step 0.001"},
		{name: "negative balance", opts: `balances = { USDT = "-1" }`, wantErr: "balances.USDT: a balance must not be negative"},
		{name: "bad asset", opts: `balances = { usdt = "1" }`, wantErr: `balances.usdt: "usdt" is not an asset name`},
		{name: "leverage 0", opts: `leverage = 0`, wantErr: "leverage: must be a whole number from 1 to 125"},
		{name: "leverage 2.5", opts: `leverage = 2.5`, wantErr: "leverage: must be a whole number from 1 to 125, got 2.5"},
		{name: "leverage 126", opts: `leverage = "126"`, wantErr: "leverage: must be a whole number from 1 to 125"},
		{name: "negative fee", opts: `taker_fee = "-0.0001"`, wantErr: "taker_fee: must be a fraction of the notional in [0, 0.1)"},
		{name: "fee of 10%", opts: `maker_fee = 0.1`, wantErr: "maker_fee: must be a fraction"},
		{name: "bad latency", opts: `latency = "soon"`, wantErr: `latency: "soon" is not a duration`},
		{name: "negative latency", opts: `latency = "-1s"`, wantErr: `latency: "-1s" is not a duration`},
		{name: "latency as a number", opts: `latency = 5`, wantErr: "latency"},
		{name: "a decimal too long", opts: `balances = { USDT = "1000000000000000000000000000000000000000000" }`, wantErr: "longer than 40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseOptions(tomlOptions(tt.opts))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
