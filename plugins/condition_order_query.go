package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// ConditionOrderQueryResult is the data of condition_order_query (the
// seed's shape, plus count).
type ConditionOrderQueryResult struct {
	// ConditionOrders is []automation.ConditionOrder for json/dict, a
	// table (string) for str/markdown.
	ConditionOrders any    `json:"condition_orders"`
	Count           int    `json:"count"`
	Message         string `json:"message"`
	Timestamp       string `json:"timestamp"`
	Success         bool   `json:"success"`
}

// condition_order_query lists the condition orders not yet triggered.
func conditionOrderQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpConditionOrderQuery,
		Title:         "ConditionOrderQueryOperation",
		Description:   "查询未触发的条件单信息",
		DescriptionEn: "list the condition orders not yet triggered",
		Params:        []Param{returnTypeParam()},
		Example:       map[string]any{"return_type": "json"},
	}, queryConditionOrders)
}

func queryConditionOrders(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	orders, err := b.ConditionOrders(ctx)
	if err != nil {
		return Result{}, err
	}
	data := ConditionOrderQueryResult{
		ConditionOrders: shapeRows(orders, c.Params.str("return_type")),
		Count:           len(orders),
		Message:         fmt.Sprintf("条件单查询成功,共获取到%d条数据", len(orders)),
		Timestamp:       timestamp(c.Now),
		Success:         true,
	}
	return Result{Data: data, Message: data.Message}, nil
}
