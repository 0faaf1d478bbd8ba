package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// testNow is 2026-01-05 10:30:00 China time, a Monday.
var testNow = time.Date(2026, 1, 5, 2, 30, 0, 0, time.UTC)

func testRegistry() *Registry {
	r := NewRegistry(StockSet(), ExchangeSet())
	r.WithClock(func() time.Time { return testNow })
	return r
}

// execute runs op on b and returns the result's data as decoded JSON.
func execute(t *testing.T, b automation.Terminal, op, raw string) (map[string]any, Result, error) {
	t.Helper()
	res, err := testRegistry().Execute(context.Background(), b, op, json.RawMessage(raw))
	if res.Data == nil {
		return nil, res, err
	}
	encoded, jerr := json.Marshal(res.Data)
	if jerr != nil {
		t.Fatalf("%s: result data does not encode: %v", op, jerr)
	}
	var data map[string]any
	if jerr := json.Unmarshal(encoded, &data); jerr != nil {
		t.Fatalf("%s: result data is not an object: %s", op, encoded)
	}
	return data, res, err
}

func mustExecute(t *testing.T, b automation.Terminal, op, raw string) (map[string]any, Result) {
	t.Helper()
	data, res, err := execute(t, b, op, raw)
	if err != nil {
		t.Fatalf("%s %s: %v", op, raw, err)
	}
	return data, res
}

// wantKeys checks that data has exactly these keys.
func wantKeys(t *testing.T, data map[string]any, keys ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(data))
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("data keys = %v, want %v", got, keys)
	}
}

func wantValue(t *testing.T, data map[string]any, key string, want any) {
	t.Helper()
	if got := data[key]; got != want {
		t.Errorf("data[%q] = %#v, want %#v", key, got, want)
	}
}

func wantCalls(t *testing.T, b *fakeBroker, calls ...string) {
	t.Helper()
	if !slices.Equal(b.calls, calls) {
		t.Errorf("broker calls = %v, want %v", b.calls, calls)
	}
}

const wantTimestamp = "2026-01-05T10:30:00+08:00"

var placedOrder = automation.Order{
	ContractNo: "1001", Code: "600000", Name: "浦发银行", Side: automation.Buy, Kind: "限价",
	Price: 10.5, Quantity: 100, Status: automation.OrderPending, Date: "20260105", Time: "10:30:00", Market: "上海A股",
}

func TestExecuteLimitOrders(t *testing.T) {
	for _, tc := range []struct {
		op   string
		side automation.Side
		msg  string
	}{
		{automation.OpBuy, automation.Buy, "成功提交600000的买入委托"},
		{automation.OpSell, automation.Sell, "成功提交600000的卖出委托"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			b := &fakeBroker{order: placedOrder}
			data, res := mustExecute(t, b, tc.op, `{"stock_code":"600000","price":10.5,"quantity":100}`)
			wantCalls(t, b, "PlaceOrder")
			want := automation.OrderRequest{Code: "600000", Side: tc.side, Kind: automation.Limit, Price: 10.5, Quantity: 100}
			if b.orderReq != want {
				t.Errorf("order request = %+v, want %+v", b.orderReq, want)
			}
			wantKeys(t, data, "stock_code", "price", "quantity", "operation", "success", "message", "contract_no", "order")
			wantValue(t, data, "stock_code", "600000")
			wantValue(t, data, "price", "10.50")
			wantValue(t, data, "quantity", 100.0)
			wantValue(t, data, "operation", tc.op)
			wantValue(t, data, "success", true)
			wantValue(t, data, "message", tc.msg)
			wantValue(t, data, "contract_no", "1001")
			if order, _ := data["order"].(map[string]any); order["合同编号"] != "1001" || order["证券代码"] != "600000" {
				t.Errorf("order = %v, want the broker's order", data["order"])
			}
			if res.Message != tc.msg {
				t.Errorf("message = %q, want %q", res.Message, tc.msg)
			}
		})
	}
}

func TestExecuteLimitOrderPriceKeepsItsDecimals(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"stock_code":"510300","price":3.4,"quantity":100}`, "3.400"},
		{`{"stock_code":"113050","price":"101.125","quantity":10}`, "101.125"},
		{`{"stock_code":"000001","price":12,"quantity":100}`, "12.00"},
	} {
		data, _ := mustExecute(t, &fakeBroker{order: placedOrder}, automation.OpBuy, tc.raw)
		wantValue(t, data, "price", tc.want)
	}
}

func TestExecutePassesTheClientOrderID(t *testing.T) {
	b := &fakeBroker{order: placedOrder}
	_, err := testRegistry().ExecuteWith(context.Background(), b, automation.OpSell,
		json.RawMessage(`{"stock_code":"600000","price":10.5,"quantity":100}`), ExecOptions{ClientOrderID: "key-1"})
	if err != nil || b.orderReq.ClientOrderID != "key-1" {
		t.Fatalf("client order id = %q (err %v), want key-1", b.orderReq.ClientOrderID, err)
	}
}

func TestExecuteRejectedOrder(t *testing.T) {
	rejected := placedOrder
	rejected.Status, rejected.Reason = automation.OrderRejected, "可用资金不足"
	data, res, err := execute(t, &fakeBroker{order: rejected}, automation.OpBuy, `{"stock_code":"600000","price":10.5,"quantity":100}`)
	if automation.CodeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "可用资金不足") {
		t.Fatalf("err = %v (code %s), want rejected naming the reason", err, automation.CodeOf(err))
	}
	wantValue(t, data, "success", false)
	wantValue(t, data, "contract_no", "1001")
	if !strings.Contains(res.Message, "废单") {
		t.Errorf("message = %q, want it to say 废单", res.Message)
	}
}

func TestExecuteBrokerErrorsPassThrough(t *testing.T) {
	for _, op := range automation.StockOperations {
		raw := NewRegistry(StockSet(), ExchangeSet()).plugins[op].Example
		encoded, _ := json.Marshal(raw)
		for _, want := range []error{
			automation.Rejected("可用资金不足"),
			automation.NotConnected("xiadan.exe is not running"),
			automation.OutcomeUnknown(context.DeadlineExceeded, "no answer"),
		} {
			_, _, err := execute(t, &fakeBroker{err: want}, op, string(encoded))
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", op, err, want)
			}
		}
	}
}

func TestExecuteMarketOrders(t *testing.T) {
	for _, tc := range []struct {
		op   string
		side automation.Side
		msg  string
	}{
		{automation.OpMarketBuy, automation.Buy, "成功提交600000的市价买入委托"},
		{automation.OpMarketSell, automation.Sell, "成功提交600000的市价卖出委托"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			b := &fakeBroker{order: placedOrder}
			data, res := mustExecute(t, b, tc.op, `{"stock_code":"600000","quantity":200}`)
			want := automation.OrderRequest{Code: "600000", Side: tc.side, Kind: automation.Market, Quantity: 200, Strategy: 3}
			if b.orderReq != want {
				t.Errorf("order request = %+v, want %+v", b.orderReq, want)
			}
			wantKeys(t, data, "stock_code", "quantity", "execution_strategy", "strategy", "operation", "success", "message", "contract_no", "order")
			wantValue(t, data, "execution_strategy", 3.0)
			wantValue(t, data, "strategy", "最优五档即时成交剩余撤销")
			wantValue(t, data, "operation", tc.op)
			wantValue(t, data, "contract_no", "1001")
			if res.Message != tc.msg {
				t.Errorf("message = %q, want %q", res.Message, tc.msg)
			}

			mustExecute(t, b, tc.op, `{"stock_code":"600000","quantity":200,"execution_strategy":5}`)
			if b.orderReq.Strategy != 5 {
				t.Errorf("strategy = %d, want 5", b.orderReq.Strategy)
			}
		})
	}
}

var positions = []automation.Position{
	{Code: "600000", Name: "浦发银行", Quantity: 1000, Available: 800, CostPrice: 10.2, LastPrice: 10.5, MarketValue: 10500, ProfitLoss: 300, ProfitRatio: 2.94, Market: "上海A股"},
	{Code: "000001", Name: "平安银行", Quantity: 200, Available: 200, CostPrice: 12, LastPrice: 11.8, MarketValue: 2360, ProfitLoss: -40, ProfitRatio: -1.67, Market: "深圳A股"},
}

func TestExecuteHoldingQuery(t *testing.T) {
	for _, rt := range []string{"json", "dict"} {
		b := &fakeBroker{positions: positions}
		data, res := mustExecute(t, b, automation.OpHoldingQuery, `{"return_type":"`+rt+`"}`)
		wantCalls(t, b, "Positions")
		wantKeys(t, data, "holdings", "count", "timestamp", "success", "message")
		wantValue(t, data, "timestamp", wantTimestamp)
		wantValue(t, data, "count", 2.0)
		rows, _ := data["holdings"].([]any)
		if len(rows) != 2 {
			t.Fatalf("%s: holdings = %v, want 2 rows", rt, data["holdings"])
		}
		first, _ := rows[0].(map[string]any)
		if first["证券代码"] != "600000" || first["可用余额"] != 800.0 || first["成本价"] != 10.2 {
			t.Errorf("%s: first row = %v", rt, first)
		}
		if res.Message != "持仓查询成功,共获取到2条数据" {
			t.Errorf("message = %q", res.Message)
		}
	}

	data, _ := mustExecute(t, &fakeBroker{positions: positions}, automation.OpHoldingQuery, `{"return_type":"markdown"}`)
	table, _ := data["holdings"].(string)
	if !strings.HasPrefix(table, "| 证券代码 | 证券名称 | 股票余额 |") || !strings.Contains(table, "| 000001 | 平安银行 | 200 |") {
		t.Errorf("markdown holdings = %q", table)
	}
	data, _ = mustExecute(t, &fakeBroker{positions: positions}, automation.OpHoldingQuery, `{"return_type":"str"}`)
	table, _ = data["holdings"].(string)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "600000    浦发银行") {
		t.Fatalf("str holdings = %q", table)
	}
	// The last column starts at the same screen column on every line.
	col := func(line, cell string) int { return displayWidth(line[:strings.Index(line, cell)]) }
	if a, b, c := col(lines[0], "交易市场"), col(lines[1], "上海A股"), col(lines[2], "深圳A股"); a != b || b != c {
		t.Errorf("str holdings not aligned (%d, %d, %d): %q", a, b, c, table)
	}

	data, _ = mustExecute(t, &fakeBroker{}, automation.OpHoldingQuery, `{}`)
	if rows, ok := data["holdings"].([]any); !ok || len(rows) != 0 {
		t.Errorf("no holdings = %#v, want []", data["holdings"])
	}
}

func TestExecuteFundsQuery(t *testing.T) {
	b := &fakeBroker{funds: automation.Funds{
		Balance: 100000, Frozen: 1050, Available: 98950, Withdrawable: 98950, MarketValue: 12860, TotalAssets: 112860, ProfitLoss: 260,
	}}
	data, res := mustExecute(t, b, automation.OpFundsQuery, `{}`)
	wantCalls(t, b, "Funds")
	wantKeys(t, data, "资金余额", "冻结金额", "可用金额", "可取金额", "股票市值", "总资产", "持仓盈亏", "timestamp", "success", "message")
	wantValue(t, data, "资金余额", 100000.0)
	wantValue(t, data, "冻结金额", 1050.0)
	wantValue(t, data, "可用金额", 98950.0)
	wantValue(t, data, "总资产", 112860.0)
	wantValue(t, data, "持仓盈亏", 260.0)
	wantValue(t, data, "success", true)
	if res.Message != "资金查询成功" {
		t.Errorf("message = %q", res.Message)
	}
}

func TestExecuteOrderQuery(t *testing.T) {
	b := &fakeBroker{orders: []automation.Order{placedOrder}}
	data, _ := mustExecute(t, b, automation.OpOrderQuery, `{"stock_code":"600000"}`)
	wantCalls(t, b, "Orders")
	if b.ordersCode != "600000" {
		t.Errorf("code = %q, want 600000", b.ordersCode)
	}
	wantKeys(t, data, "orders", "stock_code", "count", "timestamp", "success", "message")
	wantValue(t, data, "stock_code", "600000")
	rows, _ := data["orders"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["合同编号"] != "1001" {
		t.Errorf("orders = %v", data["orders"])
	}

	b = &fakeBroker{orders: []automation.Order{placedOrder}}
	data, _ = mustExecute(t, b, automation.OpOrderQuery, `{"return_type":"str"}`)
	if b.ordersCode != "" {
		t.Errorf("code = %q, want every stock", b.ordersCode)
	}
	wantValue(t, data, "stock_code", nil)
	if table, _ := data["orders"].(string); !strings.Contains(table, "合同编号") || !strings.Contains(table, "1001") || !strings.Contains(table, "备注") {
		t.Errorf("str orders = %q, want every column, 备注 included", table)
	}
}

func TestExecuteOrderCancel(t *testing.T) {
	cancelled := placedOrder
	cancelled.Status, cancelled.Cancelled = automation.OrderCancelled, 100

	for _, tc := range []struct {
		raw  string
		req  automation.CancelRequest
		msg  string
		none bool
	}{
		{`{}`, automation.CancelRequest{}, "已成功撤销所有委托,共撤销1笔", false},
		{`{"stock_code":"600000"}`, automation.CancelRequest{Code: "600000"}, "撤销600000的委托成功,共撤销1笔", false},
		{`{"cancel_type":"buy"}`, automation.CancelRequest{Side: automation.Buy}, "已成功撤销所有委托,共撤销1笔", false},
		{`{"cancel_type":"sell","stock_code":"000001"}`, automation.CancelRequest{Code: "000001", Side: automation.Sell}, "", true},
		{`{"contract_no":"1001"}`, automation.CancelRequest{ContractNo: "1001"}, "撤销委托1001成功", false},
	} {
		b := &fakeBroker{cancelled: []automation.Order{cancelled}}
		if tc.none {
			b.cancelled = nil
		}
		data, res := mustExecute(t, b, automation.OpOrderCancel, tc.raw)
		if b.cancelReq != tc.req {
			t.Errorf("%s: cancel request = %+v, want %+v", tc.raw, b.cancelReq, tc.req)
		}
		wantKeys(t, data, "stock_code", "cancel_type", "contract_no", "cancelled_count", "cancelled_orders", "operation", "timestamp", "success", "message")
		if tc.none {
			wantValue(t, data, "cancelled_count", 0.0)
			wantValue(t, data, "message", "没有可撤销的委托")
			if rows, ok := data["cancelled_orders"].([]any); !ok || len(rows) != 0 {
				t.Errorf("cancelled_orders = %#v, want []", data["cancelled_orders"])
			}
			continue
		}
		wantValue(t, data, "cancelled_count", 1.0)
		if res.Message != tc.msg {
			t.Errorf("%s: message = %q, want %q", tc.raw, res.Message, tc.msg)
		}
	}
}

// A trader who names one order must hear when it was not cancelled.
func TestExecuteOrderCancelByContractNoThatIsNotOpen(t *testing.T) {
	data, _, err := execute(t, &fakeBroker{}, automation.OpOrderCancel, `{"contract_no":"1001"}`)
	if automation.CodeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "1001") {
		t.Fatalf("err = %v, want rejected naming 1001", err)
	}
	wantValue(t, data, "success", false)
	wantValue(t, data, "cancelled_count", 0.0)
}

func TestExecuteHistoricalCommissionQuery(t *testing.T) {
	for _, tc := range []struct{ timeRange, since string }{
		{"当日", "2026-01-05"},
		{"近一周", "2025-12-29"},
		{"近一月", "2025-12-05"},
		{"近三月", "2025-10-05"},
		{"近一年", "2025-01-05"},
	} {
		b := &fakeBroker{history: []automation.Order{placedOrder}}
		data, _ := mustExecute(t, b, automation.OpHistoricalCommissionQuery, `{"stock_code":"600000","time_range":"`+tc.timeRange+`"}`)
		wantSince, _ := time.ParseInLocation(time.DateOnly, tc.since, chinaTime)
		if b.historyQuery.Code != "600000" || !b.historyQuery.Since.Equal(wantSince) {
			t.Errorf("%s: query = %+v, want since %s", tc.timeRange, b.historyQuery, wantSince)
		}
		wantKeys(t, data, "historical_orders", "stock_code", "time_range", "since", "count", "timestamp", "success", "message")
		wantValue(t, data, "time_range", tc.timeRange)
		wantValue(t, data, "since", tc.since)
		wantValue(t, data, "count", 1.0)
	}
}

func TestRangeStart(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		now, timeRange, want string
	}{
		// 17:00 UTC is already the next day in China.
		{"2026-01-05T17:00:00Z", "当日", "2026-01-06T00:00:00+08:00"},
		{"2026-01-05T15:59:59Z", "当日", "2026-01-05T00:00:00+08:00"},
		{"2024-03-31T10:00:00+08:00", "近一月", "2024-02-29T00:00:00+08:00"},
		{"2025-03-31T10:00:00+08:00", "近一月", "2025-02-28T00:00:00+08:00"},
		{"2025-05-31T10:00:00+08:00", "近三月", "2025-02-28T00:00:00+08:00"},
		{"2024-02-29T10:00:00+08:00", "近一年", "2023-02-28T00:00:00+08:00"},
		{"2026-01-03T10:00:00+08:00", "近一周", "2025-12-27T00:00:00+08:00"},
		{"2026-01-15T10:00:00+08:00", "近一月", "2025-12-15T00:00:00+08:00"},
	} {
		if got := rangeStart(tc.timeRange, at(tc.now)); !got.Equal(at(tc.want)) {
			t.Errorf("rangeStart(%s, %s) = %s, want %s", tc.timeRange, tc.now, got, tc.want)
		}
	}
}

func TestExecuteReverseRepoBuy(t *testing.T) {
	b := &fakeBroker{loan: automation.RepoLoan{ContractNo: "R1", Code: "204001", Market: "上海市场", Term: "1天期", Amount: 10000, Rate: 2.5, MaturesOn: "20260106"}}
	data, res := mustExecute(t, b, automation.OpReverseRepoBuy, `{"market":"上海","time_range":"1天期","amount":10000}`)
	if want := (automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 10000}); b.repoReq != want {
		t.Errorf("repo request = %+v, want %+v", b.repoReq, want)
	}
	wantKeys(t, data, "market", "time_range", "amount", "success", "message", "contract_no", "loan")
	wantValue(t, data, "market", "上海")
	wantValue(t, data, "time_range", "1天期")
	wantValue(t, data, "amount", 10000.0)
	wantValue(t, data, "success", true)
	const msg = "国债逆回购操作成功, 成功出借:10000 元, 年化利率为:2.50%"
	wantValue(t, data, "message", msg)
	wantValue(t, data, "contract_no", "R1")
	if res.Message != msg {
		t.Errorf("message = %q", res.Message)
	}
}

func TestFormatRate(t *testing.T) {
	for rate, want := range map[float64]string{2.5: "2.50%", 1.855: "1.855%", 3: "3.00%", 2.12345: "2.123%", 0: "0.00%"} {
		if got := formatRate(rate); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", rate, got, want)
		}
	}
}

func TestExecuteReverseRepoQuery(t *testing.T) {
	b := &fakeBroker{rates: []automation.RepoRate{
		{Market: "上海市场", Term: "1天期", Rate: "2.50%", Code: "204001"},
		{Market: "深圳市场", Term: "1天期", Rate: "2.45%", Code: "131810"},
	}}
	data, res := mustExecute(t, b, automation.OpReverseRepoQuery, `{}`)
	wantKeys(t, data, "reverse_repo_interest", "timestamp", "success", "message")
	wantValue(t, data, "message", "查询国债逆回购年化利率成功")
	wantValue(t, data, "timestamp", wantTimestamp)
	rows, _ := data["reverse_repo_interest"].([]any)
	if len(rows) != 2 {
		t.Fatalf("rows = %v", data["reverse_repo_interest"])
	}
	row := rows[1].(map[string]any)
	if row["市场类型"] != "深圳市场" || row["时间类型"] != "1天期" || row["年化利率"] != "2.45%" {
		t.Errorf("row = %v", row)
	}
	if res.Message != "查询国债逆回购年化利率成功" {
		t.Errorf("message = %q", res.Message)
	}
}

var watching = automation.ConditionOrder{
	ID: "C1", Code: "600000", Name: "浦发银行", Side: automation.Buy, Condition: "价格<=10.50", TargetPrice: 10.5,
	Quantity: 100, Status: automation.ConditionWatching, CreatedAt: "2026-01-05 10:30:00", ExpiresOn: "20260204",
}

func TestExecuteConditionBuy(t *testing.T) {
	b := &fakeBroker{condition: watching}
	data, res := mustExecute(t, b, automation.OpConditionBuy, `{"stock_code":"600000","target_price":10.50,"quantity":100}`)
	want := automation.ConditionRequest{Kind: automation.ConditionBuy, Code: "600000", TargetPrice: 10.5, Quantity: 100, ExpireDays: 30}
	if b.conditionReq != want {
		t.Errorf("request = %+v, want %+v", b.conditionReq, want)
	}
	wantKeys(t, data, "stock_code", "target_price", "quantity", "expire_days", "operation", "success", "message", "condition_order")
	wantValue(t, data, "target_price", 10.5)
	wantValue(t, data, "operation", "condition_buy")
	wantValue(t, data, "message", "执行600000的条件单成功")
	if res.Message != "执行600000的条件单成功" {
		t.Errorf("message = %q", res.Message)
	}
}

func TestExecuteStopLossProfit(t *testing.T) {
	stop := watching
	stop.Side, stop.Quantity, stop.TargetPrice, stop.LossPercent, stop.GainPercent = automation.Sell, 800, 0, 3, 5
	b := &fakeBroker{condition: stop}
	data, res := mustExecute(t, b, automation.OpStopLossProfit, `{"stock_code":"600000","stop_loss_percent":3.0,"stop_profit_percent":5.0,"expire_days":10}`)
	want := automation.ConditionRequest{Kind: automation.StopLossProfit, Code: "600000", LossPercent: 3, GainPercent: 5, ExpireDays: 10}
	if b.conditionReq != want {
		t.Errorf("request = %+v, want %+v", b.conditionReq, want)
	}
	wantKeys(t, data, "stock_code", "stop_loss_percent", "stop_profit_percent", "quantity", "expire_days", "operation", "success", "message", "condition_order")
	wantValue(t, data, "stop_loss_percent", 3.0)
	wantValue(t, data, "stop_profit_percent", 5.0)
	wantValue(t, data, "quantity", 800.0) // the whole sellable position, as the broker set it
	wantValue(t, data, "message", "执行600000的止盈止损单成功")
	if res.Message != "执行600000的止盈止损单成功" {
		t.Errorf("message = %q", res.Message)
	}

	stop.Quantity = 200
	b = &fakeBroker{condition: stop}
	data, _ = mustExecute(t, b, automation.OpStopLossProfit, `{"stock_code":"600000","stop_loss_percent":3,"stop_profit_percent":5,"quantity":200}`)
	if b.conditionReq.Quantity != 200 {
		t.Errorf("quantity = %d, want 200", b.conditionReq.Quantity)
	}
	wantValue(t, data, "quantity", 200.0)

	// A broker that sells whatever is sellable when the order fires.
	stop.Quantity = 0
	data, _ = mustExecute(t, &fakeBroker{condition: stop}, automation.OpStopLossProfit, `{"stock_code":"600000","stop_loss_percent":3,"stop_profit_percent":5}`)
	wantValue(t, data, "quantity", nil)
}

func TestExecuteConditionOrderQuery(t *testing.T) {
	stop := watching
	stop.ID, stop.Side = "C2", automation.Sell
	b := &fakeBroker{conditions: []automation.ConditionOrder{watching, stop}}
	data, res := mustExecute(t, b, automation.OpConditionOrderQuery, `{}`)
	wantKeys(t, data, "condition_orders", "count", "message", "timestamp", "success")
	wantValue(t, data, "message", "条件单查询成功,共获取到2条数据")
	wantValue(t, data, "success", true)
	if rows, _ := data["condition_orders"].([]any); len(rows) != 2 {
		t.Errorf("condition_orders = %v", data["condition_orders"])
	}
	if res.Message != "条件单查询成功,共获取到2条数据" {
		t.Errorf("message = %q", res.Message)
	}
	data, _ = mustExecute(t, b, automation.OpConditionOrderQuery, `{"return_type":"markdown"}`)
	if table, _ := data["condition_orders"].(string); !strings.Contains(table, "| C2 |") || !strings.Contains(table, "止损比例") {
		t.Errorf("markdown = %q", table)
	}
}

func TestExecuteConditionOrderCancel(t *testing.T) {
	b := &fakeBroker{deleted: []automation.ConditionOrder{watching}}
	data, res := mustExecute(t, b, automation.OpConditionOrderCancel, `{"stock_code":"600000","order_type":"买入"}`)
	if want := (automation.ConditionCancel{Code: "600000", Side: automation.Buy}); b.conditionDrop != want {
		t.Errorf("request = %+v, want %+v", b.conditionDrop, want)
	}
	wantKeys(t, data, "stock_code", "order_type", "deleted_count", "deleted_orders", "message", "timestamp", "success")
	wantValue(t, data, "stock_code", "600000")
	wantValue(t, data, "order_type", "买入")
	wantValue(t, data, "deleted_count", 1.0)
	wantValue(t, data, "message", "条件单删除成功")
	if res.Message != "条件单删除成功" {
		t.Errorf("message = %q", res.Message)
	}

	b = &fakeBroker{}
	data, _ = mustExecute(t, b, automation.OpConditionOrderCancel, `{}`)
	if b.conditionDrop != (automation.ConditionCancel{}) {
		t.Errorf("request = %+v, want everything", b.conditionDrop)
	}
	wantValue(t, data, "stock_code", nil)
	wantValue(t, data, "order_type", nil)
	wantValue(t, data, "deleted_count", 0.0)
}

func TestExecuteRefusals(t *testing.T) {
	r := testRegistry()
	ctx := context.Background()
	buy := json.RawMessage(`{"stock_code":"600000","price":10.5,"quantity":100}`)

	if _, err := r.Execute(ctx, &fakeBroker{}, "transfer", buy); !errors.Is(err, ErrUnknownOperation) {
		t.Errorf("unknown operation: err = %v", err)
	}

	for name, term := range map[string]automation.Terminal{
		"not a stock broker": plainTerminal{},
		"driver says no":     &fakeBroker{unsupported: map[string]bool{automation.OpBuy: true}},
		"no terminal":        nil,
	} {
		_, err := r.Execute(ctx, term, automation.OpBuy, buy)
		if !errors.Is(err, automation.ErrUnsupported) || automation.CodeOf(err) != automation.CodeUnsupported {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
		if r.Supported(automation.OpBuy, term) {
			t.Errorf("%s: Supported = true", name)
		}
	}
	if !r.Supported(automation.OpBuy, &fakeBroker{}) || r.Supported("transfer", &fakeBroker{}) {
		t.Error("Supported is wrong for a broker that can")
	}

	b := &fakeBroker{order: placedOrder}
	_, err := r.Execute(ctx, b, automation.OpBuy, json.RawMessage(`{"stock_code":"600000","price":10.5,"quantity":150}`))
	var invalid *ValidationError
	if !errors.As(err, &invalid) || automation.CodeOf(err) != "invalid_params" || invalid.Fields[0].Field != "params.quantity" {
		t.Errorf("bad params: err = %v, want a ValidationError on params.quantity", err)
	} else if !strings.HasPrefix(err.Error(), "invalid parameters for buy: params.quantity: must be at least 100") {
		t.Errorf("bad params: message %q", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Execute(cancelled, b, automation.OpBuy, buy); !errors.Is(err, context.Canceled) || automation.CodeOf(err) != automation.CodeInterrupted {
		t.Errorf("cancelled context: err = %v (%s), want interrupted: nothing was sent", err, automation.CodeOf(err))
	}
	// The queue's own clock cancels with the deadline as the cause.
	byClock, cancel3 := context.WithCancelCause(ctx)
	cancel3(context.DeadlineExceeded)
	if _, err := r.Execute(byClock, b, automation.OpBuy, buy); automation.CodeOf(err) != automation.CodeTimeout {
		t.Errorf("deadline from the queue's clock: err = %v (%s), want timeout", err, automation.CodeOf(err))
	}
	expired, cancel2 := context.WithDeadline(ctx, time.Unix(0, 0))
	defer cancel2()
	if _, err := r.Execute(expired, b, automation.OpBuy, buy); automation.CodeOf(err) != automation.CodeTimeout || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("expired deadline: err = %v (%s), want timeout, nothing sent", err, automation.CodeOf(err))
	}
	if len(b.calls) != 0 {
		t.Errorf("broker was called: %v", b.calls)
	}
}

// The params stored at submit are the canonical JSON; Execute must read
// them back to the same request.
func TestExecuteReadsCanonicalParams(t *testing.T) {
	r := testRegistry()
	params, errs, _ := r.Validate(automation.OpBuy, json.RawMessage(`{"stock_code":"000001","price":"9.87","quantity":"300"}`), nil)
	if errs != nil {
		t.Fatal(errs)
	}
	b := &fakeBroker{order: placedOrder}
	if _, err := r.Execute(context.Background(), b, automation.OpBuy, params.JSON()); err != nil {
		t.Fatal(err)
	}
	if want := (automation.OrderRequest{Code: "000001", Side: automation.Buy, Kind: automation.Limit, Price: 9.87, Quantity: 300}); b.orderReq != want {
		t.Errorf("order = %+v, want %+v", b.orderReq, want)
	}
}

func TestExecuteUsesTheRegistryClock(t *testing.T) {
	r := NewRegistry(StockSet(), ExchangeSet())
	r.WithClock(func() time.Time { return time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC) })
	res, err := r.Execute(context.Background(), &fakeBroker{}, automation.OpFundsQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Data.(FundsQueryResult).Timestamp; got != "2030-06-01T08:00:00+08:00" {
		t.Errorf("timestamp = %s", got)
	}
}
