// Package gateway is brokerd's driver for the JSON WebSocket trading
// gateway of seeds/004 (alphahunter's web service): one socket fronts many
// venues (huobi, okex, binance spot and futures, …), each logged in as a
// "platform" and told apart by the token its login answers.
//
// A terminal is one platform login. Terminals with the same url share one
// socket through a Hub (Open uses DefaultHub); the socket is dialled in the
// background, pinged every ping_every with a JSON ping, and redialled with
// backoff and jitter when it drops or stops answering pings, after which
// every platform is logged in again. A login's answer is not readiness: a
// terminal is ready only once the gateway sends state code 6 (READY) for
// its token.
//
// The gateway has no client order id. A place_order whose answer is lost is
// never sent again: it is settled from the order notices and open_orders
// (settle.go).
//
// Files: options.go (the [terminals.options]), wire.go (the frames),
// hub.go and conn.go (the shared socket), session.go (one login's state),
// terminal.go (automation.Exchange), settle.go (lost answers), orders.go
// (what the terminal knows of its orders), stale.go (an earlier session's
// states and notices delivered under a new login's token).
package gateway
