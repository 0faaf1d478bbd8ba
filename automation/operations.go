package automation

// The operation names of the EasyTHS set. Drivers use them in Supports; the
// plugins package has one plugin per name.
const (
	OpBuy                       = "buy"
	OpSell                      = "sell"
	OpMarketBuy                 = "market_buy"
	OpMarketSell                = "market_sell"
	OpHoldingQuery              = "holding_query"
	OpFundsQuery                = "funds_query"
	OpOrderQuery                = "order_query"
	OpOrderCancel               = "order_cancel"
	OpHistoricalCommissionQuery = "historical_commission_query"
	OpReverseRepoBuy            = "reverse_repo_buy"
	OpReverseRepoQuery          = "reverse_repo_query"
	OpConditionBuy              = "condition_buy"
	OpStopLossProfit            = "stop_loss_profit"
	OpConditionOrderQuery       = "condition_order_query"
	OpConditionOrderCancel      = "condition_order_cancel"
)

// StockOperations lists every A-share operation, in the order EasyTHS
// documents them.
var StockOperations = []string{
	OpBuy, OpSell, OpMarketBuy, OpMarketSell,
	OpHoldingQuery, OpFundsQuery, OpOrderQuery, OpOrderCancel,
	OpHistoricalCommissionQuery, OpReverseRepoBuy, OpReverseRepoQuery,
	OpConditionBuy, OpStopLossProfit, OpConditionOrderQuery, OpConditionOrderCancel,
}
