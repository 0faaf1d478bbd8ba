package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// ConditionBuyResult is the data of condition_buy: the seed's shape plus
// expire_days and the condition order as the broker recorded it (its
// 条件单编号 included).
type ConditionBuyResult struct {
	StockCode      string                    `json:"stock_code"`
	TargetPrice    float64                   `json:"target_price"`
	Quantity       int64                     `json:"quantity"`
	ExpireDays     int64                     `json:"expire_days"`
	Operation      string                    `json:"operation"`
	Success        bool                      `json:"success"`
	Message        string                    `json:"message"`
	ConditionOrder automation.ConditionOrder `json:"condition_order"`
}

// condition_buy sets a condition order that buys when the price falls to
// the target (条件买入).
func conditionBuyPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpConditionBuy,
		Title:         "ConditionBuyOperation",
		Description:   "条件买入:当股价达到目标价格时自动触发买入",
		DescriptionEn: "set a condition order that buys when the price falls to the target price",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			priceParam("target_price", "目标价格(触发价格),"+priceRuleZh, "trigger price: buy when the price is at or below it; "+priceRuleEn),
			quantityParam(true, "买入数量,"+quantityRuleZh, "shares to buy, "+quantityRuleEn),
			expireDaysParam(),
		},
		Check:   checkPricedOrder("target_price"),
		Example: map[string]any{"stock_code": "600000", "target_price": 10.50, "quantity": 100, "expire_days": 30},
	}, placeConditionBuy)
}

func placeConditionBuy(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code, target, quantity, days := c.Params.str("stock_code"), c.Params.float("target_price"), c.Params.int("quantity"), c.Params.int("expire_days")
	order, err := b.PlaceConditionOrder(ctx, automation.ConditionRequest{
		Kind: automation.ConditionBuy, Code: code, TargetPrice: target, Quantity: quantity, ExpireDays: int(days),
	})
	if err != nil {
		return Result{}, err
	}
	data := ConditionBuyResult{
		StockCode: code, TargetPrice: target, Quantity: quantity, ExpireDays: days,
		Operation: automation.OpConditionBuy, Success: true,
		Message:        fmt.Sprintf("执行%s的条件单成功", code),
		ConditionOrder: order,
	}
	return Result{Data: data, Message: data.Message}, nil
}
