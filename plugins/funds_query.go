package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// FundsQueryResult is the data of funds_query: 资金余额, 冻结金额, 可用金额,
// 可取金额, 股票市值, 总资产, 持仓盈亏 (numbers, CNY) at the top level, as
// EasyTHS gives them.
type FundsQueryResult struct {
	automation.Funds
	Timestamp string `json:"timestamp"`
	Success   bool   `json:"success"`
	Message   string `json:"message"`
}

// funds_query reports the cash account (资金股份).
func fundsQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpFundsQuery,
		Title:         "FundsQueryOperation",
		Description:   "查询账户资金信息",
		DescriptionEn: "report the cash account: balance, frozen, available, withdrawable, market value, total assets, profit/loss",
		Example:       map[string]any{},
	}, queryFunds)
}

func queryFunds(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	funds, err := b.Funds(ctx)
	if err != nil {
		return Result{}, err
	}
	data := FundsQueryResult{Funds: funds, Timestamp: timestamp(c.Now), Success: true, Message: "资金查询成功"}
	return Result{Data: data, Message: data.Message}, nil
}
