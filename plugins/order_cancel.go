package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// OrderCancelResult is the data of order_cancel.
type OrderCancelResult struct {
	StockCode       *string            `json:"stock_code"`  // null: every stock
	CancelType      string             `json:"cancel_type"` // all, buy, sell
	ContractNo      *string            `json:"contract_no"` // null: every matching order
	CancelledCount  int                `json:"cancelled_count"`
	CancelledOrders []automation.Order `json:"cancelled_orders"`
	Operation       string             `json:"operation"` // "cancel", as EasyTHS
	Timestamp       string             `json:"timestamp"`
	Success         bool               `json:"success"`
	Message         string             `json:"message"`
}

var cancelSides = map[string]automation.Side{"all": "", "buy": automation.Buy, "sell": automation.Sell}

// order_cancel cancels open orders: one by its contract number, or all
// those of a stock and/or a side.
func orderCancelPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpOrderCancel,
		Title:         "CancelOperation",
		Description:   "撤单操作",
		DescriptionEn: "cancel open orders: one by its contract number, or every open order of a stock and/or a side",
		SideEffect:    true,
		Params: []Param{
			stockCodeParam(false, "股票代码(6位数字),不指定则撤销所有", "stock code; omit it to cancel across every stock"),
			{
				Name: "cancel_type", Type: TypeString, Enum: []any{"all", "buy", "sell"}, Default: "all",
				Description:   "撤单类型:all(全部)/buy(买入)/sell(卖出),默认 all",
				DescriptionEn: "which side to cancel: all, buy or sell; default all",
				Example:       "all",
			},
			{
				Name: "contract_no", Type: TypeString, Pattern: contractNoPattern,
				Description:   "合同编号,指定则只撤销这一笔委托(买入/卖出结果中的 contract_no)",
				DescriptionEn: "contract number (合同编号) of the one order to cancel, as buy/sell returned it in contract_no",
				Example:       "1001",
			},
		},
		Example: map[string]any{"stock_code": "600000", "cancel_type": "all"},
	}, cancelOrders)
}

func cancelOrders(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code, cancelType, contractNo := c.Params.str("stock_code"), c.Params.str("cancel_type"), c.Params.str("contract_no")
	cancelled, err := b.CancelOrders(ctx, automation.CancelRequest{ContractNo: contractNo, Code: code, Side: cancelSides[cancelType]})
	if err != nil {
		return Result{}, err
	}
	if cancelled == nil {
		cancelled = []automation.Order{}
	}
	data := OrderCancelResult{
		StockCode: optional(code), CancelType: cancelType, ContractNo: optional(contractNo),
		CancelledCount: len(cancelled), CancelledOrders: cancelled, Operation: "cancel",
		Timestamp: timestamp(c.Now), Success: true,
	}
	switch {
	case contractNo != "" && len(cancelled) == 0:
		// The trader named one order: saying "done" when nothing was
		// cancelled would hide that it filled or never existed.
		data.Success = false
		why := "已成交、已撤销或不存在"
		if code != "" || cancelType != "all" {
			why += ",或与所给 stock_code/cancel_type 不符"
		}
		data.Message = fmt.Sprintf("委托%s不可撤销(%s),未撤销任何委托", contractNo, why)
		return Result{Data: data, Message: data.Message}, automation.Rejected("%s", data.Message)
	case contractNo != "":
		data.Message = fmt.Sprintf("撤销委托%s成功", contractNo)
	case len(cancelled) == 0:
		data.Message = "没有可撤销的委托"
	case code != "":
		data.Message = fmt.Sprintf("撤销%s的委托成功,共撤销%d笔", code, len(cancelled))
	default:
		data.Message = fmt.Sprintf("已成功撤销所有委托,共撤销%d笔", len(cancelled))
	}
	return Result{Data: data, Message: data.Message}, nil
}
