// Package automation holds brokerd's domain: the values a broker terminal
// deals in (orders, positions, funds, condition orders, repo rates) and the
// interfaces a driver implements. It knows nothing of HTTP, SQL or queues;
// drivers (automation/sim, …) live in sub-packages and are wired in cmd/.
package automation

import "context"

// State is what a terminal can tell about its connection. The health
// endpoint reports it per terminal.
type State string

const (
	StateConnecting   State = "connecting"
	StateReady        State = "ready"
	StateDisconnected State = "disconnected"
	StateReconnecting State = "reconnecting"
	StateError        State = "error"
)

// Healthy reports whether a terminal in state s can take operations.
func (s State) Healthy() bool { return s == StateReady }

// Terminal is what every driver is: a named connection to one account at one
// venue that can say how it is and which operations it carries out.
type Terminal interface {
	// Name is the terminal's name from config ([[terminals]] name).
	Name() string
	// Driver is the driver that built it: "sim", "easytrader", ….
	Driver() string
	// State is the connection state as last observed; it must not block.
	State() State
	// Supports reports whether the driver can carry out the named
	// operation, so that an unsupported one is refused at submit.
	Supports(operation string) bool
	// Reconnect drops and re-establishes the connection.
	Reconnect(ctx context.Context) error
	// Close releases the connection; the terminal is unusable afterwards.
	Close() error
}

// StockBroker is a terminal of an A-share broker (a THS xiadan client, an
// easytrader agent, the sim). Every method is called by one lane at a time,
// never concurrently with another call on the same terminal, but it must
// honour ctx: when ctx is done the driver returns as soon as it safely can.
//
// A driver that lacks a capability returns ErrUnsupported from that method
// and says false from Supports for the operations that need it.
type StockBroker interface {
	Terminal

	// PlaceOrder sends a limit or market order and returns it as the broker
	// recorded it, with its contract number (合同编号).
	PlaceOrder(ctx context.Context, req OrderRequest) (Order, error)
	// CancelOrders cancels the open orders that match and returns them as
	// they are after the cancel.
	CancelOrders(ctx context.Context, req CancelRequest) ([]Order, error)
	// Orders lists today's orders (当日委托), filtered by code when given.
	Orders(ctx context.Context, code string) ([]Order, error)
	// OrderHistory lists orders placed within the query's range (历史委托).
	OrderHistory(ctx context.Context, q HistoryQuery) ([]Order, error)
	// Funds reports the cash account (资金股份).
	Funds(ctx context.Context) (Funds, error)
	// Positions lists the holdings (持仓).
	Positions(ctx context.Context) ([]Position, error)

	// RepoRates lists the current annualised reverse repo rates.
	RepoRates(ctx context.Context) ([]RepoRate, error)
	// LendRepo lends cash through a treasury reverse repo (国债逆回购).
	LendRepo(ctx context.Context, req RepoRequest) (RepoLoan, error)

	// PlaceConditionOrder sets a condition buy or a stop-loss/stop-profit
	// order that the broker watches and fires on price.
	PlaceConditionOrder(ctx context.Context, req ConditionRequest) (ConditionOrder, error)
	// ConditionOrders lists the condition orders not yet triggered.
	ConditionOrders(ctx context.Context) ([]ConditionOrder, error)
	// CancelConditionOrders deletes the watching condition orders that match.
	CancelConditionOrders(ctx context.Context, req ConditionCancel) ([]ConditionOrder, error)
}
