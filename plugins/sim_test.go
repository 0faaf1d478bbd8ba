package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/plugins"
)

// Every operation against the real sim driver, through the registry as the
// queue calls it: params validated to their canonical JSON, executed, and
// the result encoded as the API would.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type account struct {
	t   *testing.T
	reg *plugins.Registry
	sim *sim.Terminal
	clk *clock
}

func newAccount(t *testing.T) *account {
	t.Helper()
	// Monday 2026-01-05, 10:00 in Shanghai: the session is open.
	clk := &clock{now: time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)}
	opts := sim.DefaultOptions()
	opts.InitialCash = 1_000_000
	opts.Volatility = 0 // prices stay at their quotes
	opts.Quotes = map[string]float64{"600000": 10.00, "000001": 12.00, "510300": 4.000}
	opts.Positions = map[string]int64{"000001": 1000}
	term, err := sim.New(context.Background(), "sim", opts, sim.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	reg := plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet())
	reg.WithClock(clk.Now)
	return &account{t: t, reg: reg, sim: term, clk: clk}
}

// try validates params as a submit would, then executes the canonical
// form as the lane would, and returns the data as a script decodes it.
func (a *account) try(op, params string) (map[string]any, error) {
	a.t.Helper()
	p, errs, err := a.reg.Validate(op, json.RawMessage(params), nil)
	if err != nil || errs != nil {
		a.t.Fatalf("%s %s: refused at submit: %v %v", op, params, errs, err)
	}
	res, err := a.reg.Execute(context.Background(), a.sim, op, p.JSON())
	if res.Data == nil {
		return nil, err
	}
	raw, jerr := json.Marshal(res.Data)
	if jerr != nil {
		a.t.Fatalf("%s: %v", op, jerr)
	}
	var data map[string]any
	if jerr := json.Unmarshal(raw, &data); jerr != nil {
		a.t.Fatalf("%s: %v", op, jerr)
	}
	if data["message"] != res.Message {
		a.t.Errorf("%s: data message %q differs from the result's %q", op, data["message"], res.Message)
	}
	return data, err
}

func (a *account) run(op, params string) map[string]any {
	a.t.Helper()
	data, err := a.try(op, params)
	if err != nil {
		a.t.Fatalf("%s %s: %v", op, params, err)
	}
	if data["success"] != true {
		a.t.Fatalf("%s %s: success = %v", op, params, data["success"])
	}
	return data
}

func (a *account) funds() map[string]any { return a.run(automation.OpFundsQuery, `{}`) }

func rows(t *testing.T, data map[string]any, key string) []map[string]any {
	t.Helper()
	list, ok := data[key].([]any)
	if !ok {
		t.Fatalf("%s = %#v, want a list", key, data[key])
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
	}
	return out
}

func find(rs []map[string]any, key string, value any) map[string]any {
	for _, r := range rs {
		if r[key] == value {
			return r
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

func TestSimEveryOperation(t *testing.T) {
	a := newAccount(t)

	// funds_query: the opening account, 1000 shares of 000001 at 12.00.
	f := a.funds()
	if f["资金余额"] != 1_000_000.0 || f["可用金额"] != 1_000_000.0 || f["股票市值"] != 12_000.0 || f["总资产"] != 1_012_000.0 {
		t.Fatalf("opening funds = %v", f)
	}

	// holding_query, in every return type.
	h := rows(t, a.run(automation.OpHoldingQuery, `{"return_type":"json"}`), "holdings")
	if len(h) != 1 || h[0]["证券代码"] != "000001" || h[0]["股票余额"] != 1000.0 || h[0]["可用余额"] != 1000.0 {
		t.Fatalf("holdings = %v", h)
	}
	rows(t, a.run(automation.OpHoldingQuery, `{"return_type":"dict"}`), "holdings")
	for rt, prefix := range map[string]string{"markdown": "| 证券代码 |", "str": "证券代码"} {
		table, _ := a.run(automation.OpHoldingQuery, `{"return_type":"`+rt+`"}`)["holdings"].(string)
		if !strings.HasPrefix(table, prefix) || !strings.Contains(table, "000001") {
			t.Errorf("%s holdings = %q", rt, table)
		}
	}

	// buy below the market: two orders rest, each with its contract number.
	first := a.run(automation.OpBuy, `{"stock_code":"600000","price":9.50,"quantity":100}`)
	second := a.run(automation.OpBuy, `{"stock_code":"600000","price":"9.60","quantity":"200"}`)
	firstNo, _ := first["contract_no"].(string)
	secondNo, _ := second["contract_no"].(string)
	if firstNo == "" || secondNo == "" || firstNo == secondNo {
		t.Fatalf("contract numbers %q and %q", firstNo, secondNo)
	}
	if first["price"] != "9.50" || first["message"] != "成功提交600000的买入委托" || first["order"].(map[string]any)["状态说明"] != automation.OrderPending {
		t.Errorf("buy result = %v", first)
	}

	// order_query shows both, open.
	orders := rows(t, a.run(automation.OpOrderQuery, `{"stock_code":"600000"}`), "orders")
	if len(orders) != 2 || find(orders, "合同编号", firstNo) == nil || find(orders, "合同编号", secondNo)["委托价格"] != 9.6 {
		t.Fatalf("orders = %v", orders)
	}

	// Their cash is frozen.
	f = a.funds()
	frozen, _ := f["冻结金额"].(float64)
	if frozen < 950+1920 || f["可用金额"].(float64) != 1_000_000-frozen {
		t.Errorf("funds with two resting buys = %v", f)
	}

	// order_cancel by contract_no cancels exactly that order.
	c := a.run(automation.OpOrderCancel, `{"contract_no":"`+firstNo+`"}`)
	if c["cancelled_count"] != 1.0 || c["contract_no"] != firstNo {
		t.Fatalf("cancel = %v", c)
	}
	orders = rows(t, a.run(automation.OpOrderQuery, `{}`), "orders")
	if find(orders, "合同编号", firstNo)["状态说明"] != automation.OrderCancelled ||
		find(orders, "合同编号", secondNo)["状态说明"] != automation.OrderPending {
		t.Fatalf("after cancelling %s: %v", firstNo, orders)
	}
	// … and a second time it is refused, saying why.
	if _, err := a.try(automation.OpOrderCancel, `{"contract_no":"`+firstNo+`"}`); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("cancelling a cancelled order: err = %v, want rejected", err)
	}

	// A marketable buy fills; T+1 keeps it from being sold today.
	filled := a.run(automation.OpBuy, `{"stock_code":"600000","price":10.00,"quantity":100}`)
	if filled["order"].(map[string]any)["状态说明"] != automation.OrderFilled {
		t.Errorf("marketable buy = %v", filled)
	}
	h = rows(t, a.run(automation.OpHoldingQuery, `{}`), "holdings")
	if p := find(h, "证券代码", "600000"); p == nil || p["股票余额"] != 100.0 || p["可用余额"] != 0.0 {
		t.Errorf("600000 after the buy = %v", p)
	}
	if _, err := a.try(automation.OpSell, `{"stock_code":"600000","price":10.00,"quantity":100}`); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("selling today's purchase: err = %v, want rejected (T+1)", err)
	}

	// sell what was held before today: cash comes in.
	before := a.funds()["可用金额"].(float64)
	sold := a.run(automation.OpSell, `{"stock_code":"000001","price":12.00,"quantity":100}`)
	if sold["message"] != "成功提交000001的卖出委托" || sold["price"] != "12.00" {
		t.Errorf("sell = %v", sold)
	}
	if after := a.funds()["可用金额"].(float64); after <= before || after > before+1200 {
		t.Errorf("available %v → %v after selling 100 × 12.00", before, after)
	}

	// market_buy and market_sell fill at the current price.
	mb := a.run(automation.OpMarketBuy, `{"stock_code":"510300","quantity":1000}`)
	if mb["execution_strategy"] != 3.0 || mb["order"].(map[string]any)["委托类别"] != "市价" || mb["contract_no"] == "" {
		t.Errorf("market_buy = %v", mb)
	}
	ms := a.run(automation.OpMarketSell, `{"stock_code":"000001","quantity":100,"execution_strategy":1}`)
	if ms["order"].(map[string]any)["状态说明"] != automation.OrderFilled {
		t.Errorf("market_sell = %v", ms)
	}
	h = rows(t, a.run(automation.OpHoldingQuery, `{}`), "holdings")
	if find(h, "证券代码", "510300")["股票余额"] != 1000.0 || find(h, "证券代码", "000001")["股票余额"] != 800.0 {
		t.Errorf("holdings after market orders = %v", h)
	}

	// order_cancel of everything open: only the second resting buy is left.
	c = a.run(automation.OpOrderCancel, `{"cancel_type":"buy"}`)
	cancelled := rows(t, c, "cancelled_orders")
	if c["cancelled_count"] != 1.0 || cancelled[0]["合同编号"] != secondNo {
		t.Errorf("cancel all buys = %v", c)
	}
	if c = a.run(automation.OpOrderCancel, `{}`); c["cancelled_count"] != 0.0 || c["message"] != "没有可撤销的委托" {
		t.Errorf("cancel with nothing open = %v", c)
	}
	if f = a.funds(); f["冻结金额"] != 0.0 {
		t.Errorf("frozen after cancelling everything = %v", f["冻结金额"])
	}

	// historical_commission_query: today's six orders, per stock too.
	hist := a.run(automation.OpHistoricalCommissionQuery, `{"time_range":"当日"}`)
	if hist["count"] != 6.0 || len(rows(t, hist, "historical_orders")) != 6 {
		t.Errorf("today's history = %v", hist)
	}
	hist = a.run(automation.OpHistoricalCommissionQuery, `{"time_range":"近一周","stock_code":"600000","return_type":"markdown"}`)
	if table, _ := hist["historical_orders"].(string); strings.Count(table, "| 600000 |") != 3 {
		t.Errorf("600000 history table = %q", table)
	}

	// reverse_repo_query shows the rates; reverse_repo_buy lends at the table's rate.
	rates := rows(t, a.run(automation.OpReverseRepoQuery, `{}`), "reverse_repo_interest")
	gc001 := find(rates, "证券代码", "204001")
	if len(rates) != 10 || gc001 == nil || gc001["市场类型"] != "上海市场" || gc001["时间类型"] != "1天期" ||
		!strings.HasSuffix(gc001["年化利率"].(string), "%") {
		t.Fatalf("rates = %v", rates)
	}
	before = a.funds()["可用金额"].(float64)
	repo := a.run(automation.OpReverseRepoBuy, `{"market":"上海","time_range":"1天期","amount":10000}`)
	wantMsg := fmt.Sprintf("国债逆回购操作成功, 成功出借:10000 元, 年化利率为:%s", gc001["年化利率"])
	if repo["message"] != wantMsg || repo["contract_no"] == "" {
		t.Errorf("repo = %v, want message %q", repo, wantMsg)
	}
	if after := a.funds()["可用金额"].(float64); !near(after, before-10000) {
		t.Errorf("available %v → %v after lending 10000", before, after)
	}

	// condition_buy and stop_loss_profit are listed, then deleted by side.
	cb := a.run(automation.OpConditionBuy, `{"stock_code":"600000","target_price":9.00,"quantity":100,"expire_days":5}`)
	if cb["message"] != "执行600000的条件单成功" || cb["target_price"] != 9.0 {
		t.Errorf("condition_buy = %v", cb)
	}
	sl := a.run(automation.OpStopLossProfit, `{"stock_code":"000001","stop_loss_percent":3,"stop_profit_percent":5}`)
	if sl["message"] != "执行000001的止盈止损单成功" || sl["quantity"] != nil {
		t.Errorf("stop_loss_profit = %v, want quantity null: the whole sellable position", sl)
	}
	q := a.run(automation.OpConditionOrderQuery, `{}`)
	if q["message"] != "条件单查询成功,共获取到2条数据" || len(rows(t, q, "condition_orders")) != 2 {
		t.Fatalf("condition orders = %v", q)
	}
	del := a.run(automation.OpConditionOrderCancel, `{"order_type":"买入"}`)
	if del["deleted_count"] != 1.0 || del["order_type"] != "买入" || del["message"] != "条件单删除成功" {
		t.Errorf("delete buys = %v", del)
	}
	left := rows(t, a.run(automation.OpConditionOrderQuery, `{"return_type":"json"}`), "condition_orders")
	if len(left) != 1 || left[0]["证券代码"] != "000001" || left[0]["买卖方向"] != string(automation.Sell) {
		t.Errorf("left after deleting buys = %v", left)
	}
	if del = a.run(automation.OpConditionOrderCancel, `{"stock_code":"000001"}`); del["deleted_count"] != 1.0 {
		t.Errorf("delete 000001 = %v", del)
	}
	if q = a.run(automation.OpConditionOrderQuery, `{"return_type":"str"}`); q["count"] != 0.0 {
		t.Errorf("condition orders after deleting all = %v", q)
	}

	// The next trading day, yesterday's purchase can be sold, and the
	// history of the week still has it.
	a.clk.advance(24 * time.Hour)
	a.run(automation.OpSell, `{"stock_code":"600000","price":10.00,"quantity":100}`)
	if hist = a.run(automation.OpHistoricalCommissionQuery, `{"time_range":"近一周"}`); hist["count"] != 7.0 {
		t.Errorf("week history = %v", hist["count"])
	}
	if hist = a.run(automation.OpHistoricalCommissionQuery, `{}`); hist["count"] != 1.0 {
		t.Errorf("today's history on day 2 = %v", hist["count"])
	}
}

// A condition buy fires when the price falls to its target, and the order
// it places shows in order_query.
func TestSimConditionBuyFires(t *testing.T) {
	a := newAccount(t)
	a.run(automation.OpConditionBuy, `{"stock_code":"600000","target_price":9.50,"quantity":200}`)
	if err := a.sim.SetQuote("600000", 9.40); err != nil {
		t.Fatal(err)
	}
	orders := rows(t, a.run(automation.OpOrderQuery, `{}`), "orders")
	if len(orders) != 1 || orders[0]["证券代码"] != "600000" || orders[0]["委托数量"] != 200.0 || orders[0]["状态说明"] != automation.OrderFilled {
		t.Fatalf("orders after the trigger = %v", orders)
	}
	if q := a.run(automation.OpConditionOrderQuery, `{}`); q["count"] != 0.0 {
		t.Errorf("a fired condition order is still listed: %v", q)
	}
}

// The sim's refusals reach the caller with their code and reason.
func TestSimRefusals(t *testing.T) {
	a := newAccount(t)
	_, err := a.try(automation.OpBuy, `{"stock_code":"600000","price":11.50,"quantity":100}`)
	if automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("buy above the limit band: err = %v, want rejected", err)
	}
	_, err = a.try(automation.OpBuy, `{"stock_code":"600000","price":10.00,"quantity":900000}`)
	if automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("buy beyond the cash: err = %v, want rejected", err)
	}
	if err := a.sim.Inject(sim.Fault{Kind: sim.FaultDisconnect}); err != nil {
		t.Fatal(err)
	}
	if _, err = a.try(automation.OpFundsQuery, `{}`); automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("disconnected: err = %v, want not_connected", err)
	}
}
