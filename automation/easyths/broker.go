package easyths

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

// chinaTime is the exchanges' zone: time ranges count days in it.
var chinaTime = time.FixedZone("CST", 8*60*60)

// PlaceOrder runs buy / sell (limit) or market_buy / market_sell.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.OrderRequest) (automation.Order, error) {
	name, params := automation.OpBuy, map[string]any{"stock_code": req.Code, "price": req.Price, "quantity": req.Quantity}
	if req.Side == automation.Sell {
		name = automation.OpSell
	}
	if req.Kind == automation.Market {
		strategy := req.Strategy
		if strategy == 0 {
			strategy = 3
		}
		name, params = automation.OpMarketBuy, map[string]any{"stock_code": req.Code, "quantity": req.Quantity, "execution_strategy": strategy}
		if req.Side == automation.Sell {
			name = automation.OpMarketSell
		}
	}
	sentAt := t.now()
	data, id, err := t.runID(ctx, name, params, true)
	if err != nil {
		return automation.Order{}, err
	}
	var res struct {
		ContractNo any             `json:"contract_no"`
		EntrustNo  any             `json:"entrust_no"`
		Order      json.RawMessage `json:"order"`
	}
	_ = json.Unmarshal(data, &res)
	o := automation.Order{
		Code: req.Code, Side: req.Side, Kind: "限价", Price: req.Price, Quantity: req.Quantity,
		Status: automation.OrderPending, ClientOrderID: req.ClientOrderID,
	}
	if req.Kind == automation.Market {
		o.Kind, o.Price = "市价", 0
	}
	if rows, err := thsgrid.Decode(res.Order); err == nil && len(rows) == 1 {
		if got, err := thsgrid.Order(rows[0]); err == nil && got.Code != "" {
			got.ClientOrderID = req.ClientOrderID
			o = got
		}
	}
	for _, no := range []any{res.ContractNo, res.EntrustNo} {
		if s := cell(no); s != "" && o.ContractNo == "" {
			o.ContractNo = s
		}
	}
	if o.ContractNo == "" {
		// v1.7's buy and sell name no order: find it in today's orders,
		// as a lost answer would be (a read, never a second submit).
		o.ContractNo = t.findContract(ctx, req, sentAt)
	}
	t.claim(o.ContractNo)
	o.Extra = withColumn(o.Extra, "easyths_operation_id", id)
	return o, nil
}

// withColumn adds one column to an Extra JSON object.
func withColumn(extra, key string, value any) string {
	cols := map[string]any{}
	if extra != "" {
		_ = json.Unmarshal([]byte(extra), &cols)
	}
	cols[key] = value
	return automation.OrderExtra(cols)
}

// findContract finds the number of the order req placed in order_query:
// "" when there is not exactly one candidate (the order stands; only its
// number is unknown).
func (t *Terminal) findContract(ctx context.Context, req automation.OrderRequest, sentAt time.Time) string {
	if !t.Supports(automation.OpOrderQuery) {
		return ""
	}
	orders, err := t.Orders(ctx, req.Code)
	if err != nil {
		t.log.Warn("EasyTHS named no order number and order_query failed: the order stands without one", "error", err)
		return ""
	}
	t.mu.Lock()
	found := thsgrid.Candidates(orders, req, sentAt, t.claimed)
	t.mu.Unlock()
	if len(found) != 1 {
		t.log.Warn("EasyTHS named no order number and today's orders do not single it out", "code", req.Code, "candidates", len(found))
		return ""
	}
	return found[0].ContractNo
}

// claim marks a contract number as some order's own.
func (t *Terminal) claim(no string) {
	if no == "" {
		return
	}
	t.mu.Lock()
	t.claimed[thsgrid.TrimContract(no)] = true
	t.mu.Unlock()
}

func cell(v any) string {
	switch n := v.(type) {
	case string:
		return n
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return ""
}

// rows reads a table from an operation's data: under one of keys, or the
// data itself when it is a list or an empty table ({}, "空数据").
func rows(data json.RawMessage, keys ...string) ([]thsgrid.Row, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) == nil {
		for _, k := range keys {
			if v, ok := obj[k]; ok {
				if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
					return []thsgrid.Row{}, nil
				}
				return thsgrid.Decode(v)
			}
		}
		if len(obj) > 0 {
			return nil, fmt.Errorf("the answer has none of %v", keys)
		}
	}
	return thsgrid.Decode(data)
}

func readError(op string, err error) error {
	return &automation.Error{Code: automation.CodeInternal, Message: "EasyTHS " + op + ": cannot read the answer", Err: err}
}

// Orders runs order_query.
func (t *Terminal) Orders(ctx context.Context, code string) ([]automation.Order, error) {
	params := map[string]any{"return_type": "json"}
	if code != "" {
		params["stock_code"] = code
	}
	data, err := t.run(ctx, automation.OpOrderQuery, params, false)
	if err != nil {
		return nil, err
	}
	table, err := rows(data, "orders", "entrusts", "data")
	if err != nil {
		return nil, readError(automation.OpOrderQuery, err)
	}
	orders, err := thsgrid.Orders(table)
	if err != nil {
		return nil, readError(automation.OpOrderQuery, err)
	}
	out := orders[:0]
	for _, o := range orders {
		if code == "" || o.Code == code {
			out = append(out, o)
		}
	}
	return out, nil
}

// Positions runs holding_query.
func (t *Terminal) Positions(ctx context.Context) ([]automation.Position, error) {
	data, err := t.run(ctx, automation.OpHoldingQuery, map[string]any{"return_type": "json"}, false)
	if err != nil {
		return nil, err
	}
	table, err := rows(data, "holdings", "positions", "data")
	if err != nil {
		return nil, readError(automation.OpHoldingQuery, err)
	}
	ps, err := thsgrid.Positions(table)
	if err != nil {
		return nil, readError(automation.OpHoldingQuery, err)
	}
	return ps, nil
}

// Funds runs funds_query.
func (t *Terminal) Funds(ctx context.Context) (automation.Funds, error) {
	data, err := t.run(ctx, automation.OpFundsQuery, map[string]any{}, false)
	if err != nil {
		return automation.Funds{}, err
	}
	table, err := rows(data, "funds", "balance", "资金")
	if err != nil {
		table, err = thsgrid.Decode(data) // the documented shape: the fields in data itself
	}
	if err != nil {
		return automation.Funds{}, readError(automation.OpFundsQuery, err)
	}
	f, _, err := thsgrid.Funds(table)
	if err != nil {
		return automation.Funds{}, readError(automation.OpFundsQuery, err)
	}
	return f, nil
}

// CancelOrders runs order_cancel. By contract_no only where EasyTHS's
// order_cancel takes one (its listing says so); the orders cancelled are
// the answer's, or else those open before and cancelled after, as
// order_query shows them.
func (t *Terminal) CancelOrders(ctx context.Context, req automation.CancelRequest) ([]automation.Order, error) {
	params := map[string]any{"cancel_type": "all"}
	switch req.Side {
	case automation.Buy:
		params["cancel_type"] = "buy"
	case automation.Sell:
		params["cancel_type"] = "sell"
	}
	if req.Code != "" {
		params["stock_code"] = req.Code
	}
	if req.ContractNo != "" {
		if !t.takes(automation.OpOrderCancel, "contract_no") {
			return nil, automation.Rejected("EasyTHS's order_cancel cannot cancel one order by its contract number; cancel by stock_code and cancel_type")
		}
		params["contract_no"] = req.ContractNo
	}
	var before []automation.Order
	if t.Supports(automation.OpOrderQuery) {
		open, err := t.Orders(ctx, req.Code)
		if err != nil {
			return nil, err
		}
		for _, o := range open {
			if o.Open() && (req.Side == "" || o.Side == req.Side) && (req.ContractNo == "" || thsgrid.SameContract(o.ContractNo, req.ContractNo)) {
				before = append(before, o)
			}
		}
	}
	data, err := t.run(ctx, automation.OpOrderCancel, params, true)
	if err != nil {
		return nil, err
	}
	var res struct {
		Cancelled json.RawMessage `json:"cancelled_orders"`
	}
	if json.Unmarshal(data, &res) == nil && len(res.Cancelled) > 0 {
		if table, err := thsgrid.Decode(res.Cancelled); err == nil {
			if orders, err := thsgrid.Orders(table); err == nil {
				return orders, nil
			}
		}
	}
	if len(before) == 0 {
		return []automation.Order{}, nil
	}
	after, err := t.Orders(ctx, req.Code)
	if err != nil {
		return nil, automation.OutcomeUnknown(err, "EasyTHS order_cancel ran, but order_query could not confirm which orders it cancelled")
	}
	done := []automation.Order{}
	for _, o := range after {
		if o.Open() {
			continue
		}
		for _, b := range before {
			if thsgrid.SameContract(o.ContractNo, b.ContractNo) && o.Status != automation.OrderFilled {
				done = append(done, o)
			}
		}
	}
	return done, nil
}

// OrderHistory runs historical_commission_query with the time range that
// covers q.Since.
func (t *Terminal) OrderHistory(ctx context.Context, q automation.HistoryQuery) ([]automation.Order, error) {
	params := map[string]any{"return_type": "json", "time_range": timeRange(t.now(), q.Since)}
	if q.Code != "" {
		params["stock_code"] = q.Code
	}
	data, err := t.run(ctx, automation.OpHistoricalCommissionQuery, params, false)
	if err != nil {
		return nil, err
	}
	table, err := rows(data, "historical_orders", "orders", "commissions", "data")
	if err != nil {
		return nil, readError(automation.OpHistoricalCommissionQuery, err)
	}
	orders, err := thsgrid.Orders(table)
	if err != nil {
		return nil, readError(automation.OpHistoricalCommissionQuery, err)
	}
	return orders, nil
}

// timeRange is the smallest of EasyTHS's ranges that reaches since.
func timeRange(now, since time.Time) string {
	if since.IsZero() {
		return "当日"
	}
	y, m, d := now.In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	days := today.Sub(since.In(chinaTime)).Hours() / 24
	switch {
	case days <= 0:
		return "当日"
	case days <= 7:
		return "近一周"
	case days <= 31:
		return "近一月"
	case days <= 92:
		return "近三月"
	}
	return "近一年"
}

// RepoRates runs reverse_repo_query.
func (t *Terminal) RepoRates(ctx context.Context) ([]automation.RepoRate, error) {
	data, err := t.run(ctx, automation.OpReverseRepoQuery, map[string]any{}, false)
	if err != nil {
		return nil, err
	}
	var res struct {
		Rates []automation.RepoRate `json:"reverse_repo_interest"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, readError(automation.OpReverseRepoQuery, err)
	}
	return res.Rates, nil
}

var ratePercent = regexp.MustCompile(`年化利率[为:：\s]*([0-9.]+)%`)

// LendRepo runs reverse_repo_buy.
func (t *Terminal) LendRepo(ctx context.Context, req automation.RepoRequest) (automation.RepoLoan, error) {
	data, err := t.run(ctx, automation.OpReverseRepoBuy, map[string]any{"market": req.Market, "time_range": req.Term, "amount": req.Amount}, true)
	if err != nil {
		return automation.RepoLoan{}, err
	}
	var res struct {
		ContractNo any                  `json:"contract_no"`
		Message    string               `json:"message"`
		Loan       *automation.RepoLoan `json:"loan"`
	}
	_ = json.Unmarshal(data, &res)
	if res.Loan != nil && res.Loan.Amount != 0 {
		return *res.Loan, nil
	}
	loan := automation.RepoLoan{ContractNo: cell(res.ContractNo), Market: req.Market, Term: req.Term, Amount: req.Amount}
	if m := ratePercent.FindStringSubmatch(res.Message); m != nil {
		loan.Rate, _ = strconv.ParseFloat(m[1], 64)
	}
	return loan, nil
}

// PlaceConditionOrder runs condition_buy or stop_loss_profit.
func (t *Terminal) PlaceConditionOrder(ctx context.Context, req automation.ConditionRequest) (automation.ConditionOrder, error) {
	name := automation.OpConditionBuy
	params := map[string]any{"stock_code": req.Code, "target_price": req.TargetPrice, "quantity": req.Quantity, "expire_days": req.ExpireDays}
	want := automation.ConditionOrder{Code: req.Code, Side: automation.Buy, TargetPrice: req.TargetPrice, Quantity: req.Quantity,
		Status: automation.ConditionWatching, Condition: fmt.Sprintf("价格<=%.3f", req.TargetPrice)}
	if req.Kind == automation.StopLossProfit {
		name = automation.OpStopLossProfit
		params = map[string]any{"stock_code": req.Code, "stop_loss_percent": req.LossPercent, "stop_profit_percent": req.GainPercent, "expire_days": req.ExpireDays}
		if req.Quantity > 0 {
			params["quantity"] = req.Quantity
		}
		want = automation.ConditionOrder{Code: req.Code, Side: automation.Sell, LossPercent: req.LossPercent, GainPercent: req.GainPercent,
			Quantity: req.Quantity, Status: automation.ConditionWatching,
			Condition: fmt.Sprintf("止损%.2f%%/止盈%.2f%%", req.LossPercent, req.GainPercent)}
	}
	data, err := t.run(ctx, name, params, true)
	if err != nil {
		return automation.ConditionOrder{}, err
	}
	var res struct {
		Order *automation.ConditionOrder `json:"condition_order"`
	}
	if json.Unmarshal(data, &res) == nil && res.Order != nil && res.Order.Code != "" {
		return *res.Order, nil
	}
	return want, nil
}

// ConditionOrders runs condition_order_query.
func (t *Terminal) ConditionOrders(ctx context.Context) ([]automation.ConditionOrder, error) {
	data, err := t.run(ctx, automation.OpConditionOrderQuery, map[string]any{"return_type": "json"}, false)
	if err != nil {
		return nil, err
	}
	table, err := rows(data, "condition_orders")
	if err != nil {
		return nil, readError(automation.OpConditionOrderQuery, err)
	}
	return conditionOrders(table), nil
}

func conditionOrders(table []thsgrid.Row) []automation.ConditionOrder {
	out := make([]automation.ConditionOrder, 0, len(table))
	for _, r := range table {
		b, _ := json.Marshal(r)
		var c automation.ConditionOrder
		dec := json.NewDecoder(bytes.NewReader(b))
		_ = dec.Decode(&c) // the columns a field knows; the rest has nowhere to go
		c.Code = thsgrid.Code(r["证券代码"])
		out = append(out, c)
	}
	return out
}

// CancelConditionOrders runs condition_order_cancel.
func (t *Terminal) CancelConditionOrders(ctx context.Context, req automation.ConditionCancel) ([]automation.ConditionOrder, error) {
	params := map[string]any{}
	if req.Code != "" {
		params["stock_code"] = req.Code
	}
	if req.Side != "" {
		params["order_type"] = string(req.Side)
	}
	data, err := t.run(ctx, automation.OpConditionOrderCancel, params, true)
	if err != nil {
		return nil, err
	}
	var res struct {
		Deleted json.RawMessage `json:"deleted_orders"`
		Count   int             `json:"deleted_count"`
	}
	_ = json.Unmarshal(data, &res)
	if table, err := thsgrid.Decode(res.Deleted); err == nil && len(table) > 0 {
		return conditionOrders(table), nil
	}
	// Only a count: as many entries, each naming what was asked.
	out := make([]automation.ConditionOrder, 0, res.Count)
	for range res.Count {
		out = append(out, automation.ConditionOrder{Code: req.Code, Side: req.Side, Status: automation.ConditionDeleted})
	}
	return out, nil
}
