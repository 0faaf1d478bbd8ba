// Package binance is brokerd's driver for Binance USDⓈ-M futures over its
// WebSocket API (wss://ws-fapi.binance.com/ws-fapi/v1): an
// automation.Exchange that keeps one connection with many requests in
// flight matched by id, signs them (HMAC-SHA256, or an Ed25519 key with one
// session.logon per connection), times them from the server's clock, keeps
// under the venue's rate limits, and settles every lost answer by asking
// Binance (order.status by the client order id) instead of sending again.
//
// Files: options.go (the [terminals.options] contract), sign.go (the
// signature payload and signers), conn.go (one WebSocket connection and its
// requests in flight), terminal.go (Open, State, the operations' wait for
// a connection), supervise.go (connecting, reconnecting, replacing ahead of
// max_connection_age, the server clock, a refused key), request.go
// (authorising, sending, Binance's errors), orders.go (place, cancel,
// status and the settling of unknown outcomes), account.go (assets,
// positions, symbol rules, close_position), openorders.go (signed REST),
// limits.go (the local rate limiter), rest.go (server time and
// exchangeInfo), userstream.go (ORDER_TRADE_UPDATE as venue events),
// decode.go (Binance's JSON into domain values).
//
// The local peer in binancetest speaks the same protocol for tests.
package binance
