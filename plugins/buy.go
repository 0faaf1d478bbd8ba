package plugins

import "github.com/brokerd/brokerd/automation"

// buy places a limit buy order (限价买入).
func buyPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpBuy,
		Title:         "BuyOperation",
		Description:   "买入股票操作",
		DescriptionEn: "place a limit order to buy shares",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			priceParam("price", "买入价格,"+priceRuleZh, "limit price to buy at; "+priceRuleEn),
			quantityParam(true, "买入数量,"+quantityRuleZh, "shares to buy, "+quantityRuleEn),
		},
		Check:   checkPricedOrder("price"),
		Example: map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100},
	}, placeLimitOrder(automation.Buy, automation.OpBuy))
}
