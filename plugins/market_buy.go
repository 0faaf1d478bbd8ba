package plugins

import "github.com/brokerd/brokerd/automation"

// market_buy places a market buy order (市价买入).
func marketBuyPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpMarketBuy,
		Title:         "MarketBuyOperation",
		Description:   "市价买入股票",
		DescriptionEn: "place a market order to buy shares",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			quantityParam(true, "买入数量,"+quantityRuleZh, "shares to buy, "+quantityRuleEn),
			executionStrategyParam(),
		},
		Check:   func(p Params) []FieldError { return checkLot(p, "quantity") },
		Example: map[string]any{"stock_code": "600000", "quantity": 100, "execution_strategy": 3},
	}, placeMarketOrder(automation.Buy, automation.OpMarketBuy))
}

func executionStrategyParam() Param {
	return Param{
		Name: "execution_strategy", Type: TypeInteger, Minimum: bound(1), Maximum: bound(6), Default: int64(3),
		Description: "成交策略:1-对手方最优价格 2-本方最优价格 3-最优五档即时成交剩余撤销 4-即时成交剩余撤销 " +
			"5-全额成交或撤销 6-最优五档即时成交剩余转限价,默认3",
		DescriptionEn: "execution strategy: 1 best price of the other side, 2 best price of own side, " +
			"3 best five levels then cancel the rest, 4 immediate fill then cancel the rest, 5 fill all or cancel, " +
			"6 best five levels then the rest as a limit order; default 3",
		Example: 3,
	}
}
