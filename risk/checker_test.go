package risk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/queue"
)

// A Wednesday at 10:00 in Shanghai.
var wednesday = time.Date(2026, 12, 2, 10, 0, 0, 0, ChinaTime)

type fixedPrices map[string]float64

func (p fixedPrices) LastPrice(_, symbol string) (decimal.Decimal, bool) {
	v, ok := p[symbol]
	return decimal.NewFromFloat(v), ok
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func num(v float64) *decimal.Decimal { d := decimal.NewFromFloat(v); return &d }
func count(n int64) *int64           { return &n }

func newChecker(t *testing.T, l Limits, now *clock) *Checker {
	t.Helper()
	c, err := New(Config{Limits: []Limits{l}, Terminals: []Terminal{{Name: "sim"}, {Name: "ex", Family: ExchangeFamily}},
		Prices: fixedPrices{"600000": 10, "BTCUSDT": 100000}, Now: now.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var seq int

func order(name string, params map[string]any, at time.Time) queue.Operation {
	seq++
	b, _ := json.Marshal(params)
	return queue.Operation{ID: fmt.Sprintf("op-%d", seq), Name: name, Terminal: "sim", Params: b, SideEffect: true,
		Status: queue.StatusQueued, SubmittedAt: at}
}

func buy(price float64, qty int64) map[string]any {
	return map[string]any{"stock_code": "600000", "price": price, "quantity": qty}
}

func refusedBy(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Rule
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

// TestRulesAtTheirEdges admits, for each rule, the last order within the
// limit and refuses the first one over.
func TestRulesAtTheirEdges(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		before []map[string]any // admitted first
		op     string
		params map[string]any
		at     time.Time
		want   string // the rule that refuses, "" for admitted
	}{
		{"order notional at the limit", Limits{MaxOrderNotional: num(1000)}, nil, "buy", buy(10, 100), wednesday, ""},
		{"order notional a cent over", Limits{MaxOrderNotional: num(999.99)}, nil, "buy", buy(10, 100), wednesday, RuleMaxOrderNotional},
		{"market order valued at the last price", Limits{MaxOrderNotional: num(999)}, nil, "market_buy",
			map[string]any{"stock_code": "600000", "quantity": 100}, wednesday, RuleMaxOrderNotional},
		{"market order without a price", Limits{MaxOrderNotional: num(1e9)}, nil, "market_buy",
			map[string]any{"stock_code": "000001", "quantity": 100}, wednesday, RuleMaxOrderNotional},
		{"daily buys reach the limit", Limits{MaxDailyBuyNotional: num(2000)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, ""},
		{"daily buys pass it", Limits{MaxDailyBuyNotional: num(1999)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, RuleMaxDailyBuyNotional},
		{"sells do not count against buys", Limits{MaxDailyBuyNotional: num(1000)},
			[]map[string]any{{"stock_code": "600000", "price": 10, "quantity": 100, "_sell": true}}, "buy", buy(10, 100), wednesday, ""},
		{"daily sells pass their limit", Limits{MaxDailySellNotional: num(1000)}, nil, "sell", buy(10.01, 100), wednesday, RuleMaxDailySellNotional},
		{"orders per day at the limit", Limits{MaxOrdersPerDay: count(2)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, ""},
		{"orders per day over", Limits{MaxOrdersPerDay: count(1)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, RuleMaxOrdersPerDay},
		{"orders per minute over", Limits{MaxOrdersPerMinute: count(1)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday.Add(59 * time.Second), RuleMaxOrdersPerMinute},
		{"orders per minute a minute later", Limits{MaxOrdersPerMinute: count(1)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday.Add(time.Minute), ""},
		{"position at the limit", Limits{MaxPosition: num(200)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, ""},
		{"position over", Limits{MaxPosition: num(199)}, []map[string]any{buy(10, 100)}, "buy", buy(10, 100), wednesday, RuleMaxPosition},
		{"position of another symbol", Limits{MaxPosition: num(100)}, []map[string]any{{"stock_code": "000001", "price": 10, "quantity": 100}}, "buy", buy(10, 100), wednesday, ""},
		{"allow-list holds it", Limits{Allow: []string{"600000"}}, nil, "buy", buy(10, 100), wednesday, ""},
		{"allow-list lacks it", Limits{Allow: []string{"000001"}}, nil, "buy", buy(10, 100), wednesday, RuleAllow},
		{"deny-list", Limits{Deny: []string{"600000"}}, nil, "sell", buy(10, 100), wednesday, RuleDeny},
		{"hours: 09:30 opens", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 9, 30, 0, 0, ChinaTime), ""},
		{"hours: 09:29:59", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 9, 29, 59, 0, ChinaTime), RuleTradingHours},
		{"hours: 11:29:59", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 11, 29, 59, 0, ChinaTime), ""},
		{"hours: 11:30 lunch", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 11, 30, 0, 0, ChinaTime), RuleTradingHours},
		{"hours: 13:00", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 13, 0, 0, 0, ChinaTime), ""},
		{"hours: 15:00 closed", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 15, 0, 0, 0, ChinaTime), RuleTradingHours},
		{"hours: Saturday", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 5, 10, 0, 0, 0, ChinaTime), RuleTradingHours},
		{"hours: UTC instant in session", Limits{}, nil, "buy", buy(10, 100), time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC), ""},
		{"hours: a holiday", Limits{Holidays: []string{"2026-12-02"}}, nil, "buy", buy(10, 100), wednesday, RuleTradingHours},
		{"hours: always", Limits{TradingHours: &Hours{Preset: "always"}}, nil, "buy", buy(10, 100), time.Date(2026, 12, 5, 3, 0, 0, 0, ChinaTime), ""},
		{"collar at 5%", Limits{PriceCollarPercent: num(5)}, nil, "buy", buy(10.5, 100), wednesday, ""},
		{"collar past 5%", Limits{PriceCollarPercent: num(5)}, nil, "buy", buy(10.51, 100), wednesday, RulePriceCollar},
		{"collar below", Limits{PriceCollarPercent: num(5)}, nil, "sell", buy(9.49, 100), wednesday, RulePriceCollar},
		{"collar without a price passes", Limits{PriceCollarPercent: num(5)}, nil, "buy",
			map[string]any{"stock_code": "000001", "price": 99, "quantity": 100}, wednesday, ""},
		{"queries are never refused", Limits{MaxOrdersPerDay: count(1)}, []map[string]any{buy(10, 100)}, "holding_query", map[string]any{}, time.Date(2026, 12, 5, 3, 0, 0, 0, ChinaTime), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := &clock{wednesday}
			c := newChecker(t, tt.limits, now)
			for _, p := range tt.before {
				name := "buy"
				if p["_sell"] == true {
					name = "sell"
					delete(p, "_sell")
				}
				if _, err := c.Admit(order(name, p, now.t)); err != nil {
					t.Fatalf("setup order refused: %v", err)
				}
			}
			now.t = tt.at
			op := order(tt.op, tt.params, now.t)
			op.SideEffect = tt.op != "holding_query"
			_, err := c.Admit(op)
			if got := refusedBy(err); got != tt.want {
				t.Fatalf("refused by %q (%v); want %q", got, err, tt.want)
			}
			var r *Refusal
			if errors.As(err, &r) && (r.Limit == "" || r.Value == "" || r.Terminal != "sim") {
				t.Fatalf("refusal %+v does not name its limit and value", r)
			}
		})
	}
}

func TestExchangePlaceOrderFacts(t *testing.T) {
	now := &clock{time.Date(2026, 12, 5, 3, 0, 0, 0, ChinaTime)} // a Saturday night: exchanges trade
	c, err := New(Config{Limits: []Limits{{MaxOrderNotional: num(5000), PriceCollarPercent: num(10)}},
		Terminals: []Terminal{{Name: "ex", Family: ExchangeFamily}}, Prices: fixedPrices{"BTCUSDT": 100000}, Now: now.now})
	if err != nil {
		t.Fatal(err)
	}
	place := func(side, price, qty string) error {
		p := map[string]any{"symbol": "BTCUSDT", "side": side, "quantity": qty, "type": "LIMIT"}
		if price != "" {
			p["price"] = price
		}
		op := order("place_order", p, now.t)
		op.Terminal = "ex"
		_, err := c.Admit(op)
		return err
	}
	if err := place("BUY", "100000", "0.05"); err != nil {
		t.Fatalf("5000 exactly: %v", err)
	}
	if got := refusedBy(place("SELL", "100000", "0.05000001")); got != RuleMaxOrderNotional {
		t.Fatalf("a satoshi over: %q", got)
	}
	if got := refusedBy(place("BUY", "", "0.06")); got != RuleMaxOrderNotional {
		t.Fatalf("market order over at the last price: %q", got)
	}
	if got := refusedBy(place("BUY", "111000", "0.01")); got != RulePriceCollar {
		t.Fatalf("11%% from the last price: %q", got)
	}
}

func TestSettlingFreesWhatNeverReachedTheVenue(t *testing.T) {
	now := &clock{wednesday}
	c := newChecker(t, Limits{MaxDailyBuyNotional: num(1000), MaxOrdersPerDay: count(2)}, now)
	first := order("buy", buy(10, 100), now.t)
	if _, err := c.Admit(first); err != nil {
		t.Fatal(err)
	}
	if got := refusedBy(admit(c, order("buy", buy(10, 100), now.t))); got != RuleMaxDailyBuyNotional {
		t.Fatalf("second buy: %q", got)
	}
	// The broker rejects the first: it counts as an order, not as exposure.
	first.Status, first.ErrorCode = queue.StatusFailed, "rejected"
	c.OperationChanged(first)
	if err := admit(c, order("buy", buy(10, 100), now.t)); err != nil {
		t.Fatalf("after a rejection: %v", err)
	}
	if got := refusedBy(admit(c, order("sell", buy(1, 100), now.t))); got != RuleMaxOrdersPerDay {
		t.Fatalf("third order: %q", got)
	}
	// An outcome_unknown keeps its exposure: it may be at the broker.
	unknown := order("sell", buy(10, 100), now.t)
	c2 := newChecker(t, Limits{MaxDailySellNotional: num(1000)}, now)
	admit(c2, unknown)
	unknown.Status, unknown.ErrorCode = queue.StatusFailed, queue.CodeOutcomeUnknown
	c2.OperationChanged(unknown)
	if got := refusedBy(admit(c2, order("sell", buy(10, 1), now.t))); got != RuleMaxDailySellNotional {
		t.Fatalf("after outcome_unknown: %q", got)
	}
	// The next day starts afresh.
	now.t = wednesday.Add(24 * time.Hour)
	if err := admit(c2, order("sell", buy(10, 100), now.t)); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func admit(c *Checker, op queue.Operation) error {
	_, err := c.Admit(op)
	return err
}

// memJournal is a Journal in memory.
type memJournal struct {
	ops   []queue.Operation
	halts map[string]Halt
}

func (j *memJournal) SubmittedSince(_ context.Context, terminal string, since time.Time) ([]queue.Operation, error) {
	var out []queue.Operation
	for _, op := range j.ops {
		if op.Terminal == terminal && !op.SubmittedAt.Before(since) {
			out = append(out, op)
		}
	}
	return out, nil
}

func (j *memJournal) SetHalt(_ context.Context, terminal string, halted bool, reason string, at time.Time) error {
	if halted {
		j.halts[terminal] = Halt{Terminal: terminal, Reason: reason, At: at}
	} else {
		delete(j.halts, terminal)
	}
	return nil
}

func (j *memJournal) Halts(context.Context) ([]Halt, error) {
	var out []Halt
	for _, h := range j.halts {
		out = append(out, h)
	}
	return out, nil
}

func TestLoadRebuildsTheDayFromTheJournal(t *testing.T) {
	now := &clock{wednesday}
	yesterday := order("buy", buy(10, 1000), wednesday.Add(-20*time.Hour))
	open := order("buy", buy(10, 100), wednesday.Add(-time.Hour))
	filled := order("buy", buy(10, 100), wednesday.Add(-time.Hour))
	filled.Status = queue.StatusSuccess
	cancelled := order("buy", buy(10, 100), wednesday.Add(-time.Hour))
	cancelled.Status = queue.StatusCancelled
	running := order("buy", buy(10, 100), wednesday.Add(-time.Minute)) // at the crash
	running.Status = queue.StatusRunning
	j := &memJournal{ops: []queue.Operation{yesterday, open, filled, cancelled, running}, halts: map[string]Halt{}}
	c := newChecker(t, Limits{MaxDailyBuyNotional: num(3500), MaxOrdersPerDay: count(4)}, now)
	c.journal = j
	if err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 3 orders, 3000 of buys: one more of 500 fits, 501 would not.
	if got := refusedBy(admit(c, order("buy", buy(5.01, 100), now.t))); got != RuleMaxDailyBuyNotional {
		t.Fatalf("501 over: %q", got)
	}
	if err := admit(c, order("buy", buy(5, 100), now.t)); err != nil {
		t.Fatalf("500 within: %v", err)
	}
	if got := refusedBy(admit(c, order("sell", buy(1, 100), now.t))); got != RuleMaxOrdersPerDay {
		t.Fatalf("fifth order: %q", got)
	}
}

type fakeCanceller struct{ calls []string }

func (f *fakeCanceller) CancelQueued(_ context.Context, terminal string, match func(queue.Operation) bool, code, _ string) ([]queue.Operation, error) {
	f.calls = append(f.calls, terminal+":"+code)
	return []queue.Operation{{ID: "x"}}, nil
}

func TestHaltRefusesOrdersButNotCancelsOrQueriesAndOutlivesARestart(t *testing.T) {
	now := &clock{wednesday}
	j := &memJournal{halts: map[string]Halt{}}
	c := newChecker(t, Limits{}, now)
	q := &fakeCanceller{}
	c.journal = j
	c.Attach(q)
	res, err := c.Halt(context.Background(), "sim", "runaway script")
	if err != nil || len(res) != 1 || len(res[0].Cancelled) != 1 || q.calls[0] != "sim:"+CodeHalted {
		t.Fatalf("halt: %+v %v %v", res, err, q.calls)
	}
	if got := refusedBy(admit(c, order("buy", buy(10, 100), now.t))); got != RuleHalt {
		t.Fatalf("buy on a halted terminal: %q", got)
	}
	repo := order("reverse_repo_buy", map[string]any{"amount": 1000}, now.t)
	if got := refusedBy(admit(c, repo)); got != RuleHalt {
		t.Fatalf("any order-like op on a halted terminal: %q", got)
	}
	admittedBefore := order("buy", buy(10, 100), now.t)
	if got := refusedBy(c.Revoked(admittedBefore)); got != RuleHalt {
		t.Fatalf("an order admitted before the halt, about to be queued: %q", got)
	}
	if err := admit(c, order("order_cancel", map[string]any{}, now.t)); err != nil {
		t.Fatalf("a cancel on a halted terminal: %v", err)
	}
	ex := order("buy", buy(10, 100), now.t)
	ex.Terminal = "ex"
	if err := admit(c, ex); err != nil {
		t.Fatalf("another terminal: %v", err)
	}

	restarted := newChecker(t, Limits{}, now)
	restarted.journal = j
	restarted.Attach(q)
	if err := restarted.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := refusedBy(admit(restarted, order("buy", buy(10, 100), now.t))); got != RuleHalt {
		t.Fatalf("after a restart: %q", got)
	}
	if _, err := restarted.Enforce(context.Background()); err != nil || len(q.calls) != 2 {
		t.Fatalf("enforce at start: %v %v", err, q.calls)
	}
	if _, err := restarted.Resume(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if err := admit(restarted, order("buy", buy(10, 100), now.t)); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	if _, err := restarted.Halt(context.Background(), "nope", ""); !errors.Is(err, ErrUnknownTerminal) {
		t.Fatalf("unknown terminal: %v", err)
	}
}

func TestStatusShowsLimitsAndUsage(t *testing.T) {
	now := &clock{wednesday}
	c := newChecker(t, Limits{MaxDailyBuyNotional: num(5000), MaxOrdersPerDay: count(10)}, now)
	admit(c, order("buy", buy(10, 100), now.t))
	st := c.Status()
	if len(st) != 2 || !st[0].Limited || st[0].Orders != 1 || st[0].Positions["600000"] != "100" {
		t.Fatalf("status %+v", st[0])
	}
	var got []string
	for _, u := range st[0].Rules {
		used := "-"
		if u.Used != nil {
			used = *u.Used
		}
		got = append(got, u.Rule+"="+used+"/"+u.Limit)
	}
	want := "max_daily_buy_notional=1000/5000 max_orders_per_day=1/10 trading_hours=-/09:30-11:30, 13:00-15:00 Asia/Shanghai on weekdays"
	if strings.Join(got, " ") != want {
		t.Fatalf("rules:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
