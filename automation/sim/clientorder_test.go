package sim

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// A client order id names its order for ClientOrderIDLifetime (24h), as
// long as brokerd remembers an idempotency key: a retry within it replays
// the order, across midnight too (from the archive); a reuse after it is a
// new order, which the id names from then on, both among today's orders
// and in the archive. Each backend keeps the archive its own way.
func TestClientOrderIDLifetime(t *testing.T) {
	backends := []struct {
		name   string
		ledger func(t *testing.T) Ledger // nil: no ledger, no restart
	}{
		{"memory", nil},
		{"ledger", func(*testing.T) Ledger { return newMemLedger() }},
		{"store", func(t *testing.T) Ledger { return openStore(t) }},
	}
	steps := []struct {
		at       string
		quantity int64
		restart  bool   // restart the terminal on its ledger first
		want     string // the contract number answered; "" = rejected
		why      string
	}{
		{"2026-01-05 10:00", 100, false, "1", "the first use places an order"},
		{"2026-01-06 09:59", 100, false, "1", "23h59m later, across midnight: a retry, answered from the archive"},
		{"2026-01-06 10:00", 100, false, "2", "24h later: a new order"},
		{"2026-01-06 10:00", 100, false, "2", "again: the new order, from today's, not the archived first"},
		{"2026-01-06 15:30", 100, true, "2", "after a restart: still the new order"},
		{"2026-01-06 15:30", 200, false, "", "another order under the id within its 24h: rejected"},
		{"2026-01-07 09:59", 100, false, "2", "23h59m after the second: the second, the newest in the archive"},
		{"2026-01-07 09:59", 100, true, "2", "after a restart: the archive still answers the second"},
		{"2026-01-07 10:00", 100, false, "3", "24h after the second: a new order"},
	}
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			clk := newClock(steps[0].at)
			opts := paper(map[string]float64{"600000": 10})
			var ledger Ledger
			if backend.ledger != nil {
				ledger = backend.ledger(t)
			}
			open := func() *Terminal {
				s, err := newChecked(t, opts, Deps{Now: clk.Now, Ledger: ledger})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := open()
			for _, step := range steps {
				clk.Set(step.at)
				if step.restart {
					if ledger == nil {
						continue // nothing survives a restart in memory
					}
					s = open()
				}
				req := market("600000", automation.Buy, step.quantity)
				req.ClientOrderID = "buy-600000-daily"
				o, err := s.PlaceOrder(ctx, req)
				if step.want == "" {
					wantCode(t, err, automation.CodeRejected)
					if !strings.Contains(err.Error(), "合同编号 2") {
						t.Errorf("%s %s: %v does not name the order the id names", step.at, step.why, err)
					}
					continue
				}
				if err != nil || o.ContractNo != step.want || o.ClientOrderID != req.ClientOrderID {
					t.Errorf("%s %s: got %+v, %v; want contract %s", step.at, step.why, o, err, step.want)
				}
			}
			if h := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})); !slices.Equal(h, []string{"1", "2", "3"}) {
				t.Errorf("orders placed: %v, want [1 2 3]", h)
			}
			if p, _ := mustPosition(t, s, "600000"); p.Quantity != 300 {
				t.Errorf("600000 held: %d shares, want 300 (three orders of 100)", p.Quantity)
			}
		})
	}
}
