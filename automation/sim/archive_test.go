package sim

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// archivedIDs lists the numbers (contract numbers, condition order ids)
// of the records of kind in the ledger's archive, in archive order.
func archivedIDs(t *testing.T, l *memLedger, kind string) []string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, r := range l.archive("sim").records {
		if r.Kind != kind {
			continue
		}
		var rec struct {
			ContractNo string `json:"contract_no"`
			ID         string `json:"id"`
		}
		if err := json.Unmarshal(r.Body, &rec); err != nil {
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

// savedState decodes what the ledger holds for the terminal.
func savedState(t *testing.T, l *memLedger) (int, *state) {
	t.Helper()
	l.mu.Lock()
	raw := l.data["sim"]
	l.mu.Unlock()
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(env.State)
	if err != nil {
		t.Fatal(err)
	}
	return env.Version, st
}

// stateIDs lists the numbers of the records the saved state holds.
func stateIDs(st *state) map[string][]string {
	ids := map[string][]string{}
	for _, o := range st.Orders {
		ids[kindOrder] = append(ids[kindOrder], o.ContractNo)
	}
	for _, c := range st.Conditions {
		ids[kindCondition] = append(ids[kindCondition], c.ID)
	}
	for _, l := range st.Loans {
		ids[kindLoan] = append(ids[kindLoan], l.ContractNo)
	}
	return ids
}

// contractsOf lists the contract numbers of what a query returned.
func contractsOf(t *testing.T) func([]automation.Order, error) []string {
	return func(os []automation.Order, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, o := range os {
			out = append(out, o.ContractNo)
		}
		return out
	}
}

// tradeContractsOf lists the contract numbers of the trades a query returned.
func tradeContractsOf(t *testing.T) func([]Trade, error) []string {
	return func(ts []Trade, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, tr := range ts {
			out = append(out, tr.ContractNo)
		}
		return out
	}
}

// testdata/ledger_v1.json was saved by the version-1 ledger (commit
// 128e1ba, before the archive), which kept the whole history in the state,
// and ledger_v1_views.json holds what that build showed of it at two
// instants. This build loads it, moves its history to the archive, and
// shows the same.
func TestLedgerVersion1IsUpgraded(t *testing.T) {
	raw, err := os.ReadFile("testdata/ledger_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	viewsJSON, err := os.ReadFile("testdata/ledger_v1_views.json")
	if err != nil {
		t.Fatal(err)
	}
	var views map[string]snapshot
	if err := json.Unmarshal(viewsJSON, &views); err != nil {
		t.Fatal(err)
	}
	ledger := newMemLedger()
	ledger.data["sim"] = raw
	clk := newClock("2026-01-07 11:00")
	s := newSim(t, paper(nil), clk, ledger)

	// Loading saved the current version, with every finished record in
	// the archive: the state keeps the open order, the watching condition
	// order and the unpaid loan.
	version, st := savedState(t, ledger)
	if version != ledgerVersion {
		t.Errorf("saved version %d, want %d", version, ledgerVersion)
	}
	wantState := map[string][]string{kindOrder: {"9"}, kindCondition: {"3"}, kindLoan: {"7"}}
	if got := stateIDs(st); !reflect.DeepEqual(got, wantState) {
		t.Errorf("the state holds %v, want %v", got, wantState)
	}
	wantArchive := map[string][]string{kindOrder: {"1", "2", "3", "5", "6", "8"}, kindTrade: {"1", "5", "6", "8"}, kindCondition: {"1", "2"}, kindLoan: {"4"}}
	for kind, want := range wantArchive {
		if got := archivedIDs(t, ledger, kind); !slices.Equal(got, want) {
			t.Errorf("archived %s: %v, want %v", kind, got, want)
		}
	}
	if st.LastArchiveSeq != 13 {
		t.Errorf("last archive seq %d, want 13", st.LastArchiveSeq)
	}

	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-07 11:00"]) {
		t.Errorf("the upgraded account differs from what version 1 showed:\ngot  %+v\nwant %+v", got, views["2026-01-07 11:00"])
	}
	// A restart loads the current version and archives nothing more.
	archived := ledger.archivedCount()
	s = newSim(t, paper(nil), clk, ledger)
	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-07 11:00"]) {
		t.Errorf("after a restart:\ngot  %+v\nwant %+v", got, views["2026-01-07 11:00"])
	}
	if n := ledger.archivedCount(); n != archived {
		t.Errorf("the restart archived %d records more", n-archived)
	}
	// The upgrade archived each order under its client order id.
	wantArchivedKey(t, ledger, map[string]string{"fx-1": "1", "fx-2": "5"})
	// An order of an earlier day cannot be cancelled, and the error says why.
	_, err = s.CancelOrders(ctx, automation.CancelRequest{ContractNo: "2"})
	wantCode(t, err, automation.CodeRejected)
	if !strings.Contains(err.Error(), "不是今日的委托") {
		t.Errorf("cancelling an order of Monday: %v", err)
	}
	// Within its 24 hours, across midnight, a client order id finds its
	// order in the archive: fx-3 was placed yesterday at 10:00.
	clk.Set("2026-01-08 09:59")
	retry := market("000001", automation.Buy, 200)
	retry.ClientOrderID = "fx-3"
	if o := mustPlace(t, s, retry); o.ContractNo != "8" || o.Date != "20260107" {
		t.Errorf("retry of yesterday's fx-3 = %+v, want order 8", o)
	}

	clk.Set("2026-01-09 10:00")
	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-09 10:00"]) {
		t.Errorf("two days later:\ngot  %+v\nwant %+v", got, views["2026-01-09 10:00"])
	}
	_, st = savedState(t, ledger)
	if got := stateIDs(st); len(got) != 0 {
		t.Errorf("on a day without activity the state holds %v", got)
	}
	// Three days after it was used, fx-2 names a new order, and that one
	// from then on.
	reuse := market("600000", automation.Sell, 500)
	reuse.ClientOrderID = "fx-2"
	for range 2 {
		if o := mustPlace(t, s, reuse); o.ContractNo != "10" || o.Date != "20260109" {
			t.Errorf("fx-2 three days on = %+v, want a new order 10", o)
		}
	}
}

// wantArchivedKey checks that the archive's last order with each client
// order id (a key of want) is the contract number want gives.
func wantArchivedKey(t *testing.T, l Ledger, want map[string]string) {
	t.Helper()
	for key, contractNo := range want {
		body, err := l.FindLedgerArchive(ctx, "sim", kindOrder, key)
		var o order
		if err == nil && body != nil {
			err = json.Unmarshal(body, &o)
		}
		if err != nil || o.ContractNo != contractNo {
			t.Errorf("the archive's order %q is %q (%v), want contract %s", key, o.ContractNo, err, contractNo)
		}
	}
}

// modes are the two places the archive can be: the ledger, or memory.
var modes = []struct {
	name   string
	ledger func() *memLedger
}{
	{"memory", func() *memLedger { return nil }},
	{"ledger", newMemLedger},
}

// simOn builds a sim on clk that keeps its archive in l, or in memory when
// l is nil.
func simOn(t *testing.T, opts Options, clk *clock, l *memLedger) *Terminal {
	t.Helper()
	if l != nil {
		return newSim(t, opts, clk, l)
	}
	s, err := New(context.Background(), "sim", opts, Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHistoryAcrossDays(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ledger := mode.ledger()
			clk := newClock("2026-01-05 10:00")
			opts := paper(map[string]float64{"600000": 10, "000001": 20})
			s := simOn(t, opts, clk, ledger)
			mustPlace(t, s, market("600000", automation.Buy, 100))      // 1
			mustPlace(t, s, limit("600000", automation.Buy, 9.00, 100)) // 2, ends at the close
			clk.Set("2026-01-06 10:00")
			tue := market("000001", automation.Buy, 100)
			tue.ClientOrderID = "c-tue"
			tueOrder := mustPlace(t, s, tue) // 3
			clk.Set("2026-01-07 09:59")
			mustPlace(t, s, market("600000", automation.Buy, 100)) // 4

			tests := []struct {
				name string
				got  []string
				want []string
			}{
				{"today", contractsOf(t)(s.Orders(ctx, "")), []string{"4"}},
				{"history", contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})), []string{"1", "2", "3", "4"}},
				{"history by code", contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{Code: "600000"})), []string{"1", "2", "4"}},
				{"history since tuesday", contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{Since: at("2026-01-06 00:00")})), []string{"3", "4"}},
				{"history since within tuesday", contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{Since: at("2026-01-06 10:01")})), []string{"4"}},
				{"trades", tradeContractsOf(t)(s.Trades(ctx, automation.HistoryQuery{})), []string{"1", "3", "4"}},
				{"trades since tuesday", tradeContractsOf(t)(s.Trades(ctx, automation.HistoryQuery{Since: at("2026-01-06 00:00")})), []string{"3", "4"}},
				{"trades by code", tradeContractsOf(t)(s.Trades(ctx, automation.HistoryQuery{Code: "000001"})), []string{"3"}},
			}
			for _, tt := range tests {
				if !slices.Equal(tt.got, tt.want) {
					t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
				}
			}
			s.mu.Lock()
			inState := stateIDs(s.st)
			s.mu.Unlock()
			if len(inState) != 0 {
				t.Errorf("the state holds %v, want no finished record", inState)
			}

			// A retry of Tuesday's order on Wednesday, within its 24
			// hours, finds it in the archive.
			if again := mustPlace(t, s, tue); again != mustOrder(t, s, tueOrder.ContractNo) || again.Status != automation.OrderFilled {
				t.Errorf("retry of Tuesday's order = %+v", again)
			}
			tue.Quantity = 200
			_, err := s.PlaceOrder(ctx, tue)
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), "c-tue") {
				t.Errorf("Tuesday's key reused for another order: %v", err)
			}
			if os := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})); len(os) != 4 {
				t.Errorf("retries placed orders: %v", os)
			}
			if ledger != nil {
				restarted := simOn(t, opts, clk, ledger)
				if a, b := snap(t, s), snap(t, restarted); !reflect.DeepEqual(a, b) {
					t.Errorf("restarted account differs:\nbefore %+v\nafter  %+v", a, b)
				}
			}
		})
	}
}

// Orders are kept 367 days (近一年 and a day), then leave the archive.
func TestHistoryIsKeptAYear(t *testing.T) {
	day0 := at("2026-01-05 10:00")
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ledger := mode.ledger()
			clk := newClock("2026-01-05 10:00")
			s := simOn(t, paper(map[string]float64{"600000": 10}), clk, ledger)
			req := market("600000", automation.Buy, 100)
			req.ClientOrderID = "old"
			mustPlace(t, s, req)
			tests := []struct {
				days int
				kept bool
			}{
				{1, true},
				{366, true},
				{367, true},
				{368, false},
			}
			for _, tt := range tests {
				clk.t = day0.AddDate(0, 0, tt.days)
				h := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{}))
				tr := tradeContractsOf(t)(s.Trades(ctx, automation.HistoryQuery{}))
				if got := len(h) == 1 && len(tr) == 1; got != tt.kept {
					t.Errorf("day %d: history %v, trades %v; want kept %v", tt.days, h, tr, tt.kept)
				}
			}
			if ledger != nil {
				if a := archivedIDs(t, ledger, kindOrder); len(a) != 0 {
					t.Errorf("the archive still holds %v", a)
				}
			}
			// Its client order id named it for 24 hours only.
			if o := mustPlace(t, s, req); o.ContractNo != "2" {
				t.Errorf("an order with a key of over a year ago = %+v, want a new one", o)
			}
		})
	}
}

// The first action of a day archives the last day's history. When the
// archive cannot be written, the action fails and nothing happened: not
// the roll, not the action.
func TestFailedArchiveUndoesTheAction(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10})
	ledger, twinLedger := newMemLedger(), newMemLedger()
	clk := newClock("2026-01-05 10:00")
	s, twin := newSim(t, opts, clk, ledger), newSim(t, opts, clk, twinLedger)
	for _, sim := range []*Terminal{s, twin} {
		mustPlace(t, sim, market("600000", automation.Buy, 100))   // 1
		mustPlace(t, sim, limit("600000", automation.Buy, 9, 100)) // 2
	}
	saved, archived := slices.Clone(ledger.data["sim"]), ledger.archivedCount()

	clk.Set("2026-01-06 10:00")
	ledger.failWith(errDiskFull)
	_, err := s.PlaceOrder(ctx, market("600000", automation.Buy, 100))
	wantCode(t, err, automation.CodeInternal)
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "not applied") {
		t.Errorf("buy while the archive fails: %v", err)
	}
	_, err = s.Orders(ctx, "")
	wantCode(t, err, automation.CodeInternal)
	if !slices.Equal(ledger.data["sim"], saved) || ledger.archivedCount() != archived {
		t.Errorf("a failed archive left a trace: archived %d more, state changed %v", ledger.archivedCount()-archived, !slices.Equal(ledger.data["sim"], saved))
	}

	ledger.failWith(nil)
	if a, b := snap(t, s), snap(t, twin); !reflect.DeepEqual(a, b) {
		t.Errorf("after the store healed the account differs from one that never failed:\ngot  %+v\nwant %+v", a, b)
	}
	if o := mustPlace(t, s, market("600000", automation.Buy, 100)); o.ContractNo != "3" {
		t.Errorf("after the store healed, contract %s, want 3", o.ContractNo)
	}
	for kind, want := range map[string][]string{kindOrder: {"1", "2", "3"}, kindTrade: {"1", "3"}} {
		if got := archivedIDs(t, ledger, kind); !slices.Equal(got, want) {
			t.Errorf("archived %s: %v, want %v, once", kind, got, want)
		}
	}
	if a, b := snap(t, s), snap(t, newSim(t, opts, clk, ledger)); !reflect.DeepEqual(a, b) {
		t.Errorf("restarted account differs:\nbefore %+v\nafter  %+v", a, b)
	}
}

// A history query that cannot read the archive fails and says so, and so
// does an order whose client order id cannot be checked against it; what
// needs only the state goes on.
func TestArchiveReadFailure(t *testing.T) {
	ledger := newMemLedger()
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10}), clk, ledger)
	mon := market("600000", automation.Buy, 100)
	mon.ClientOrderID = "c-1"
	mustPlace(t, s, mon)
	clk.Set("2026-01-06 09:00") // within c-1's 24 hours
	mustFunds(t, s)             // rolls: Monday goes to the archive

	ledger.failReadsWith(errDiskFull)
	failing := map[string]func() error{
		"history": func() error { _, err := s.OrderHistory(ctx, automation.HistoryQuery{}); return err },
		"trades":  func() error { _, err := s.Trades(ctx, automation.HistoryQuery{}); return err },
		"buy with a new key": func() error {
			req := market("600000", automation.Buy, 100)
			req.ClientOrderID = "c-2"
			_, err := s.PlaceOrder(ctx, req)
			return err
		},
	}
	for name, f := range failing {
		err := f()
		wantCode(t, err, automation.CodeInternal)
		if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "history of past days") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if o := mustPlace(t, s, market("600000", automation.Buy, 100)); o.ContractNo != "2" {
		t.Errorf("a buy without a key = %+v, want contract 2", o)
	}
	if os := contractsOf(t)(s.Orders(ctx, "")); !slices.Equal(os, []string{"2"}) {
		t.Errorf("today's orders = %v", os)
	}
	ledger.failReadsWith(nil)
	if o := mustPlace(t, s, mon); o.ContractNo != "1" {
		t.Errorf("retry of c-1 after the store healed = %+v", o)
	}
}

// Pruning that fails is retried at a later save; the records it missed are
// past the cutoff and no query shows them meanwhile.
func TestFailedPruneIsRetried(t *testing.T) {
	ledger := newMemLedger()
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10}), clk, ledger)
	mustPlace(t, s, market("600000", automation.Buy, 100))
	clk.Set("2026-01-06 10:00")
	mustFunds(t, s)
	if a := archivedIDs(t, ledger, kindOrder); !slices.Equal(a, []string{"1"}) {
		t.Fatalf("archived %v", a)
	}

	ledger.failPrunesWith(errDiskFull)
	clk.t = at("2026-01-05 10:00").AddDate(0, 0, 368)
	if o := mustPlace(t, s, market("600000", automation.Buy, 100)); o.ContractNo != "2" {
		t.Fatalf("a buy while pruning fails = %+v", o)
	}
	if h := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})); !slices.Equal(h, []string{"2"}) {
		t.Errorf("history = %v, want only today's", h)
	}
	if a := archivedIDs(t, ledger, kindOrder); !slices.Equal(a, []string{"1", "2"}) {
		t.Errorf("archived %v: the failed prune deleted something", a)
	}
	ledger.failPrunesWith(nil)
	mustPlace(t, s, market("600000", automation.Buy, 100))
	if a := archivedIDs(t, ledger, kindOrder); !slices.Equal(a, []string{"2", "3"}) {
		t.Errorf("archived %v after a save with pruning healed, want today's [2 3]", a)
	}
}

// The saved state holds no finished record, so that it stays the same
// size however much the account traded today and before: a filled order
// and its trade go to the archive with the save of the buy.
func TestSavedStateHoldsNoFinishedRecord(t *testing.T) {
	const days, perDay = 10, 30
	ledger := newMemLedger()
	clk := newClock("2026-01-05 10:00")
	opts := paper(map[string]float64{"600000": 10})
	opts.InitialCash = 1e9
	s := newSim(t, opts, clk, ledger)
	mustPlace(t, s, market("600000", automation.Buy, 100))
	first := len(ledger.data["sim"])
	d := dayOf(clk.Now())
	for i := range days {
		for range perDay {
			mustPlace(t, s, market("600000", automation.Buy, 100))
			// Only numbers grow: the cash, the position, the counters.
			if n := len(ledger.data["sim"]); n > first+32 {
				t.Fatalf("day %d: the snapshot grew from %d to %d bytes", i, first, n)
			}
		}
		_, st := savedState(t, ledger)
		if len(st.Orders) != 0 {
			t.Fatalf("day %d: the state holds %d finished orders", i, len(st.Orders))
		}
		d = d.nextTrading()
		clk.t = d.start().Add(10 * time.Hour)
	}
	mustFunds(t, s)
	if n := ledger.archivedCount(); n != 2*(days*perDay+1) {
		t.Errorf("archived %d records, want %d", n, 2*(days*perDay+1))
	}
	if h := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})); len(h) != days*perDay+1 {
		t.Errorf("history holds %d orders, want %d", len(h), days*perDay+1)
	}
}
