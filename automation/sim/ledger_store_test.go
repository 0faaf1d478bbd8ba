package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/store"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "brokerd.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// The version-1 fixture, upgraded through the real store, shows what
// version 1 showed, before and after a restart and two days later.
func TestLedgerOnTheStore(t *testing.T) {
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
	st := openStore(t)
	if err := st.SaveLedger(ctx, "sim", raw); err != nil {
		t.Fatal(err)
	}
	clk := newClock("2026-01-07 11:00")
	s := newSim(t, paper(nil), clk, st)
	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-07 11:00"]) {
		t.Errorf("upgraded on the store:\ngot  %+v\nwant %+v", got, views["2026-01-07 11:00"])
	}
	orders, err := st.LoadLedgerArchive(ctx, "sim", kindOrder, time.Time{})
	if err != nil || len(orders) != 6 {
		t.Errorf("the store archived %d orders (%v), want 6", len(orders), err)
	}
	s = newSim(t, paper(nil), clk, st)
	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-07 11:00"]) {
		t.Errorf("restarted on the store:\ngot  %+v\nwant %+v", got, views["2026-01-07 11:00"])
	}
	wantArchivedKey(t, st, map[string]string{"fx-1": "1", "fx-2": "5"})
	// Across midnight, within its 24 hours, fx-3 finds its order in the
	// store's archive.
	clk.Set("2026-01-08 09:59")
	retry := market("000001", automation.Buy, 200)
	retry.ClientOrderID = "fx-3"
	if o := mustPlace(t, s, retry); o.ContractNo != "8" || o.Date != "20260107" {
		t.Errorf("retry of yesterday's fx-3 = %+v, want order 8", o)
	}
	clk.Set("2026-01-09 10:00")
	if got := snap(t, s); !reflect.DeepEqual(got, views["2026-01-09 10:00"]) {
		t.Errorf("two days later on the store:\ngot  %+v\nwant %+v", got, views["2026-01-09 10:00"])
	}
	// A year and two days later the history is gone from the store too.
	clk.Set("2027-01-11 10:00")
	if h, err := s.OrderHistory(ctx, automation.HistoryQuery{}); err != nil || len(h) != 0 {
		t.Errorf("history after a year = %+v, %v", h, err)
	}
	mustPlace(t, s, market("600000", automation.Buy, 100))
	// The store holds that day's order and trade alone.
	for kind, want := range map[string]int{kindOrder: 1, kindTrade: 1, kindCondition: 0, kindLoan: 0} {
		if left, err := st.LoadLedgerArchive(ctx, "sim", kind, time.Time{}); err != nil || len(left) != want {
			t.Errorf("the store holds %d %s records (%v), want %d", len(left), kind, err, want)
		}
	}
}

// BenchmarkPlaceOrderHistory measures a marketable buy on an account that
// already holds history orders (each with its trade) of the past year,
// through the real store in a temporary SQLite file (synchronous FULL, as
// brokerd runs it). A trading day has ordersPerDay orders: the benchmark
// moves to the next trading day every ordersPerDay orders, so run it with a
// fixed count, e.g. -benchtime=400x. state-bytes is the size of the last
// snapshot saved. The history is loaded as a version-1 ledger, which New
// moves to the archive (the time it takes is logged), so that the orders
// run on the account as a year of use would have left it.
//
//	go test -run '^$' -bench PlaceOrderHistory -benchtime=400x ./automation/sim
func BenchmarkPlaceOrderHistory(b *testing.B) {
	const ordersPerDay = 200
	for _, history := range []int{0, 1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			st := openStore(b)
			today := dayOf(at("2027-01-04 10:00")) // a Monday
			if err := st.SaveLedger(ctx, "sim", historyLedger(b, history, ordersPerDay, today)); err != nil {
				b.Fatal(err)
			}
			clk := &clock{t: today.start().Add(10 * time.Hour)}
			ledger := &sizedLedger{Store: st}
			opened := time.Now()
			s, err := New(context.Background(), "sim", paper(map[string]float64{"600000": 10.00}), Deps{Now: clk.Now, Ledger: ledger})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("history=%d: New took %v", history, time.Since(opened))
			place := func(i int) {
				req := limit("600000", automation.Buy, 10.00, 100)
				req.ClientOrderID = "bench-" + strconv.Itoa(i)
				if _, err := s.PlaceOrder(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			place(-1) // the first action encodes what was loaded
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i > 0 && i%ordersPerDay == 0 {
					today = today.nextTrading()
					clk.t = today.start().Add(10 * time.Hour)
				}
				place(i)
			}
			b.ReportMetric(float64(ledger.last.Load()), "state-bytes")
		})
	}
}

// sizedLedger remembers the size of the last snapshot saved.
type sizedLedger struct {
	*store.Store
	last atomic.Int64
}

func (l *sizedLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	l.last.Store(int64(len(state)))
	return l.Store.SaveLedger(ctx, terminal, state)
}

func (l *sizedLedger) ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error {
	l.last.Store(int64(len(state)))
	return l.Store.ArchiveLedger(ctx, terminal, records, state)
}

// historyLedger is a version-1 ledger (everything in the snapshot) whose
// account bought 100 shares of 600000 n times, perDay orders a trading day,
// on the trading days before today, each order with a client order id and
// its trade.
func historyLedger(tb testing.TB, n, perDay int, today day) []byte {
	tb.Helper()
	st := &legacyState{state: *newState(today, today, 1e12)}
	st.Quotes["600000"] = anchor{At: point{Day: today}, Price: 10_000, PrevClose: 10_000}
	in, _ := classify("600000")
	fee := feesOf(in, false, 100_000)
	d := today
	for i := n - 1; i >= 0; i-- {
		if (n-1-i)%perDay == 0 {
			d = d.prevTrading()
		}
		at := d.start().Add(10*time.Hour + time.Duration(i%perDay)*time.Second)
		no := strconv.Itoa(i + 1)
		st.Orders = append(st.Orders, &order{ContractNo: no, ClientOrderID: "h-" + no, Code: "600000",
			Side: automation.Buy, Kind: automation.Limit, Price: 10_000, Quantity: 100, Filled: 100,
			FillPrice: 10_000, Status: automation.OrderFilled, PlacedAt: at})
		st.Trades = append(st.Trades, &trade{ContractNo: no, Code: "600000", Side: automation.Buy,
			Price: 10_000, Quantity: 100, Amount: 100_000, Fees: fee, At: at})
		st.Cash -= 100_000 + fee.total()
	}
	// Oldest first, as the account appended them.
	for i, j := 0, len(st.Orders)-1; i < j; i, j = i+1, j-1 {
		st.Orders[i], st.Orders[j] = st.Orders[j], st.Orders[i]
		st.Trades[i], st.Trades[j] = st.Trades[j], st.Trades[i]
	}
	if n > 0 {
		st.Genesis = d
		st.Positions["600000"] = &position{Quantity: int64(n) * 100, Cost: int64(n) * (100_000 + fee.total())}
	}
	st.LastContractNo = int64(n)
	body, err := json.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	at, _ := today.start().Add(9 * time.Hour).MarshalJSON()
	return fmt.Appendf(nil, `{"version":1,"evaluated_at":%s,"state":%s}`, at, body)
}

// feesOf is the default fee schedule's fees.
func feesOf(in instrument, sell bool, amount int64) fees {
	return DefaultOptions().fees().of(in, sell, amount)
}

// BenchmarkOrderHistoryYear measures 近一年's OrderHistory over a year of
// history orders, read from the store's archive.
func BenchmarkOrderHistoryYear(b *testing.B) {
	for _, history := range []int{1_000, 50_000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			st := openStore(b)
			today := dayOf(at("2027-01-04 10:00"))
			if err := st.SaveLedger(ctx, "sim", historyLedger(b, history, 200, today)); err != nil {
				b.Fatal(err)
			}
			clk := &clock{t: today.start().Add(10 * time.Hour)}
			s, err := New(context.Background(), "sim", paper(map[string]float64{"600000": 10.00}), Deps{Now: clk.Now, Ledger: st})
			if err != nil {
				b.Fatal(err)
			}
			since := today.start().AddDate(-1, 0, 0)
			b.ReportAllocs()
			for b.Loop() {
				os, err := s.OrderHistory(ctx, automation.HistoryQuery{Since: since})
				if err != nil || len(os) != history {
					b.Fatalf("%d orders, %v", len(os), err)
				}
			}
		})
	}
}
