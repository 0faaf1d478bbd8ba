package sim

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// testdata/ledger_v2.json was saved by the version-2 ledger (commit
// 84f44d0), which kept today's finished orders, trades and ended condition
// orders in the state, after a Monday morning of trading (nothing was
// archived yet); ledger_v2_views.json holds what that build showed of it
// on Monday at 11:00 and on Wednesday at 10:00. This build loads it, moves
// what has finished to the archive, and shows the same, on the sim's
// memory ledger and on the store.
func TestLedgerVersion2IsUpgraded(t *testing.T) {
	raw, err := os.ReadFile("testdata/ledger_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	viewsJSON, err := os.ReadFile("testdata/ledger_v2_views.json")
	if err != nil {
		t.Fatal(err)
	}
	var views map[string]snapshot
	if err := json.Unmarshal(viewsJSON, &views); err != nil {
		t.Fatal(err)
	}
	ledgers := map[string]func(t *testing.T) Ledger{
		"memory ledger": func(*testing.T) Ledger { return newMemLedger() },
		"store":         func(t *testing.T) Ledger { return openStore(t) },
	}
	for name, open := range ledgers {
		t.Run(name, func(t *testing.T) {
			ledger := open(t)
			if err := ledger.SaveLedger(ctx, "sim", raw); err != nil {
				t.Fatal(err)
			}
			clk := newClock("2026-01-05 11:00")
			s := newSim(t, paper(nil), clk, ledger)

			stored, err := ledger.LoadLedger(ctx, "sim")
			if err != nil {
				t.Fatal(err)
			}
			var env envelope
			if err := json.Unmarshal(stored, &env); err != nil || env.Version != ledgerVersion {
				t.Fatalf("saved version %d (%v), want %d", env.Version, err, ledgerVersion)
			}
			st, err := decodeState(env.State)
			if err != nil {
				t.Fatal(err)
			}
			wantState := map[string][]string{kindOrder: {"3"}, kindCondition: {"2"}, kindLoan: {"4"}}
			if got := stateIDs(st); !reflect.DeepEqual(got, wantState) {
				t.Errorf("the state holds %v, want %v", got, wantState)
			}
			wantArchive := map[string][]string{kindOrder: {"1", "2", "5", "6"}, kindTrade: {"1", "5", "6"}, kindCondition: {"1", "3"}, kindLoan: nil}
			for kind, want := range wantArchive {
				if got := archivedNumbers(t, ledger, kind); !slices.Equal(got, want) {
					t.Errorf("archived %s: %v, want %v", kind, got, want)
				}
			}
			wantArchivedKey(t, ledger, map[string]string{"v2-a": "1", "v2-c": "6"})

			if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-05 11:00"]) {
				t.Errorf("the upgraded account differs from what version 2 showed:\ngot  %+v\nwant %+v", got, views["2026-01-05 11:00"])
			}
			s = newSim(t, paper(nil), clk, ledger)
			if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-05 11:00"]) {
				t.Errorf("after a restart:\ngot  %+v\nwant %+v", got, views["2026-01-05 11:00"])
			}
			// Today's finished orders are today's after the restart:
			// their client order ids name them, and they cannot be
			// cancelled because they ended, not because they are past.
			retry := market("600000", automation.Buy, 500)
			retry.ClientOrderID = "v2-a"
			if o := mustPlace(t, s, retry); o.ContractNo != "1" {
				t.Errorf("retry of v2-a = %+v, want order 1", o)
			}
			_, err = s.CancelOrders(ctx, automation.CancelRequest{ContractNo: "6"})
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), automation.OrderFilled) {
				t.Errorf("cancelling today's filled order 6: %v", err)
			}

			clk.Set("2026-01-07 10:00")
			if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-07 10:00"]) {
				t.Errorf("two days later:\ngot  %+v\nwant %+v", got, views["2026-01-07 10:00"])
			}
			// Order 3 ended at Monday's close, loan 4 was paid on
			// Tuesday; condition order 2 watches until Friday.
			want := map[string][]string{kindCondition: {"2"}}
			if got := stateIDs(savedStateOf(t, ledger)); !reflect.DeepEqual(got, want) {
				t.Errorf("two days later the state holds %v, want %v", got, want)
			}
		})
	}
}

// archivedNumbers lists the numbers (contract numbers, condition order
// ids) of the archived records of kind, by day and then in archive order.
func archivedNumbers(t *testing.T, l Ledger, kind string) []string {
	t.Helper()
	bodies, err := l.LoadLedgerArchive(ctx, "sim", kind, dayOf(at("2025-01-01 00:00")).start())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range bodies {
		var rec struct {
			ContractNo string `json:"contract_no"`
			ID         string `json:"id"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		if kind == kindCondition {
			ids = append(ids, rec.ID)
		} else {
			ids = append(ids, rec.ContractNo)
		}
	}
	return ids
}

// savedStateOf decodes the state the ledger holds.
func savedStateOf(t *testing.T, l Ledger) *state {
	t.Helper()
	raw, err := l.LoadLedger(ctx, "sim")
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(env.State)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A save that fails leaves today's orders as they were saved: an order
// placed is gone, one cancelled or filled is open again, and its client
// order id names what it named before.
func TestFailedSaveRestoresTodaysOrders(t *testing.T) {
	tests := []struct {
		name string
		act  func(s *Terminal, clk *clock) error
	}{
		{"marketable buy", func(s *Terminal, _ *clock) error {
			req := market("600000", automation.Buy, 100)
			req.ClientOrderID = "new"
			_, err := s.PlaceOrder(ctx, req)
			return err
		}},
		{"resting buy", func(s *Terminal, _ *clock) error {
			req := limit("600000", automation.Buy, 9.00, 100)
			req.ClientOrderID = "new"
			_, err := s.PlaceOrder(ctx, req)
			return err
		}},
		{"cancel", func(s *Terminal, _ *clock) error {
			_, err := s.CancelOrders(ctx, automation.CancelRequest{ContractNo: "2"})
			return err
		}},
		{"fill by a quote", func(s *Terminal, _ *clock) error {
			return s.SetQuote("600000", 9.40)
		}},
		{"end of the day", func(s *Terminal, clk *clock) error {
			clk.Set("2026-01-06 10:00")
			_, err := s.Funds(ctx)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ledger := newMemLedger()
			clk := newClock("2026-01-05 10:00")
			s := newSim(t, paper(map[string]float64{"600000": 10}), clk, ledger)
			filled := market("600000", automation.Buy, 100)
			filled.ClientOrderID = "filled"
			mustPlace(t, s, filled) // 1
			resting := limit("600000", automation.Buy, 9.50, 100)
			resting.ClientOrderID = "resting"
			mustPlace(t, s, resting) // 2
			before := snap(t, s)

			ledger.failWith(errDiskFull)
			err := tt.act(s, clk)
			wantCode(t, err, automation.CodeInternal)
			ledger.failWith(nil)
			clk.Set("2026-01-05 10:00")
			if got := snap(t, s); !reflect.DeepEqual(got, before) {
				t.Errorf("after the failed save:\ngot  %+v\nwant %+v", got, before)
			}
			s.mu.Lock()
			named := map[string]string{}
			for id, o := range s.day.byClientID {
				named[id] = o.ContractNo + ":" + o.Status
			}
			s.mu.Unlock()
			want := map[string]string{"filled": "1:" + automation.OrderFilled, "resting": "2:" + automation.OrderPending}
			if !reflect.DeepEqual(named, want) {
				t.Errorf("client order ids name %v, want %v", named, want)
			}
			// The restored open order is the one the account acts on.
			if os, err := s.CancelOrders(ctx, automation.CancelRequest{ContractNo: "2"}); err != nil || len(os) != 1 {
				t.Fatalf("cancel of order 2 after the failure = %+v, %v", os, err)
			}
			if os := contractsOf(t)(s.Orders(ctx, "")); !slices.Equal(os, []string{"1", "2"}) {
				t.Errorf("today's orders = %v", os)
			}
			if o := mustOrder(t, s, "2"); o.Status != automation.OrderCancelled {
				t.Errorf("order 2 = %+v, want cancelled", o)
			}
		})
	}
}
