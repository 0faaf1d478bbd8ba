package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// OrderResult is the data of buy and sell: the seed's shape (stock_code,
// price with the code's decimals, quantity, operation, success, message)
// plus the broker's order number, so that order_cancel can target it, and
// the order as the broker recorded it.
type OrderResult struct {
	StockCode  string           `json:"stock_code"`
	Price      string           `json:"price"` // "10.50"; "1.234" for funds, ETFs and bonds
	Quantity   int64            `json:"quantity"`
	Operation  string           `json:"operation"` // buy, sell
	Success    bool             `json:"success"`
	Message    string           `json:"message"`
	ContractNo string           `json:"contract_no"` // 合同编号; "" if the terminal gave none
	Order      automation.Order `json:"order"`
}

// MarketOrderResult is the data of market_buy and market_sell.
type MarketOrderResult struct {
	StockCode         string           `json:"stock_code"`
	Quantity          int64            `json:"quantity"`
	ExecutionStrategy int64            `json:"execution_strategy"`
	Strategy          string           `json:"strategy"` // the strategy's name
	Operation         string           `json:"operation"`
	Success           bool             `json:"success"`
	Message           string           `json:"message"`
	ContractNo        string           `json:"contract_no"`
	Order             automation.Order `json:"order"`
}

// executionStrategies names the market order strategies by the numbers
// EasyTHS scripts send (its MarketOrderParams).
var executionStrategies = map[int64]string{
	1: "对手方最优价格",
	2: "本方最优价格",
	3: "最优五档即时成交剩余撤销",
	4: "即时成交剩余撤销",
	5: "全额成交或撤销",
	6: "最优五档即时成交剩余转限价",
}

// placeLimitOrder is buy and sell.
func placeLimitOrder(side automation.Side, operation string) brokerFunc {
	return func(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
		code, price, quantity := c.Params.str("stock_code"), c.Params.float("price"), c.Params.int("quantity")
		order, err := b.PlaceOrder(ctx, automation.OrderRequest{
			Code: code, Side: side, Kind: automation.Limit, Price: price, Quantity: quantity,
			ClientOrderID: c.ClientOrderID,
		})
		if err != nil {
			return Result{}, err
		}
		data := OrderResult{
			StockCode: code, Price: formatPrice(code, price), Quantity: quantity, Operation: operation,
			ContractNo: order.ContractNo, Order: order,
		}
		data.Success, data.Message, err = orderOutcome(order, code, sideName(side))
		return Result{Data: data, Message: data.Message}, err
	}
}

// placeMarketOrder is market_buy and market_sell.
func placeMarketOrder(side automation.Side, operation string) brokerFunc {
	return func(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
		code, quantity, strategy := c.Params.str("stock_code"), c.Params.int("quantity"), c.Params.int("execution_strategy")
		order, err := b.PlaceOrder(ctx, automation.OrderRequest{
			Code: code, Side: side, Kind: automation.Market, Quantity: quantity, Strategy: int(strategy),
			ClientOrderID: c.ClientOrderID,
		})
		if err != nil {
			return Result{}, err
		}
		data := MarketOrderResult{
			StockCode: code, Quantity: quantity, ExecutionStrategy: strategy, Strategy: executionStrategies[strategy],
			Operation: operation, ContractNo: order.ContractNo, Order: order,
		}
		data.Success, data.Message, err = orderOutcome(order, code, "市价"+sideName(side))
		return Result{Data: data, Message: data.Message}, err
	}
}

// orderOutcome judges an order the broker accepted to record: one it
// recorded as 废单 is a rejection, whatever the call returned.
func orderOutcome(order automation.Order, code, what string) (bool, string, error) {
	if order.Status == automation.OrderRejected {
		reason := order.Reason
		if reason == "" {
			reason = "no reason given"
		}
		msg := fmt.Sprintf("%s的%s委托被拒绝(废单): %s", code, what, reason)
		return false, msg, automation.Rejected("%s", msg)
	}
	return true, fmt.Sprintf("成功提交%s的%s委托", code, what), nil
}
