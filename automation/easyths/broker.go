package easyths

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

// chinaTime is the exchanges' zone: time ranges count days in it.
var chinaTime = time.FixedZone("CST", 8*60*60)

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
