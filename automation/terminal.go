// Package automation holds brokerd's domain: the terminals a driver
// implements and the values they deal in. It knows nothing of HTTP, SQL or
// queues; drivers (automation/sim, automation/binance, …) live in
// sub-packages and are wired in cmd/ by one line each in its opener table.
//
// The files are split by family:
//   - terminal.go, errors.go, driver.go, ledger.go, directory.go: what
//     every terminal shares (Terminal, State, coded errors, how a driver
//     is opened and what it may use from outside, the journal port for
//     drivers that persist, the configured terminals by name).
//   - stock.go, operations.go: the A-share family (StockBroker, orders in
//     THS's column names, the 15 EasyTHS operation names).
//   - exchange.go: the exchange family (Exchange, exact-decimal orders,
//     assets, positions, symbol rules, the exchange operation names).
package automation

import (
	"context"
	"time"
)

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

// Throttler is a terminal that holds back for its venue's rate limits. A
// submit to it while it is throttled is refused (503 with Retry-After)
// rather than queued to fail. It must not block.
type Throttler interface {
	Throttled() (retryAfter time.Duration, throttled bool)
}
