package sim

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// FuzzAccountInvariants plays a script of random actions (two bytes each)
// against a walking market and checks, after every step, what a broker's
// books must always satisfy. Its seed corpus runs as a normal test.
func FuzzAccountInvariants(f *testing.F) {
	f.Add([]byte{0, 10, 6, 99, 1, 20, 5, 3, 6, 250, 3, 1})
	f.Add([]byte{7, 1, 7, 2, 5, 200, 6, 40, 8, 3, 6, 255, 6, 255, 6, 255, 4, 0})
	f.Add([]byte{2, 5, 2, 6, 6, 255, 6, 255, 3, 5, 1, 4, 5, 7, 0, 1, 6, 90, 4, 1})
	f.Add([]byte{8, 4, 8, 9, 6, 255, 6, 255, 6, 255, 6, 255, 6, 255, 6, 255, 2, 0})
	for seed := range uint64(4) {
		f.Add(script(seed, 400))
	}
	codes := []string{"600000", "000001", "300750"}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 400 {
			script = script[:400]
		}
		opts := DefaultOptions()
		opts.Volatility = 0.03
		opts.Seed = 3
		opts.Quotes = map[string]float64{"600000": 10, "000001": 20, "300750": 50}
		opts.Positions = map[string]int64{"600000": 1000, "000001": 500}
		clk := newClock("2026-01-05 09:45")
		ledger := newMemLedger()
		s := newSim(t, opts, clk, ledger)
		// A twin without a ledger keeps its archive in memory.
		twin := simOn(t, opts, clk, nil)
		for i := 0; i+1 < len(script); i += 2 {
			op, arg := script[i]%9, script[i+1]
			code := codes[int(arg)%len(codes)]
			qty := int64(arg%5+1) * 100
			price := mustQuote(t, s, code)
			offset := (float64(arg%11) - 5) / 100 // −5% … +5%
			limitPrice := math.Round(price*(1+offset)*100) / 100
			if op == 6 {
				clk.Add(time.Duration(arg) * 7 * time.Minute)
			}
			for _, s := range []*Terminal{s, twin} {
				switch op {
				case 0:
					s.PlaceOrder(ctx, limit(code, automation.Buy, limitPrice, qty))
				case 1:
					s.PlaceOrder(ctx, limit(code, automation.Sell, limitPrice, qty))
				case 2:
					s.PlaceOrder(ctx, market(code, automation.Buy, qty))
				case 3:
					s.PlaceOrder(ctx, market(code, automation.Sell, qty))
				case 4:
					s.CancelOrders(ctx, automation.CancelRequest{Code: code})
				case 5:
					s.SetQuote(code, limitPrice)
				case 7:
					if arg%2 == 0 {
						s.PlaceConditionOrder(ctx, conditionBuy(code, limitPrice, qty, int(arg%30)+1))
					} else {
						s.PlaceConditionOrder(ctx, stopLossProfit(code, float64(arg%9+1), float64(arg%9+2), 0))
					}
				case 8:
					s.LendRepo(ctx, automation.RepoRequest{Market: []string{"上海", "深圳"}[arg%2], Term: "1天期", Amount: int64(arg%5+1) * 1000})
				}
			}
			checkInvariants(t, s, opts)
			if i%40 == 0 {
				if a, b := snap(t, s), snap(t, twin); !reflect.DeepEqual(a, b) {
					t.Fatalf("step %d: the account with a ledger and its twin in memory differ:\n%+v\n%+v", i/2, a, b)
				}
			}
		}
		// A restart shows the same account.
		if a, b := snap(t, s), snap(t, newSim(t, opts, clk, ledger)); !reflect.DeepEqual(a, b) {
			t.Fatalf("the restarted account differs:\n%+v\n%+v", a, b)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Logf("in the state: %d open orders, %d watching condition orders, %d repo loans; %d records archived",
			len(s.st.Orders), len(s.st.Conditions), len(s.st.Loans), ledger.archivedCount())
	})
}

// script is a long pseudo-random script, so that the seed corpus alone
// plays hundreds of actions over days.
func script(seed uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		seed = mix(seed)
		b[i] = byte(seed)
	}
	return b
}

func checkInvariants(t *testing.T, s *Terminal, opts Options) {
	t.Helper()
	if _, err := s.Funds(ctx); err != nil { // brings the books up to the clock
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	today := dayOf(s.evaluatedAt)

	if avail := s.available(); avail < 0 {
		t.Fatalf("available cash %s is negative", yuan(avail))
	}
	// Cash is the start plus every fill plus the interest paid.
	cash := int64(opts.InitialCash * 100)
	held := map[string]int64{}
	for code, q := range opts.Positions {
		held[code] = q
	}
	for _, tr := range kept[trade](t, s, kindTrade, nil) {
		if tr.Side == automation.Buy {
			cash -= tr.Amount + tr.Fees.total()
			held[tr.Code] += tr.Quantity
		} else {
			cash += tr.Amount - tr.Fees.total()
			held[tr.Code] -= tr.Quantity
		}
	}
	for _, l := range kept(t, s, kindLoan, st.Loans) {
		cash += l.Interest
	}
	if cash != st.Cash {
		t.Fatalf("cash %s, but the trades and loans say %s", yuan(st.Cash), yuan(cash))
	}
	for code, q := range held {
		p := st.Positions[code]
		if q == 0 && p == nil {
			continue
		}
		if p == nil || p.Quantity != q || p.Cost < 0 {
			t.Fatalf("%s: position %+v, but the trades say %d shares", code, p, q)
		}
		if s.sellable(code, today) < 0 || p.unsettled(today) > p.Quantity {
			t.Fatalf("%s: sellable %d, unsettled %d of %d", code, s.sellable(code, today), p.unsettled(today), p.Quantity)
		}
	}
	for _, o := range st.Orders {
		if !o.open() || o.Side == automation.Buy && o.Frozen <= 0 || o.Side == automation.Sell && o.Frozen != 0 {
			t.Fatalf("open order %+v", o)
		}
		if dayOf(o.PlacedAt) != today {
			t.Fatalf("order %s of %s still open on %s", o.ContractNo, dayOf(o.PlacedAt), today)
		}
	}
	// The state holds what can still change; the rest is archived.
	for _, c := range st.Conditions {
		if c.Status != automation.ConditionWatching || c.ExpiresOn < today {
			t.Fatalf("watching %+v on %s", c, today)
		}
	}
	for _, l := range st.Loans {
		if l.Paid {
			t.Fatalf("repo loan %s is paid and still in the state", l.ContractNo)
		}
	}
	// The day's log is today's archived orders and the open ones, in the
	// order they were placed, and agrees with them.
	day := slices.Concat(archivedSince[order](t, s, kindOrder, st.Today), st.Orders)
	sortByPlacing(day)
	var logged []*order
	for _, o := range s.day.orders {
		if dayOf(o.PlacedAt) == st.Today {
			logged = append(logged, o)
		}
	}
	if a, b := orderViews(logged), orderViews(day); !reflect.DeepEqual(a, b) {
		t.Fatalf("the day's log differs from the archive and the state:\nlog   %s\nstore %s", orderList(logged), orderList(day))
	}
	for id, o := range s.day.byClientID {
		if o.ClientOrderID != id || !slices.Contains(s.day.orders, o) {
			t.Fatalf("client order id %q indexes order %+v", id, o)
		}
	}
}

// orderList is orders' contract numbers and statuses, to print.
func orderList(orders []*order) string {
	var b strings.Builder
	for _, o := range orders {
		fmt.Fprintf(&b, "%s:%s ", o.ContractNo, o.Status)
	}
	return b.String()
}

func orderViews(orders []*order) []automation.Order {
	out := []automation.Order{}
	for _, o := range orders {
		out = append(out, o.view())
	}
	return out
}
