package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// OrderQueryResult is the data of order_query (EasyTHS's keys).
type OrderQueryResult struct {
	// Orders is []automation.Order for json/dict, a table (string) for
	// str/markdown.
	Orders    any     `json:"orders"`
	StockCode *string `json:"stock_code"` // null: every stock
	Count     int     `json:"count"`
	Timestamp string  `json:"timestamp"`
	Success   bool    `json:"success"`
	Message   string  `json:"message"`
}

// order_query lists today's orders (当日委托).
func orderQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpOrderQuery,
		Title:         "OrderQueryOperation",
		Description:   "查询股票委托订单信息",
		DescriptionEn: "list today's orders, with their contract numbers (合同编号) and fills",
		Params: []Param{
			stockCodeParam(false, "股票代码(6位数字),不指定则查询全部", "stock code; omit it for every stock"),
			returnTypeParam(),
		},
		Example: map[string]any{"stock_code": "600000", "return_type": "json"},
	}, queryOrders)
}

func queryOrders(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code := c.Params.str("stock_code")
	orders, err := b.Orders(ctx, code)
	if err != nil {
		return Result{}, err
	}
	data := OrderQueryResult{
		Orders:    shapeRows(orders, c.Params.str("return_type")),
		StockCode: optional(code),
		Count:     len(orders),
		Timestamp: timestamp(c.Now),
		Success:   true,
		Message:   fmt.Sprintf("委托查询成功,共获取到%d条数据", len(orders)),
	}
	return Result{Data: data, Message: data.Message}, nil
}

// optional gives nil for "", so that "every stock" is null in a result.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
