package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/paper"
)

// paperExample is the paper terminal of the config example, through the
// real config reader and opener table: numbers and strings as decimals,
// the symbols table, strict keys.
const paperExample = `
[[terminals]]
name = "paper"
driver = "paper"
[terminals.options]
quotes = { BTCUSDT = "65000.00", ETHUSDT = 3500.25 }
balances = { USDT = "10000" }
leverage = 5
taker_fee = "0.0004"
maker_fee = "0.0002"
latency = "0s"
[terminals.options.symbols.SOLUSDT]
price_tick = "0.010"
quantity_step = "1"
min_quantity = "1"
min_notional = 5
`

func TestPaperTerminalFromConfig(t *testing.T) {
	env := terminalEnv{log: slog.New(slog.DiscardHandler)}
	cfg, err := parseConfig([]byte(paperExample))
	if err != nil {
		t.Fatal(err)
	}
	terms, err := openTerminals(context.Background(), cfg.Terminals, env)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := terms[0].(*paper.Terminal)
	if !ok || p.Driver() != "paper" || !p.Supports(automation.OpPlaceOrder) {
		t.Fatalf("terminal %T", terms[0])
	}
	if q, ok := p.Quote("ETHUSDT"); !ok || q.String() != "3500.25" {
		t.Errorf("ETHUSDT quote %s, %v", q, ok)
	}
	if info, ok := p.CachedSymbol("SOLUSDT"); !ok || info.QuantityStep.String() != "1" || info.QuoteAsset != "USDT" {
		t.Errorf("SOLUSDT rules %+v, %v", info, ok)
	}

	cfg, err = parseConfig([]byte(strings.Replace(paperExample, "balances", "balance", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openTerminals(context.Background(), cfg.Terminals, env); err == nil || !strings.Contains(err.Error(), "options.balance") {
		t.Errorf("a mistyped key: %v", err)
	}
}
