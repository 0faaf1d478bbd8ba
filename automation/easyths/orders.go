package easyths

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

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
	var lost *submitLost
	if errors.As(err, &lost) {
		return t.settleSubmit(ctx, req, sentAt, err)
	}
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

// settleSubmit settles an order whose submit lost its answer, so its id is
// unknown: by order_query, submitted after it at the same priority 0, so
// that EasyTHS's FIFO worker has run the lost submit (if it was queued)
// before it reads the orders. One candidate is the order; none means it
// was not placed; several leave the outcome unknown, naming them.
func (t *Terminal) settleSubmit(ctx context.Context, req automation.OrderRequest, sentAt time.Time, lost error) (automation.Order, error) {
	if !t.Supports(automation.OpOrderQuery) {
		return automation.Order{}, lost
	}
	t.log.Warn("EasyTHS submit answer lost; settling it from order_query, never resubmitting", "code", req.Code, "error", lost)
	orders, err := t.Orders(ctx, req.Code)
	if err != nil {
		return automation.Order{}, lost
	}
	t.mu.Lock()
	found := thsgrid.Candidates(orders, req, sentAt, t.claimed)
	t.mu.Unlock()
	switch len(found) {
	case 0:
		return automation.Order{}, automation.NoSuchOrder(fmt.Sprintf(
			"EasyTHS %s %s: %v, and order_query (run after it by EasyTHS's FIFO queue) shows no such order: it was not placed", req.Side, req.Code, lost))
	case 1:
		o := found[0]
		o.ClientOrderID = req.ClientOrderID
		t.claim(o.ContractNo)
		t.log.Info("EasyTHS order settled from order_query", "contract_no", o.ContractNo)
		return o, nil
	}
	var names []string
	for _, o := range found {
		names = append(names, o.ContractNo+"@"+o.Time)
	}
	return automation.Order{}, automation.OutcomeUnknown(lost, "EasyTHS %s %s: the submit's answer was lost and order_query shows %d orders that could be it (合同编号@委托时间: %s); check the account",
		req.Side, req.Code, len(found), strings.Join(names, ", "))
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
