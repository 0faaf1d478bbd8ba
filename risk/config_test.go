package risk

import (
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func parseTOML(t testing.TB, text string) ([]Limits, error) {
	t.Helper()
	var doc map[string]any
	if err := toml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	return ParseConfig(doc["risk"])
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"none", ``, ""},
		{"one table for all", "[risk]\nmax_order_notional = 100000\nmax_orders_per_minute = 30\nallow = [\"600000\"]\nholidays = [\"2026-10-01\", 2026-10-02]", ""},
		{"per terminal", "[[risk]]\nmax_orders_per_day = 100\n[[risk]]\nterminal = \"sim\"\nmax_orders_per_day = 10\ntrading_hours = [\"09:30-11:30\"]\ntrading_days = \"every_day\"", ""},
		{"unknown key", "[risk]\nmax_notional = 1", "risk.max_notional: unknown key"},
		{"negative", "[risk]\nmax_order_notional = -1", "risk.max_order_notional: must be a positive number"},
		{"zero count", "[risk]\nmax_orders_per_day = 0", "risk.max_orders_per_day: must be a positive integer"},
		{"fractional count", "[risk]\nmax_orders_per_day = 1.5", "risk.max_orders_per_day: must be a positive integer"},
		{"code as number", "[risk]\nallow = [600000]", "risk.allow: must be a list"},
		{"collar 100", "[risk]\nprice_collar_percent = 100", "risk.price_collar_percent: must be a percentage below 100"},
		{"bad session", "[risk]\ntrading_hours = [\"11:30-09:30\"]", "ends before it starts"},
		{"bad preset", "[risk]\ntrading_hours = \"weekdays\"", "risk.trading_hours: must be"},
		{"bad date", "[risk]\nholidays = [\"2026-13-01\"]", "risk.holidays: 2026-13-01 is not a date"},
		{"trading_days without sessions", "[risk]\ntrading_days = \"weekdays\"", "trading_days: applies only"},
		{"two for one terminal", "[[risk]]\nterminal = \"sim\"\n[[risk]]\nterminal = \"sim\"", "risk[1]: terminal \"sim\" already has limits in risk[0]"},
		{"two for all", "[[risk]]\n[[risk]]", "risk[1]: every terminal already has limits"},
		{"risk not a table", "risk = 3", "risk must be a table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTOML(t, tt.text)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolveOverlaysTheTerminalsOwnTable(t *testing.T) {
	all, err := parseTOML(t, "[[risk]]\nmax_orders_per_day = 100\nmax_order_notional = 5000\n[[risk]]\nterminal = \"sim\"\nmax_orders_per_day = 10\ntrading_hours = \"always\"")
	if err != nil {
		t.Fatal(err)
	}
	sim := Resolve(all, "sim", StockFamily)
	if *sim.MaxOrdersPerDay != 10 || sim.MaxOrderNotional.String() != "5000" || sim.Hours.Preset != "always" {
		t.Fatalf("sim rules %+v", sim)
	}
	other := Resolve(all, "other", StockFamily)
	if *other.MaxOrdersPerDay != 100 || other.Hours.Preset != "a_share" {
		t.Fatalf("other rules %+v", other)
	}
	if ex := Resolve(all, "ex", ExchangeFamily); ex.Hours.Preset != "always" {
		t.Fatalf("an exchange's auto hours: %+v", ex.Hours)
	}
	if Resolve(nil, "sim", StockFamily) != nil {
		t.Fatal("rules without any table")
	}
}

// FuzzParseConfig feeds TOML to the rule parser: it never panics, and what
// it accepts resolves to limits that are all positive.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"[risk]\nmax_order_notional = 100000\nmax_orders_per_minute = 30",
		"[[risk]]\nterminal = \"sim\"\ntrading_hours = [\"09:30-11:30\", \"13:00-15:00\"]\nholidays = [2026-10-01]",
		"[risk]\nallow = [\"600000\"]\ndeny = [\"000001\"]\nprice_collar_percent = 2.5",
		"[risk]\ntrading_hours = [\"00:00-24:00\"]\ntrading_days = \"every_day\"",
		"risk = [1, 2]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var doc map[string]any
		if toml.Unmarshal([]byte(text), &doc) != nil {
			return
		}
		all, err := ParseConfig(doc["risk"])
		if err != nil {
			return
		}
		for _, l := range all {
			r := Resolve(all, l.Terminal, StockFamily)
			for _, d := range []*Limits{&r.Limits} {
				if d.MaxOrderNotional != nil && !d.MaxOrderNotional.IsPositive() ||
					d.MaxOrdersPerDay != nil && *d.MaxOrdersPerDay <= 0 ||
					d.PriceCollarPercent != nil && !d.PriceCollarPercent.IsPositive() {
					t.Fatalf("accepted a limit that is not positive: %+v", d)
				}
			}
			for _, s := range r.Hours.Sessions {
				if s.Start < 0 || s.End > 24*60 || s.End <= s.Start {
					t.Fatalf("accepted session %v", s)
				}
			}
		}
	})
}
