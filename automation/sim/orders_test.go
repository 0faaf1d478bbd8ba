package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

var ctx = context.Background()

func TestMarketableBuyThenSellChargesExactFees(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, nil)

	// A limit above the price is marketable: it fills at the price.
	o := mustPlace(t, s, limit("600000", automation.Buy, 10.50, 1000))
	if o.Status != automation.OrderFilled || o.Filled != 1000 || o.AvgPrice != 10.00 || o.ContractNo != "1" {
		t.Fatalf("order = %+v", o)
	}
	if o.Market != marketShanghai || o.Kind != "限价" || o.Date != "20260105" || o.Time != "10:00:00" || o.Name == "" {
		t.Errorf("order columns = %+v", o)
	}
	// 10000.00 + commission 5.00 (minimum) + transfer fee 0.10.
	wantFunds := automation.Funds{Balance: 989994.90, Available: 989994.90, Withdrawable: 989994.90,
		MarketValue: 10000, TotalAssets: 999994.90, ProfitLoss: -5.10}
	if f := mustFunds(t, s); f != wantFunds {
		t.Errorf("funds = %+v, want %+v", f, wantFunds)
	}
	p, _ := mustPosition(t, s, "600000")
	wantPos := automation.Position{Code: "600000", Name: p.Name, Quantity: 1000, Available: 0, CostPrice: 10.005,
		LastPrice: 10, MarketValue: 10000, ProfitLoss: -5.10, ProfitRatio: -0.05, Market: marketShanghai}
	if p != wantPos {
		t.Errorf("position = %+v, want %+v", p, wantPos)
	}

	// Next day, sell at 11.00: 11000 − 5.00 − stamp duty 5.50 − transfer 0.11.
	clk.Set("2026-01-06 10:00")
	if err := s.SetQuote("600000", 11.00); err != nil {
		t.Fatal(err)
	}
	sell := mustPlace(t, s, market("600000", automation.Sell, 1000))
	if sell.Status != automation.OrderFilled || sell.AvgPrice != 11 || sell.Kind != "市价" || sell.ContractNo != "2" {
		t.Fatalf("sell = %+v", sell)
	}
	if f := mustFunds(t, s); f.Balance != 1000984.29 || f.TotalAssets != 1000984.29 || f.MarketValue != 0 {
		t.Errorf("funds after the sell = %+v, want 1000984.29", f)
	}
	if _, ok := mustPosition(t, s, "600000"); ok {
		t.Error("a sold-out position is still listed")
	}
	trades, err := s.Trades(ctx, automation.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ commission, stamp, transfer, net float64 }{{5, 0, 0.10, -10005.10}, {5, 5.50, 0.11, 10989.39}}
	if len(trades) != 2 {
		t.Fatalf("trades = %+v", trades)
	}
	for i, w := range want {
		tr := trades[i]
		if tr.Commission != w.commission || tr.StampDuty != w.stamp || tr.TransferFee != w.transfer || tr.Net != w.net {
			t.Errorf("trade %d = %+v, want %+v", i, tr, w)
		}
	}
}

func TestFeesRoundHalfAwayFromZero(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	opts := paper(map[string]float64{"600000": 30.02, "000001": 30.01})
	opts.Positions = map[string]int64{"000001": 1000}
	s := newSim(t, opts, clk, nil)
	// 30020.00: commission 7.505 → 7.51, transfer 0.3002 → 0.30.
	mustPlace(t, s, limit("600000", automation.Buy, 30.02, 1000))
	// 30010.00: commission 7.5025 → 7.50, stamp 15.005 → 15.01, transfer 0.30.
	mustPlace(t, s, limit("000001", automation.Sell, 30.01, 1000))
	trades, _ := s.Trades(ctx, automation.HistoryQuery{})
	if tr := trades[0]; tr.Commission != 7.51 || tr.TransferFee != 0.30 || tr.Net != -30027.81 {
		t.Errorf("buy trade = %+v", tr)
	}
	if tr := trades[1]; tr.Commission != 7.50 || tr.StampDuty != 15.01 || tr.TransferFee != 0.30 || tr.Net != 29987.19 {
		t.Errorf("sell trade = %+v", tr)
	}
	// 1,000,000 − 30027.81 + 29987.19
	if f := mustFunds(t, s); f.Balance != 999959.38 {
		t.Errorf("balance = %v, want 999959.38", f.Balance)
	}
}

func TestRestingOrdersFreezeAndFillWhenTheQuoteCrosses(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	opts := paper(map[string]float64{"600000": 10.00})
	opts.Positions = map[string]int64{"600000": 1000}
	s := newSim(t, opts, clk, nil)

	buy := mustPlace(t, s, limit("600000", automation.Buy, 9.80, 1000))
	sell := mustPlace(t, s, limit("600000", automation.Sell, 10.20, 400))
	if buy.Status != automation.OrderPending || sell.Status != automation.OrderPending {
		t.Fatalf("orders filled though not marketable: %+v %+v", buy, sell)
	}
	// Frozen: 9800 + commission 5.00 + transfer 0.098 → 0.10.
	if f := mustFunds(t, s); f.Frozen != 9805.10 || f.Available != 990194.90 || f.Balance != 1000000 {
		t.Errorf("funds with a resting buy = %+v", f)
	}
	if p, _ := mustPosition(t, s, "600000"); p.Available != 600 || p.Frozen != 400 {
		t.Errorf("position with a resting sell = %+v", p)
	}

	clk.Add(time.Minute)
	if err := s.SetQuote("600000", 9.90); err != nil {
		t.Fatal(err)
	}
	if o := mustOrder(t, s, buy.ContractNo); o.Status != automation.OrderPending {
		t.Fatalf("buy at 9.80 filled at 9.90: %+v", o)
	}
	clk.Add(time.Minute)
	if err := s.SetQuote("600000", 9.75); err != nil {
		t.Fatal(err)
	}
	// A resting order trades at its own limit.
	if o := mustOrder(t, s, buy.ContractNo); o.Status != automation.OrderFilled || o.AvgPrice != 9.80 || o.Time != "10:00:00" {
		t.Fatalf("buy after the price crossed = %+v", o)
	}
	if trades, _ := s.Trades(ctx, automation.HistoryQuery{}); len(trades) != 1 || trades[0].Time != "10:02:00" || trades[0].Price != 9.80 {
		t.Fatalf("trades = %+v, want one at 10:02 for 9.80", trades)
	}
	if f := mustFunds(t, s); f.Frozen != 0 || f.Balance != 990194.90 {
		t.Errorf("funds after the fill = %+v", f)
	}

	clk.Add(time.Minute)
	if err := s.SetQuote("600000", 10.50); err != nil {
		t.Fatal(err)
	}
	// 4080 − 5.00 − 2.04 − 0.04
	if o := mustOrder(t, s, sell.ContractNo); o.Status != automation.OrderFilled || o.AvgPrice != 10.20 {
		t.Fatalf("sell after the price crossed = %+v", o)
	}
	if f := mustFunds(t, s); f.Balance != 994267.82 {
		t.Errorf("balance after both fills = %v, want 994267.82", f.Balance)
	}
	if p, _ := mustPosition(t, s, "600000"); p.Quantity != 1600 || p.Available != 600 || p.Frozen != 0 {
		t.Errorf("position = %+v", p)
	}
}

// The random walk fills a resting order at the minute the price first
// reaches it, though nobody calls in between.
func TestRestingOrderFillsOnTheRandomWalk(t *testing.T) {
	opts := DefaultOptions()
	opts.Volatility = 0.05
	opts.Seed = 7
	opts.Quotes = map[string]float64{"600000": 10.00}
	start := "2026-01-05 09:30"

	// A twin account with the same seed and quotes sees the same path.
	twinClock := newClock(start)
	twin := newSim(t, opts, twinClock, nil)
	low, lowAt := mustQuote(t, twin, "600000"), -1
	for k := 1; k <= 120; k++ {
		twinClock.Add(time.Minute)
		if p := mustQuote(t, twin, "600000"); p < low {
			low, lowAt = p, k
		}
	}
	if lowAt < 0 {
		t.Fatal("the path never fell below its start; pick another seed")
	}
	firstAt := -1
	twinClock.Set(start)
	for k := 1; k <= 120 && firstAt < 0; k++ {
		twinClock.Add(time.Minute)
		if mustQuote(t, twin, "600000") <= low {
			firstAt = k
		}
	}

	clk := newClock(start)
	s := newSim(t, opts, clk, nil)
	o := mustPlace(t, s, limit("600000", automation.Buy, low, 100))
	if o.Status != automation.OrderPending {
		t.Fatalf("order at the day's low filled at once: %+v", o)
	}
	clk.Set("2026-01-05 11:30")
	got := mustOrder(t, s, o.ContractNo)
	want := minuteTime(dayOf(at(start)), firstAt).Format("15:04:05")
	if got.Status != automation.OrderFilled || got.AvgPrice != low {
		t.Fatalf("order = %+v, want filled at %v", got, low)
	}
	trades, _ := s.Trades(ctx, automation.HistoryQuery{})
	if len(trades) != 1 || trades[0].Time != want {
		t.Errorf("filled at %+v, want at %s", trades, want)
	}
}

func TestPriceBands(t *testing.T) {
	quotes := map[string]float64{"600000": 10, "300750": 10, "688981": 10, "830799": 10, "510300": 1, "113050": 100}
	tests := []struct {
		code         string
		down, up     float64
		below, above float64
		qty          int64
	}{
		{"600000", 9.00, 11.00, 8.99, 11.01, 100},
		{"300750", 8.00, 12.00, 7.99, 12.01, 100},
		{"688981", 8.00, 12.00, 7.99, 12.01, 100},
		{"830799", 7.00, 13.00, 6.99, 13.01, 100},
		{"510300", 0.900, 1.100, 0.899, 1.101, 100},
		{"113050", 80.000, 120.000, 79.999, 120.001, 10},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			opts := paper(quotes)
			opts.Positions = map[string]int64{tt.code: 1000}
			s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
			_, err := s.PlaceOrder(ctx, limit(tt.code, automation.Buy, tt.above, tt.qty))
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), "涨停价") {
				t.Errorf("buy above the band: %v", err)
			}
			_, err = s.PlaceOrder(ctx, limit(tt.code, automation.Sell, tt.below, tt.qty))
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), "跌停价") {
				t.Errorf("sell below the band: %v", err)
			}
			if o := mustPlace(t, s, limit(tt.code, automation.Buy, tt.up, tt.qty)); o.Status != automation.OrderFilled {
				t.Errorf("buy at limit-up = %+v", o)
			}
			if o := mustPlace(t, s, limit(tt.code, automation.Sell, tt.down, tt.qty)); o.Status != automation.OrderFilled {
				t.Errorf("sell at limit-down = %+v", o)
			}
			if o := mustPlace(t, s, limit(tt.code, automation.Buy, tt.down, tt.qty)); o.Status != automation.OrderPending {
				t.Errorf("a bid at limit-down = %+v", o)
			}
		})
	}
}

func TestInsufficientCashAndShares(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10.00})
	opts.InitialCash = 10000
	opts.Positions = map[string]int64{"000001": 500}
	s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)

	_, err := s.PlaceOrder(ctx, limit("600000", automation.Buy, 10.00, 1000))
	wantCode(t, err, automation.CodeRejected)
	for _, part := range []string{"可用资金不足", "10005.10", "10000.00", "5.10"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("%q does not name %q", err, part)
		}
	}
	_, err = s.PlaceOrder(ctx, market("600000", automation.Buy, 1000))
	wantCode(t, err, automation.CodeRejected)

	_, err = s.PlaceOrder(ctx, limit("600000", automation.Sell, 10.00, 100))
	wantCode(t, err, automation.CodeRejected)
	if !strings.Contains(err.Error(), "没有 600000 的持仓") {
		t.Errorf("sell without a position: %v", err)
	}
	_, err = s.PlaceOrder(ctx, market("000001", automation.Sell, 600))
	wantCode(t, err, automation.CodeRejected)
	if !strings.Contains(err.Error(), "可卖 500股") {
		t.Errorf("sell beyond the position: %v", err)
	}
	if f := mustFunds(t, s); f.Balance != 10000 || f.Frozen != 0 {
		t.Errorf("rejected orders moved money: %+v", f)
	}
	if os, _ := s.Orders(ctx, ""); len(os) != 0 {
		t.Errorf("rejected orders were recorded: %+v", os)
	}
}

func TestTPlusOne(t *testing.T) {
	tests := []struct {
		name     string
		bought   string
		notYet   []string
		sellable string
	}{
		{"monday to tuesday", "2026-01-05 10:00", []string{"2026-01-05 14:59", "2026-01-05 23:59"}, "2026-01-06 09:00"},
		{"friday to monday", "2026-01-09 10:00", []string{"2026-01-10 10:00", "2026-01-11 23:59"}, "2026-01-12 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(tt.bought)
			s := newSim(t, paper(map[string]float64{"600000": 10}), clk, nil)
			mustPlace(t, s, market("600000", automation.Buy, 1000))
			for _, when := range tt.notYet {
				clk.Set(when)
				p, _ := mustPosition(t, s, "600000")
				if p.Quantity != 1000 || p.Available != 0 {
					t.Errorf("%s: position = %+v, want 1000 held, none sellable", when, p)
				}
				_, err := s.PlaceOrder(ctx, market("600000", automation.Sell, 1000))
				wantCode(t, err, automation.CodeRejected)
				if !strings.Contains(err.Error(), "今日买入T+1不可卖 1000股") {
					t.Errorf("%s: %v", when, err)
				}
			}
			clk.Set(tt.sellable)
			if p, _ := mustPosition(t, s, "600000"); p.Available != 1000 {
				t.Errorf("%s: position = %+v, want all sellable", tt.sellable, p)
			}
			mustPlace(t, s, market("600000", automation.Sell, 1000))
		})
	}
}

func TestOrderChecks(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10, "113050": 100})
	opts.Positions = map[string]int64{"600000": 150}
	tests := []struct {
		name string
		req  automation.OrderRequest
		want string // in the rejection; "" = accepted
	}{
		{"odd buy", limit("600000", automation.Buy, 10, 150), "整数倍"},
		{"bond lot of 10", limit("113050", automation.Buy, 100, 10), ""},
		{"odd lot sold alone", limit("600000", automation.Sell, 10, 50), ""},
		{"odd lot split", limit("600000", automation.Sell, 10, 120), "零股"},
		{"too many decimals", limit("600000", automation.Buy, 10.001, 100), "小数"},
		{"zero quantity", limit("600000", automation.Buy, 10, 0), "委托数量"},
		{"bad side", automation.OrderRequest{Code: "600000", Side: "buy", Kind: automation.Limit, Price: 10, Quantity: 100}, "买卖方向"},
		{"bad kind", automation.OrderRequest{Code: "600000", Side: automation.Buy, Kind: "stop", Price: 10, Quantity: 100}, "委托类别"},
		{"bad strategy", automation.OrderRequest{Code: "600000", Side: automation.Buy, Kind: automation.Market, Strategy: 7, Quantity: 100}, "市价委托方式"},
		{"repo code", limit("204001", automation.Buy, 1, 100), "reverse_repo_buy"},
		{"bad code", limit("6000", automation.Buy, 10, 100), "6位数字"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
			_, err := s.PlaceOrder(ctx, tt.req)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v does not say %q", err, tt.want)
			}
		})
	}
}

func TestCancelOrders(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10, "000001": 20})
	opts.Positions = map[string]int64{"600000": 1000}
	s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
	b1 := mustPlace(t, s, limit("600000", automation.Buy, 9.50, 100))
	b2 := mustPlace(t, s, limit("000001", automation.Buy, 19.00, 100))
	s1 := mustPlace(t, s, limit("600000", automation.Sell, 10.50, 300))
	filled := mustPlace(t, s, market("000001", automation.Buy, 100))

	tests := []struct {
		name string
		req  automation.CancelRequest
		want []string // contract numbers cancelled
		err  string
	}{
		{"filled order", automation.CancelRequest{ContractNo: filled.ContractNo}, nil, "状态为 已成"},
		{"unknown contract", automation.CancelRequest{ContractNo: "999"}, nil, "没有合同编号为 999"},
		{"by contract", automation.CancelRequest{ContractNo: b2.ContractNo}, []string{b2.ContractNo}, ""},
		{"already cancelled", automation.CancelRequest{ContractNo: b2.ContractNo}, nil, "状态为 已撤"},
		{"by side", automation.CancelRequest{Side: automation.Sell}, []string{s1.ContractNo}, ""},
		{"nothing left on the side", automation.CancelRequest{Side: automation.Sell}, nil, ""},
		{"by code", automation.CancelRequest{Code: "600000"}, []string{b1.ContractNo}, ""},
	}
	for _, tt := range tests {
		got, err := s.CancelOrders(ctx, tt.req)
		if tt.err != "" {
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v does not say %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: cancelled %+v, want %v", tt.name, got, tt.want)
		}
		for i, o := range got {
			if o.ContractNo != tt.want[i] || o.Status != automation.OrderCancelled || o.Cancelled != o.Quantity {
				t.Errorf("%s: cancelled %+v", tt.name, o)
			}
		}
	}
	f := mustFunds(t, s)
	if f.Frozen != 0 || f.Balance != 997994.98 { // 2000 + 5.00 + 0.02 bought
		t.Errorf("funds after cancelling = %+v", f)
	}
	if p, _ := mustPosition(t, s, "600000"); p.Frozen != 0 || p.Available != 1000 {
		t.Errorf("position after cancelling = %+v", p)
	}
}

func TestDayOrdersExpireAtMidnight(t *testing.T) {
	clk := newClock("2026-01-05 14:00")
	s := newSim(t, paper(map[string]float64{"600000": 10}), clk, nil)
	o := mustPlace(t, s, limit("600000", automation.Buy, 9.00, 1000))
	clk.Set("2026-01-05 23:59")
	if os, _ := s.Orders(ctx, ""); len(os) != 1 || os[0].Status != automation.OrderPending {
		t.Fatalf("before midnight: %+v", os)
	}
	clk.Set("2026-01-06 09:00")
	if os, _ := s.Orders(ctx, ""); len(os) != 0 {
		t.Errorf("yesterday's orders listed today: %+v", os)
	}
	got := mustOrder(t, s, o.ContractNo)
	if got.Status != automation.OrderCancelled || got.Cancelled != 1000 || !strings.Contains(got.Reason, "收市") {
		t.Errorf("expired order = %+v", got)
	}
	if f := mustFunds(t, s); f.Frozen != 0 || f.Available != 1000000 {
		t.Errorf("frozen cash not released: %+v", f)
	}
}

func TestClientOrderIDIsIdempotent(t *testing.T) {
	s := newSim(t, paper(map[string]float64{"600000": 10}), newClock("2026-01-05 10:00"), nil)
	req := limit("600000", automation.Buy, 10, 100)
	req.ClientOrderID = "k-1"
	first := mustPlace(t, s, req)
	again := mustPlace(t, s, req)
	if again != first || first.ClientOrderID != "k-1" {
		t.Errorf("replay = %+v, first = %+v", again, first)
	}
	if os, _ := s.Orders(ctx, ""); len(os) != 1 {
		t.Errorf("a repeated client order id placed %d orders", len(os))
	}
	req.Quantity = 200
	_, err := s.PlaceOrder(ctx, req)
	wantCode(t, err, automation.CodeRejected)
	if !strings.Contains(err.Error(), "k-1") {
		t.Errorf("reused key: %v", err)
	}
}

func TestOrdersAndHistory(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10, "000001": 20}), clk, nil)
	mon := mustPlace(t, s, market("600000", automation.Buy, 100))
	clk.Set("2026-01-06 10:00")
	tue1 := mustPlace(t, s, market("000001", automation.Buy, 100))
	tue2 := mustPlace(t, s, market("600000", automation.Buy, 100))

	contracts := func(os []automation.Order, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range os {
			out = append(out, o.ContractNo)
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"today", contracts(s.Orders(ctx, "")), []string{tue1.ContractNo, tue2.ContractNo}},
		{"today by code", contracts(s.Orders(ctx, "600000")), []string{tue2.ContractNo}},
		{"since monday", contracts(s.OrderHistory(ctx, automation.HistoryQuery{Since: at("2026-01-05 00:00")})), []string{mon.ContractNo, tue1.ContractNo, tue2.ContractNo}},
		{"since monday by code", contracts(s.OrderHistory(ctx, automation.HistoryQuery{Since: at("2026-01-05 00:00"), Code: "600000"})), []string{mon.ContractNo, tue2.ContractNo}},
		{"since tuesday", contracts(s.OrderHistory(ctx, automation.HistoryQuery{Since: at("2026-01-06 00:00")})), []string{tue1.ContractNo, tue2.ContractNo}},
	}
	for _, tt := range tests {
		if strings.Join(tt.got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestSupportsAndIdentity(t *testing.T) {
	s := newSim(t, paper(nil), newClock("2026-01-05 10:00"), nil)
	for _, op := range automation.StockOperations {
		if !s.Supports(op) {
			t.Errorf("Supports(%s) = false", op)
		}
	}
	if s.Supports("place_order") {
		t.Error("Supports an exchange operation")
	}
	if s.Name() != "sim" || s.Driver() != "sim" || s.State() != automation.StateReady {
		t.Errorf("name %s driver %s state %s", s.Name(), s.Driver(), s.State())
	}
}
