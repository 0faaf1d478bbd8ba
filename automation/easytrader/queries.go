package easytrader

import (
	"context"
	"errors"
	"math"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

// Funds reads /balance.
func (t *Terminal) Funds(ctx context.Context) (automation.Funds, error) {
	if err := t.take(ctx); err != nil {
		return automation.Funds{}, err
	}
	defer t.give()
	return t.funds(ctx)
}

func (t *Terminal) funds(ctx context.Context) (automation.Funds, error) {
	body, err := t.get(ctx, "/balance")
	if err != nil {
		return automation.Funds{}, err
	}
	rows, err := thsgrid.Decode(body)
	if errors.Is(err, thsgrid.ErrNoTable) {
		return automation.Funds{}, noTable("/balance")
	}
	if err != nil {
		return automation.Funds{}, badTable("/balance", err)
	}
	f, extra, err := thsgrid.Funds(rows)
	if err != nil {
		return automation.Funds{}, badTable("/balance", err)
	}
	if len(extra) > 0 {
		// Funds has no room for them; the log keeps them.
		t.log.Debug("easytrader balance columns without a field", "columns", extra)
	}
	return f, nil
}

// Positions reads /position.
func (t *Terminal) Positions(ctx context.Context) ([]automation.Position, error) {
	if err := t.take(ctx); err != nil {
		return nil, err
	}
	defer t.give()
	rows, err := t.table(ctx, "/position")
	if err != nil {
		return nil, err
	}
	ps, err := thsgrid.Positions(rows)
	if err != nil {
		return nil, badTable("/position", err)
	}
	return ps, nil
}

// Orders reads /today_entrusts.
func (t *Terminal) Orders(ctx context.Context, code string) ([]automation.Order, error) {
	if err := t.take(ctx); err != nil {
		return nil, err
	}
	defer t.give()
	orders, err := t.orders(ctx, "/today_entrusts")
	if err != nil {
		return nil, err
	}
	t.fillPrices(ctx, orders)
	if code == "" {
		return orders, nil
	}
	out := []automation.Order{}
	for _, o := range orders {
		if o.Code == code {
			out = append(out, o)
		}
	}
	return out, nil
}

// fillPrices sets the 成交均价 that clients without the column leave out
// (yh, gj) from /today_trades; only when a filled order lacks it, as each
// read is a copy of the client's grid. A failed read leaves them 0.
func (t *Terminal) fillPrices(ctx context.Context, orders []automation.Order) {
	need := false
	for _, o := range orders {
		need = need || (o.Filled > 0 && o.AvgPrice == 0)
	}
	if !need {
		return
	}
	rows, err := t.table(ctx, "/today_trades")
	if err != nil {
		t.log.Debug("easytrader /today_trades unread: fill prices left out", "error", err)
		return
	}
	amount, shares := map[string]float64{}, map[string]float64{}
	for _, tr := range thsgrid.Trades(rows) {
		amount[thsgrid.TrimContract(tr.ContractNo)] += tr.Price * float64(tr.Quantity)
		shares[thsgrid.TrimContract(tr.ContractNo)] += float64(tr.Quantity)
	}
	for i, o := range orders {
		no := thsgrid.TrimContract(o.ContractNo)
		if o.Filled > 0 && o.AvgPrice == 0 && shares[no] > 0 {
			orders[i].AvgPrice = math.Round(amount[no]/shares[no]*1000) / 1000
		}
	}
}

// orders reads a table of orders (today_entrusts or cancel_entrusts).
func (t *Terminal) orders(ctx context.Context, path string) ([]automation.Order, error) {
	rows, err := t.table(ctx, path)
	if err != nil {
		return nil, err
	}
	orders, err := thsgrid.Orders(rows)
	if err != nil {
		return nil, badTable(path, err)
	}
	// Today's lists: a client without a 委托日期 column means today.
	today := t.now().In(chinaTime).Format("20060102")
	for i := range orders {
		if orders[i].Date == "" {
			orders[i].Date = today
		}
	}
	return orders, nil
}

func (t *Terminal) table(ctx context.Context, path string) ([]thsgrid.Row, error) {
	body, err := t.get(ctx, path)
	if err != nil {
		return nil, err
	}
	rows, err := thsgrid.Decode(body)
	if errors.Is(err, thsgrid.ErrNoTable) {
		return nil, noTable(path)
	}
	if err != nil {
		return nil, badTable(path, err)
	}
	return rows, nil
}

// noTable is a null table: the agent is there, its client is stuck.
func noTable(path string) error {
	return &automation.Error{Code: automation.CodeNotConnected, Err: thsgrid.ErrNoTable,
		Message: "easytrader " + path + " answered null: the client's grid could not be copied (a captcha or a pop-up?)"}
}

func badTable(path string, err error) error {
	return &automation.Error{Code: automation.CodeInternal, Message: "easytrader " + path + ": cannot read the table", Err: err}
}

// The agent has no endpoint for these.

func (t *Terminal) OrderHistory(context.Context, automation.HistoryQuery) ([]automation.Order, error) {
	return nil, automation.ErrUnsupported
}

func (t *Terminal) RepoRates(context.Context) ([]automation.RepoRate, error) {
	return nil, automation.ErrUnsupported
}

func (t *Terminal) LendRepo(context.Context, automation.RepoRequest) (automation.RepoLoan, error) {
	return automation.RepoLoan{}, automation.ErrUnsupported
}

func (t *Terminal) PlaceConditionOrder(context.Context, automation.ConditionRequest) (automation.ConditionOrder, error) {
	return automation.ConditionOrder{}, automation.ErrUnsupported
}

func (t *Terminal) ConditionOrders(context.Context) ([]automation.ConditionOrder, error) {
	return nil, automation.ErrUnsupported
}

func (t *Terminal) CancelConditionOrders(context.Context, automation.ConditionCancel) ([]automation.ConditionOrder, error) {
	return nil, automation.ErrUnsupported
}
