package plugins

import "github.com/brokerd/brokerd/automation"

// sell places a limit sell order (限价卖出).
func sellPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpSell,
		Title:         "SellOperation",
		Description:   "卖出股票操作",
		DescriptionEn: "place a limit order to sell shares",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			priceParam("price", "卖出价格,"+priceRuleZh, "limit price to sell at; "+priceRuleEn),
			quantityParam(true, "卖出数量,"+quantityRuleZh, "shares to sell, "+quantityRuleEn),
		},
		Check:   checkPricedOrder("price"),
		Example: map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100},
	}, placeLimitOrder(automation.Sell, automation.OpSell))
}
