package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// cancel_order, order_status and open_orders: one order by its id or
// client order id, or the open ones.

func cancelOrderPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpCancelOrder,
		Title:         "CancelOrderOperation",
		Description:   "交易所撤单(order_id 与 client_order_id 二选一)",
		DescriptionEn: "cancel one order by order_id or client_order_id; the answer is the order after the cancel",
		SideEffect:    true,
		Params:        orderRefParams(),
		Check:         checkOneRef,
		Example:       map[string]any{"symbol": "BTCUSDT", "client_order_id": "my-order-1"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		order, err := x.CancelOrder(ctx, orderRef(c.Params))
		if err != nil {
			return Result{}, err
		}
		return Result{Data: order, Message: orderMessage(order)}, nil
	})
}

func orderStatusPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpOrderStatus,
		Title:         "OrderStatusOperation",
		Description:   "查询一个订单(order_id 与 client_order_id 二选一)",
		DescriptionEn: "look one order up by order_id or client_order_id",
		Params:        orderRefParams(),
		Check:         checkOneRef,
		Example:       map[string]any{"symbol": "BTCUSDT", "order_id": "8389765510214717441"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		order, err := x.OrderStatus(ctx, orderRef(c.Params))
		if err != nil {
			return Result{}, err
		}
		return Result{Data: order, Message: orderMessage(order)}, nil
	})
}

// OpenOrdersResult is the data of open_orders.
type OpenOrdersResult struct {
	Orders []automation.ExchangeOrder `json:"orders"`
	Count  int                        `json:"count"`
}

func openOrdersPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpOpenOrders,
		Title:         "OpenOrdersOperation",
		Description:   "查询未完成订单",
		DescriptionEn: "list the open orders, of one symbol when given",
		Params:        []Param{symbolParam(false, "only this symbol's orders; all when absent")},
		Example:       map[string]any{"symbol": "BTCUSDT"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		orders, err := x.OpenOrders(ctx, c.Params.str("symbol"))
		if err != nil {
			return Result{}, err
		}
		if orders == nil {
			orders = []automation.ExchangeOrder{}
		}
		return Result{Data: OpenOrdersResult{Orders: orders, Count: len(orders)}, Message: fmt.Sprintf("%d open orders", len(orders))}, nil
	})
}
