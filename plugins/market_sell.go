package plugins

import "github.com/brokerd/brokerd/automation"

// market_sell places a market sell order (市价卖出).
func marketSellPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpMarketSell,
		Title:         "MarketSellOperation",
		Description:   "市价卖出股票",
		DescriptionEn: "place a market order to sell shares",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			quantityParam(true, "卖出数量,"+quantityRuleZh, "shares to sell, "+quantityRuleEn),
			executionStrategyParam(),
		},
		Check:   func(p Params) []FieldError { return checkLot(p, "quantity") },
		Example: map[string]any{"stock_code": "600000", "quantity": 100, "execution_strategy": 3},
	}, placeMarketOrder(automation.Sell, automation.OpMarketSell))
}
