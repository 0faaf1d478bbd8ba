// Package risk is brokerd's pre-trade check and kill switch. Every new
// order is checked, after its parameters are validated and before it is
// journaled, against its terminal's limits from config.toml ([risk] for
// every terminal, [[risk]] with terminal = "name" for one): notional per
// order and per day and side, orders per minute and per day, the position
// a day's buying builds per symbol, allow- and deny-lists, trading hours
// and a price collar. A refusal names the rule, the limit and the value
// that broke it. Queries are never refused.
//
// The day counters are rebuilt from the journal at start (Reconcile) and
// kept up to date in memory from then on: the queue asks Admit before it
// journals an order, and tells OperationChanged (the Checker is a
// queue.Observer) how each one ends. So after a crash the counters are
// what the journal says, exactly.
//
// The package does no I/O of its own: time comes from a clock function,
// prices from a PriceSource, the journal and the queue through small
// interfaces.
package risk
