package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// fakeBroker is a StockBroker that answers what a test gives it and
// records what it was asked.
type fakeBroker struct {
	unsupported map[string]bool // operations Supports says no to
	err         error           // returned by every call when set

	order      automation.Order
	orders     []automation.Order
	history    []automation.Order
	funds      automation.Funds
	positions  []automation.Position
	rates      []automation.RepoRate
	loan       automation.RepoLoan
	condition  automation.ConditionOrder
	conditions []automation.ConditionOrder
	cancelled  []automation.Order
	deleted    []automation.ConditionOrder

	calls         []string
	orderReq      automation.OrderRequest
	cancelReq     automation.CancelRequest
	ordersCode    string
	historyQuery  automation.HistoryQuery
	repoReq       automation.RepoRequest
	conditionReq  automation.ConditionRequest
	conditionDrop automation.ConditionCancel
}

var _ automation.StockBroker = (*fakeBroker)(nil)

func (f *fakeBroker) Name() string                    { return "fake" }
func (f *fakeBroker) Driver() string                  { return "fake" }
func (f *fakeBroker) State() automation.State         { return automation.StateReady }
func (f *fakeBroker) Supports(op string) bool         { return !f.unsupported[op] }
func (f *fakeBroker) Reconnect(context.Context) error { return nil }
func (f *fakeBroker) Close() error                    { return nil }

func (f *fakeBroker) PlaceOrder(_ context.Context, req automation.OrderRequest) (automation.Order, error) {
	f.calls = append(f.calls, "PlaceOrder")
	f.orderReq = req
	return f.order, f.err
}

func (f *fakeBroker) CancelOrders(_ context.Context, req automation.CancelRequest) ([]automation.Order, error) {
	f.calls = append(f.calls, "CancelOrders")
	f.cancelReq = req
	return f.cancelled, f.err
}

func (f *fakeBroker) Orders(_ context.Context, code string) ([]automation.Order, error) {
	f.calls = append(f.calls, "Orders")
	f.ordersCode = code
	return f.orders, f.err
}

func (f *fakeBroker) OrderHistory(_ context.Context, q automation.HistoryQuery) ([]automation.Order, error) {
	f.calls = append(f.calls, "OrderHistory")
	f.historyQuery = q
	return f.history, f.err
}

func (f *fakeBroker) Funds(context.Context) (automation.Funds, error) {
	f.calls = append(f.calls, "Funds")
	return f.funds, f.err
}

func (f *fakeBroker) Positions(context.Context) ([]automation.Position, error) {
	f.calls = append(f.calls, "Positions")
	return f.positions, f.err
}

func (f *fakeBroker) RepoRates(context.Context) ([]automation.RepoRate, error) {
	f.calls = append(f.calls, "RepoRates")
	return f.rates, f.err
}

func (f *fakeBroker) LendRepo(_ context.Context, req automation.RepoRequest) (automation.RepoLoan, error) {
	f.calls = append(f.calls, "LendRepo")
	f.repoReq = req
	return f.loan, f.err
}

func (f *fakeBroker) PlaceConditionOrder(_ context.Context, req automation.ConditionRequest) (automation.ConditionOrder, error) {
	f.calls = append(f.calls, "PlaceConditionOrder")
	f.conditionReq = req
	return f.condition, f.err
}

func (f *fakeBroker) ConditionOrders(context.Context) ([]automation.ConditionOrder, error) {
	f.calls = append(f.calls, "ConditionOrders")
	return f.conditions, f.err
}

func (f *fakeBroker) CancelConditionOrders(_ context.Context, req automation.ConditionCancel) ([]automation.ConditionOrder, error) {
	f.calls = append(f.calls, "CancelConditionOrders")
	f.conditionDrop = req
	return f.deleted, f.err
}

// plainTerminal is a terminal that is no StockBroker (an exchange, say).
type plainTerminal struct{}

func (plainTerminal) Name() string                    { return "binance" }
func (plainTerminal) Driver() string                  { return "binance" }
func (plainTerminal) State() automation.State         { return automation.StateReady }
func (plainTerminal) Supports(string) bool            { return true }
func (plainTerminal) Reconnect(context.Context) error { return nil }
func (plainTerminal) Close() error                    { return nil }
