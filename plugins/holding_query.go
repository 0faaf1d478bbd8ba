package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// HoldingQueryResult is the data of holding_query (EasyTHS's keys).
type HoldingQueryResult struct {
	// Holdings is []automation.Position for json/dict, a table (string)
	// for str/markdown.
	Holdings  any    `json:"holdings"`
	Count     int    `json:"count"`
	Timestamp string `json:"timestamp"`
	Success   bool   `json:"success"`
	Message   string `json:"message"`
}

// holding_query lists the holdings (持仓).
func holdingQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpHoldingQuery,
		Title:         "HoldingQueryOperation",
		Description:   "查询股票持仓信息",
		DescriptionEn: "list the holdings",
		Params:        []Param{returnTypeParam()},
		Example:       map[string]any{"return_type": "json"},
	}, queryHoldings)
}

func queryHoldings(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	positions, err := b.Positions(ctx)
	if err != nil {
		return Result{}, err
	}
	data := HoldingQueryResult{
		Holdings:  shapeRows(positions, c.Params.str("return_type")),
		Count:     len(positions),
		Timestamp: timestamp(c.Now),
		Success:   true,
		Message:   fmt.Sprintf("持仓查询成功,共获取到%d条数据", len(positions)),
	}
	return Result{Data: data, Message: data.Message}, nil
}
