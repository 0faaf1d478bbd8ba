package sim

import (
	"context"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// The automation.StockBroker methods: each is one terminal action (see run).

// orderOperation is the operation name an order request is, for faults.
func orderOperation(req automation.OrderRequest) string {
	switch {
	case req.Kind == automation.Market && req.Side == automation.Sell:
		return automation.OpMarketSell
	case req.Kind == automation.Market:
		return automation.OpMarketBuy
	case req.Side == automation.Sell:
		return automation.OpSell
	}
	return automation.OpBuy
}

// ClientOrderIDLifetime is how long a client order id names its order,
// counted from the order's placing: as long as brokerd remembers an
// idempotency key (queue.Config.KeyTTL, 24h at least). A script that reuses
// a key the next day (say "buy-600000-daily") means a new order, and must
// get one rather than yesterday's answered again.
const ClientOrderIDLifetime = 24 * time.Hour

// PlaceOrder places a limit or market order. A marketable order fills at
// once at the current price; a limit order that is not rests until the
// price reaches it, it is cancelled, or its day ends. A ClientOrderID
// whose last order was placed less than ClientOrderIDLifetime ago returns
// that order instead of placing another (see clientOrder); an older one
// places a new order, which the id names from then on.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.OrderRequest) (automation.Order, error) {
	return run(ctx, t, orderOperation(req), func(now time.Time) (automation.Order, error) {
		s, err := specOf(req)
		if err != nil {
			return automation.Order{}, err
		}
		if s.clientID != "" {
			prev, err := t.clientOrder(ctx, now, s.clientID)
			if err != nil {
				return automation.Order{}, err
			}
			if prev != nil {
				o, err := t.replay(prev, s)
				if err != nil {
					return automation.Order{}, err
				}
				return o.view(), nil
			}
		}
		o, err := t.placeOrder(now, s)
		if err != nil {
			return automation.Order{}, err
		}
		return o.view(), nil
	})
}

// CancelOrders cancels the open orders that match and returns them.
func (t *Terminal) CancelOrders(ctx context.Context, req automation.CancelRequest) ([]automation.Order, error) {
	return run(ctx, t, automation.OpOrderCancel, func(time.Time) ([]automation.Order, error) {
		return t.cancelOrders(req)
	})
}

// Orders lists today's orders (当日委托), of code when given.
func (t *Terminal) Orders(ctx context.Context, code string) ([]automation.Order, error) {
	return run(ctx, t, automation.OpOrderQuery, func(now time.Time) ([]automation.Order, error) {
		return t.ordersView(dayOf(now), code), nil
	})
}

// OrderHistory lists the orders placed since q.Since, across days, as
// far back as the sim keeps them (a year).
func (t *Terminal) OrderHistory(ctx context.Context, q automation.HistoryQuery) ([]automation.Order, error) {
	return run(ctx, t, automation.OpHistoricalCommissionQuery, func(time.Time) ([]automation.Order, error) {
		return t.historyView(ctx, q)
	})
}

// Trades lists the fills since q.Since, with their fees. It is not part of
// automation.StockBroker: it serves paper trading and tests.
func (t *Terminal) Trades(ctx context.Context, q automation.HistoryQuery) ([]Trade, error) {
	return run(ctx, t, "trade_query", func(time.Time) ([]Trade, error) {
		return t.tradesView(ctx, q.Since, q.Code)
	})
}

// Funds reports the cash account at the current prices.
func (t *Terminal) Funds(ctx context.Context) (automation.Funds, error) {
	return run(ctx, t, automation.OpFundsQuery, func(now time.Time) (automation.Funds, error) {
		return t.fundsView(pointOf(now)), nil
	})
}

// Positions lists the holdings at the current prices.
func (t *Terminal) Positions(ctx context.Context) ([]automation.Position, error) {
	return run(ctx, t, automation.OpHoldingQuery, func(now time.Time) ([]automation.Position, error) {
		return t.positionsView(pointOf(now), dayOf(now)), nil
	})
}

// RepoRates lists the reverse repo rate table.
func (t *Terminal) RepoRates(ctx context.Context) ([]automation.RepoRate, error) {
	return run(ctx, t, automation.OpReverseRepoQuery, func(time.Time) ([]automation.RepoRate, error) {
		return t.repoRates(), nil
	})
}

// LendRepo lends cash through a reverse repo; the cash is frozen until it
// comes back with the interest.
func (t *Terminal) LendRepo(ctx context.Context, req automation.RepoRequest) (automation.RepoLoan, error) {
	return run(ctx, t, automation.OpReverseRepoBuy, func(now time.Time) (automation.RepoLoan, error) {
		return t.lendRepo(now, req)
	})
}

// PlaceConditionOrder sets a condition buy or a stop-loss/stop-profit.
func (t *Terminal) PlaceConditionOrder(ctx context.Context, req automation.ConditionRequest) (automation.ConditionOrder, error) {
	op := automation.OpStopLossProfit
	if req.Kind == automation.ConditionBuy {
		op = automation.OpConditionBuy
	}
	return run(ctx, t, op, func(now time.Time) (automation.ConditionOrder, error) {
		return t.placeCondition(now, req)
	})
}

// ConditionOrders lists the condition orders being watched.
func (t *Terminal) ConditionOrders(ctx context.Context) ([]automation.ConditionOrder, error) {
	return run(ctx, t, automation.OpConditionOrderQuery, func(time.Time) ([]automation.ConditionOrder, error) {
		return t.conditionsView(), nil
	})
}

// CancelConditionOrders deletes the watched condition orders that match.
func (t *Terminal) CancelConditionOrders(ctx context.Context, req automation.ConditionCancel) ([]automation.ConditionOrder, error) {
	return run(ctx, t, automation.OpConditionOrderCancel, func(now time.Time) ([]automation.ConditionOrder, error) {
		return t.cancelConditions(now, req), nil
	})
}
