package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// ConditionOrderCancelResult is the data of condition_order_cancel (the
// seed's shape, plus the deleted orders).
type ConditionOrderCancelResult struct {
	StockCode     *string                     `json:"stock_code"` // null: every stock
	OrderType     *string                     `json:"order_type"` // null: both sides
	DeletedCount  int                         `json:"deleted_count"`
	DeletedOrders []automation.ConditionOrder `json:"deleted_orders"`
	Message       string                      `json:"message"`
	Timestamp     string                      `json:"timestamp"`
	Success       bool                        `json:"success"`
}

// condition_order_cancel deletes watching condition orders (条件单删除).
func conditionOrderCancelPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpConditionOrderCancel,
		Title:         "ConditionOrderCancelOperation",
		Description:   "删除指定的条件单",
		DescriptionEn: "delete the condition orders not yet triggered that match a stock and/or a side",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(false, "股票代码(6位数字),不指定则删除所有条件单", "stock code; omit it to delete across every stock"),
			{
				Name: "order_type", Type: TypeString, Enum: []any{string(automation.Buy), string(automation.Sell)},
				Description:   "订单类型:买入/卖出,不指定则不限",
				DescriptionEn: "side: 买入 (condition buys) or 卖出 (stop-loss/stop-profit sells); omit it for both",
				Example:       "买入",
			},
		},
		Example: map[string]any{"stock_code": "600000", "order_type": "买入"},
	}, cancelConditionOrders)
}

func cancelConditionOrders(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code, side := c.Params.str("stock_code"), c.Params.str("order_type")
	deleted, err := b.CancelConditionOrders(ctx, automation.ConditionCancel{Code: code, Side: automation.Side(side)})
	if err != nil {
		return Result{}, err
	}
	if deleted == nil {
		deleted = []automation.ConditionOrder{}
	}
	data := ConditionOrderCancelResult{
		StockCode: optional(code), OrderType: optional(side),
		DeletedCount: len(deleted), DeletedOrders: deleted,
		Message: "条件单删除成功", Timestamp: timestamp(c.Now), Success: true,
	}
	if len(deleted) == 0 {
		data.Message = "没有匹配的条件单,未删除任何条件单"
	}
	return Result{Data: data, Message: data.Message}, nil
}
