package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

func conditionBuy(code string, target float64, qty int64, days int) automation.ConditionRequest {
	return automation.ConditionRequest{Kind: automation.ConditionBuy, Code: code, TargetPrice: target, Quantity: qty, ExpireDays: days}
}

func stopLossProfit(code string, loss, gain float64, qty int64) automation.ConditionRequest {
	return automation.ConditionRequest{Kind: automation.StopLossProfit, Code: code, LossPercent: loss, GainPercent: gain, Quantity: qty, ExpireDays: 30}
}

func mustCondition(t *testing.T, s *Terminal, req automation.ConditionRequest) automation.ConditionOrder {
	t.Helper()
	c, err := s.PlaceConditionOrder(ctx, req)
	if err != nil {
		t.Fatalf("PlaceConditionOrder(%+v): %v", req, err)
	}
	return c
}

// conditionByID reads a condition order from the ledger or its archive,
// whatever its status, after a query has brought the account up to the clock.
func conditionByID(t *testing.T, s *Terminal, id string) automation.ConditionOrder {
	t.Helper()
	watching(t, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range kept(t, s, kindCondition, s.st.Conditions) {
		if c.ID == id {
			return c.view()
		}
	}
	t.Fatalf("no condition order %s", id)
	return automation.ConditionOrder{}
}

func watching(t *testing.T, s *Terminal) []automation.ConditionOrder {
	t.Helper()
	cs, err := s.ConditionOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestConditionBuyFiresAtTheTarget(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, nil)
	c := mustCondition(t, s, conditionBuy("600000", 9.50, 1000, 5))
	want := automation.ConditionOrder{ID: "1", Code: "600000", Name: c.Name, Side: automation.Buy, Condition: "价格<=9.50",
		TargetPrice: 9.50, Quantity: 1000, Status: automation.ConditionWatching, CreatedAt: "2026-01-05 10:00:00", ExpiresOn: "20260109"}
	if c != want {
		t.Errorf("condition order = %+v, want %+v", c, want)
	}
	if cs := watching(t, s); len(cs) != 1 || cs[0] != c {
		t.Errorf("watching = %+v", cs)
	}
	clk.Add(time.Minute)
	s.SetQuote("600000", 9.51)
	if cs := watching(t, s); len(cs) != 1 {
		t.Fatalf("fired above the target: %+v", cs)
	}
	clk.Add(time.Minute)
	s.SetQuote("600000", 9.40)
	if cs := watching(t, s); len(cs) != 0 {
		t.Fatalf("did not fire at 9.40: %+v", cs)
	}
	fired := conditionByID(t, s, c.ID)
	if fired.Status != automation.ConditionTriggered || fired.ContractNo == "" {
		t.Fatalf("fired condition order = %+v", fired)
	}
	o := mustOrder(t, s, fired.ContractNo)
	if o.Side != automation.Buy || o.Quantity != 1000 || o.Status != automation.OrderFilled || o.AvgPrice != 9.40 || o.Time != "10:02:00" {
		t.Errorf("the order it fired = %+v", o)
	}
	if p, _ := mustPosition(t, s, "600000"); p.Quantity != 1000 {
		t.Errorf("position = %+v", p)
	}
}

func TestConditionBuyFiresAtOnceWhenAlreadyBelowTarget(t *testing.T) {
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), newClock("2026-01-05 10:00"), nil)
	c := mustCondition(t, s, conditionBuy("600000", 10.20, 100, 1))
	if c.Status != automation.ConditionTriggered || c.ContractNo != "1" {
		t.Errorf("condition order = %+v", c)
	}
	if o := mustOrder(t, s, "1"); o.AvgPrice != 10.00 || o.Status != automation.OrderFilled {
		t.Errorf("order = %+v", o)
	}
}

func TestConditionBuyWithoutCashLeavesARejectedOrder(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10.00})
	opts.InitialCash = 1000
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, opts, clk, nil)
	c := mustCondition(t, s, conditionBuy("600000", 9.00, 1000, 5))
	clk.Add(time.Minute)
	s.SetQuote("600000", 9.00)
	fired := conditionByID(t, s, c.ID)
	o := mustOrder(t, s, fired.ContractNo)
	if fired.Status != automation.ConditionTriggered || o.Status != automation.OrderRejected || !strings.Contains(o.Reason, "可用资金不足") {
		t.Errorf("condition %+v fired order %+v", fired, o)
	}
	if f := mustFunds(t, s); f.Balance != 1000 || f.Frozen != 0 {
		t.Errorf("funds = %+v", f)
	}
}

func TestStopLossProfit(t *testing.T) {
	tests := []struct {
		name     string
		qty      int64
		path     []float64 // quotes set a minute apart
		firesAt  int       // index into path; -1 = never
		sold     int64
		sellAt   float64
		triggers string
	}{
		{"stop loss", 0, []float64{9.80, 9.71, 9.70}, 2, 1000, 9.70, "价格<=9.70 或 价格>=10.50"},
		{"stop profit", 0, []float64{10.20, 10.49, 10.52}, 2, 1000, 10.52, "价格<=9.70 或 价格>=10.50"},
		{"part of the position", 400, []float64{9.50}, 0, 400, 9.50, "价格<=9.70 或 价格>=10.50"},
		{"inside the range", 0, []float64{9.71, 10.49, 10.00}, -1, 0, 0, "价格<=9.70 或 价格>=10.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := paper(map[string]float64{"600000": 10.00})
			opts.Positions = map[string]int64{"600000": 1000} // cost 10.00
			clk := newClock("2026-01-05 10:00")
			s := newSim(t, opts, clk, nil)
			c := mustCondition(t, s, stopLossProfit("600000", 3, 5, tt.qty))
			if c.Condition != tt.triggers || c.Side != automation.Sell || c.LossPercent != 3 || c.GainPercent != 5 {
				t.Fatalf("condition order = %+v", c)
			}
			for i, q := range tt.path {
				clk.Add(time.Minute)
				if err := s.SetQuote("600000", q); err != nil {
					t.Fatal(err)
				}
				fired := conditionByID(t, s, c.ID).Status == automation.ConditionTriggered
				if fired != (i == tt.firesAt) && (i <= tt.firesAt || tt.firesAt < 0) {
					t.Fatalf("after %v: fired = %v", q, fired)
				}
			}
			if tt.firesAt < 0 {
				return
			}
			o := mustOrder(t, s, conditionByID(t, s, c.ID).ContractNo)
			if o.Side != automation.Sell || o.Quantity != tt.sold || o.AvgPrice != tt.sellAt || o.Status != automation.OrderFilled {
				t.Errorf("sell = %+v", o)
			}
		})
	}
}

// A stop set on shares bought today waits for them to become sellable, and
// fires at the first minute of the next session when the price is past it.
func TestStopLossWaitsForTPlusOne(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, nil)
	mustPlace(t, s, market("600000", automation.Buy, 1000))
	// Cost 10005.10 / 1000 = 10.0051: 3% below is 9.7049… → 9.70; 5% above is 10.5053… → 10.51.
	c := mustCondition(t, s, stopLossProfit("600000", 3, 5, 0))
	if c.Condition != "价格<=9.70 或 价格>=10.51" {
		t.Errorf("triggers = %s", c.Condition)
	}
	clk.Add(time.Minute)
	s.SetQuote("600000", 9.60)
	clk.Set("2026-01-05 23:00")
	if cs := watching(t, s); len(cs) != 1 {
		t.Fatalf("a stop on unsellable shares fired: %+v", cs)
	}
	clk.Set("2026-01-06 11:00")
	fired := conditionByID(t, s, c.ID)
	if fired.Status != automation.ConditionTriggered {
		t.Fatalf("stop = %+v", fired)
	}
	trades, _ := s.Trades(ctx, automation.HistoryQuery{Since: at("2026-01-06 00:00")})
	if len(trades) != 1 || trades[0].Time != "09:31:00" || trades[0].Quantity != 1000 || trades[0].Price != 9.60 {
		t.Errorf("trades = %+v, want the sell at 09:31", trades)
	}
}

// The random walk fires a condition order though nobody calls.
func TestConditionFiresOnTheRandomWalk(t *testing.T) {
	opts := walking(11)
	start := "2026-01-05 09:30"
	twinClock := newClock(start)
	twin := newSim(t, opts, twinClock, nil)
	first := mustQuote(t, twin, "600000")
	low, firstAt := first, -1
	for k := 1; k <= 240; k++ {
		twinClock.Set(minuteTime(dayOf(at(start)), k).Format("2006-01-02 15:04"))
		if p := mustQuote(t, twin, "600000"); p < low {
			low = p
		}
	}
	if low == first {
		t.Fatal("the path never fell; pick another seed")
	}
	for k := 1; k <= 240 && firstAt < 0; k++ {
		twinClock.Set(minuteTime(dayOf(at(start)), k).Format("2006-01-02 15:04"))
		if mustQuote(t, twin, "600000") <= low {
			firstAt = k
		}
	}
	clk := newClock(start)
	s := newSim(t, opts, clk, nil)
	c := mustCondition(t, s, conditionBuy("600000", low, 100, 1))
	clk.Set("2026-01-05 16:00")
	fired := conditionByID(t, s, c.ID)
	if fired.Status != automation.ConditionTriggered {
		t.Fatalf("condition = %+v", fired)
	}
	o := mustOrder(t, s, fired.ContractNo)
	trades, _ := s.Trades(ctx, automation.HistoryQuery{})
	want := minuteTime(dayOf(at(start)), firstAt).Format("15:04:05")
	if o.AvgPrice != low || len(trades) != 1 || trades[0].Time != want {
		t.Errorf("order %+v trades %+v, want a fill at %v at %s", o, trades, low, want)
	}
}

func TestConditionOrdersExpire(t *testing.T) {
	clk := newClock("2026-01-05 10:00") // Monday
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, nil)
	one := mustCondition(t, s, conditionBuy("600000", 9.00, 100, 1))
	three := mustCondition(t, s, conditionBuy("600000", 9.00, 100, 3))
	if one.ExpiresOn != "20260105" || three.ExpiresOn != "20260107" {
		t.Errorf("expiry dates %s, %s", one.ExpiresOn, three.ExpiresOn)
	}
	tests := []struct {
		when     string
		watching int
	}{
		{"2026-01-05 23:59", 2},
		{"2026-01-06 00:00", 1},
		{"2026-01-07 23:59", 1},
		{"2026-01-08 00:00", 0},
	}
	for _, tt := range tests {
		clk.Set(tt.when)
		if cs := watching(t, s); len(cs) != tt.watching {
			t.Errorf("%s: %d watching, want %d", tt.when, len(cs), tt.watching)
		}
	}
	if c := conditionByID(t, s, one.ID); c.Status != automation.ConditionExpired {
		t.Errorf("expired condition = %+v", c)
	}
}

func TestCancelConditionOrders(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10.00, "000001": 20.00})
	opts.Positions = map[string]int64{"000001": 500}
	s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
	buy := mustCondition(t, s, conditionBuy("600000", 9.00, 100, 30))
	buy2 := mustCondition(t, s, conditionBuy("000001", 18.00, 100, 30))
	stop := mustCondition(t, s, stopLossProfit("000001", 5, 10, 0))

	tests := []struct {
		req  automation.ConditionCancel
		want []string
	}{
		{automation.ConditionCancel{Side: automation.Sell}, []string{stop.ID}},
		{automation.ConditionCancel{Code: "600000"}, []string{buy.ID}},
		{automation.ConditionCancel{Code: "600000"}, nil},
		{automation.ConditionCancel{}, []string{buy2.ID}},
	}
	for _, tt := range tests {
		got, err := s.CancelConditionOrders(ctx, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%+v: deleted %+v, want %v", tt.req, got, tt.want)
		}
		for i, c := range got {
			if c.ID != tt.want[i] || c.Status != automation.ConditionDeleted {
				t.Errorf("%+v: deleted %+v", tt.req, c)
			}
		}
	}
	if cs := watching(t, s); len(cs) != 0 {
		t.Errorf("still watching %+v", cs)
	}
}

func TestConditionOrderChecks(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10.00})
	opts.Positions = map[string]int64{"600000": 500}
	tests := []struct {
		name string
		req  automation.ConditionRequest
		want string
	}{
		{"no expiry", conditionBuy("600000", 9, 100, 0), "有效天数"},
		{"too long", conditionBuy("600000", 9, 100, 31), "有效天数"},
		{"odd lot", conditionBuy("600000", 9, 150, 5), "条件买入数量"},
		{"no quantity", conditionBuy("600000", 9, 0, 5), "条件买入数量"},
		{"bad target", conditionBuy("600000", 9.001, 100, 5), "目标价格"},
		{"repo code", conditionBuy("204001", 9, 100, 5), "reverse_repo_buy"},
		{"no position", stopLossProfit("000001", 3, 5, 0), "没有 000001 的持仓"},
		{"beyond the position", stopLossProfit("600000", 3, 5, 600), "超过持仓"},
		{"zero loss", stopLossProfit("600000", 0, 5, 0), "止损比例"},
		{"gain over 100", stopLossProfit("600000", 3, 101, 0), "止盈比例"},
		{"bad kind", automation.ConditionRequest{Kind: "trailing", Code: "600000", ExpireDays: 5}, "条件单类型"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
			_, err := s.PlaceConditionOrder(ctx, tt.req)
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v does not say %q", err, tt.want)
			}
			if cs := watching(t, s); len(cs) != 0 {
				t.Errorf("a rejected condition order is watched: %+v", cs)
			}
		})
	}
}
