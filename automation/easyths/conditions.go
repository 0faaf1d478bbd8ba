package easyths

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

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
