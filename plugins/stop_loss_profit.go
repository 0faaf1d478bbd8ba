package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// StopLossProfitResult is the data of stop_loss_profit: the seed's shape
// plus the quantity, expire_days and the condition order.
type StopLossProfitResult struct {
	StockCode         string  `json:"stock_code"`
	StopLossPercent   float64 `json:"stop_loss_percent"`
	StopProfitPercent float64 `json:"stop_profit_percent"`
	// Quantity is the shares the order sells: null for the whole sellable
	// position when it fires.
	Quantity       *int64                    `json:"quantity"`
	ExpireDays     int64                     `json:"expire_days"`
	Operation      string                    `json:"operation"`
	Success        bool                      `json:"success"`
	Message        string                    `json:"message"`
	ConditionOrder automation.ConditionOrder `json:"condition_order"`
}

// stop_loss_profit sets a stop-loss/stop-profit order on a holding (止盈止损).
func stopLossProfitPlugin() *Plugin {
	percent := func(name, zh, en string, example float64) Param {
		return Param{
			Name: name, Type: TypeNumber, Required: true, Minimum: bound(0), ExclusiveMinimum: true, Maximum: bound(100),
			Description: zh, DescriptionEn: en, Example: example,
		}
	}
	return onStockBroker(Plugin{
		Name:          automation.OpStopLossProfit,
		Title:         "StopLossProfitOperation",
		Description:   "止盈止损:为持仓股票设置止盈止损策略,价格达到条件时自动卖出",
		DescriptionEn: "set a stop-loss/stop-profit order that sells a holding when its price falls or rises far enough from the cost price",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(true, "股票代码(6位数字)", "stock code, 6 digits as a string"),
			percent("stop_loss_percent", "止损百分比(如3表示3%),大于0且不超过100",
				"stop-loss in percent below the cost price (3 means 3%), in (0, 100]", 3.0),
			percent("stop_profit_percent", "止盈百分比(如5表示5%),大于0且不超过100,必须大于止损百分比",
				"stop-profit in percent above the cost price (5 means 5%), in (0, 100], greater than stop_loss_percent", 5.0),
			quantityParam(false, "卖出数量,"+quantityRuleZh+";不指定则使用全部可用持仓(T+1:当天买入的股票不可用)",
				"shares to sell, "+quantityRuleEn+"; omit it for the whole sellable position (T+1: shares bought today are not sellable)"),
			expireDaysParam(),
		},
		Check: checkStopLossProfit,
		Example: map[string]any{
			"stock_code": "600000", "stop_loss_percent": 3.0, "stop_profit_percent": 5.0, "quantity": 100, "expire_days": 30,
		},
	}, placeStopLossProfit)
}

func checkStopLossProfit(p Params) []FieldError {
	errs := checkLot(p, "quantity")
	if p.has("stop_loss_percent") && p.has("stop_profit_percent") {
		loss, gain := p.float("stop_loss_percent"), p.float("stop_profit_percent")
		if gain <= loss {
			errs = append(errs, fieldError("stop_profit_percent", fmt.Sprintf(
				"must be greater than stop_loss_percent (%s): the stop-profit must lie above the stop-loss, got %s",
				formatPlain(loss), formatPlain(gain))))
		}
	}
	return errs
}

func placeStopLossProfit(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code, loss, gain := c.Params.str("stock_code"), c.Params.float("stop_loss_percent"), c.Params.float("stop_profit_percent")
	quantity, days := c.Params.int("quantity"), c.Params.int("expire_days")
	order, err := b.PlaceConditionOrder(ctx, automation.ConditionRequest{
		Kind: automation.StopLossProfit, Code: code, LossPercent: loss, GainPercent: gain,
		Quantity: quantity, ExpireDays: int(days),
	})
	if err != nil {
		return Result{}, err
	}
	if order.Quantity > 0 { // the broker may have fixed it
		quantity = order.Quantity
	}
	var sells *int64
	if quantity > 0 {
		sells = &quantity
	}
	data := StopLossProfitResult{
		StockCode: code, StopLossPercent: loss, StopProfitPercent: gain, Quantity: sells, ExpireDays: days,
		Operation: automation.OpStopLossProfit, Success: true,
		Message:        fmt.Sprintf("执行%s的止盈止损单成功", code),
		ConditionOrder: order,
	}
	return Result{Data: data, Message: data.Message}, nil
}
