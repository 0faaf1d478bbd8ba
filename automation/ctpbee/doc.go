// Package ctpbee is brokerd's driver for China futures: a CTP account
// behind a ctpbee_backend server (seeds/001), as an exchange-family
// terminal (automation.Exchange) with close_position and place_order's
// offset.
//
// What the backend really does (REFERENCE.md, read from its code) shapes
// the driver:
//
//   - /login answers a JWT that goes in "Authorization: JWT <token>"; a
//     refused token is HTTP 200 {"success": false, "msg": "token error"}.
//     The driver logs in again once, and a second refusal puts the
//     terminal in error. A refused login (授权码错误, Refuse!, 登录出现错误)
//     is never retried by itself: CTP brokers lock an account after a few
//     wrong passwords. Reconnect tries again.
//   - Parameters go form-encoded (a JSON body is ignored); every answer is
//     HTTP 200 text/html {success, msg, data}; success false is rejected
//     with msg.
//   - A placed order answers 成功下单 without an order id, and a rejection
//     later than ~0.2 s still answers success. So every order is confirmed
//     in GET /order_solve: the orders that were not there before the send
//     with the request's symbol, direction, offset, price and volume. One
//     match is the order; none is rejected; several are outcome_unknown
//     with the candidates. A lost answer (a dropped connection, a timeout,
//     an HTML 500) is settled the same way. Nothing is ever sent twice.
//   - /close_position and the cancel (DELETE /order_solve) answer success
//     even when they sent nothing: both are confirmed by reading the
//     orders.
//   - The account's balance is not available over HTTP (the backend pushes
//     it on its socket only): asset is unsupported rather than answered
//     with made-up numbers. Contracts (and so price ticks) are not
//     available either: symbol_info is unsupported, and SymbolRules gives
//     what the symbol itself tells (lots are whole, SHFE and INE tell
//     today's position from yesterday's) with an unknown (zero) tick.
//   - The strategy and code endpoints (/strategy, /check_code, /run_code,
//     /code) are never called: brokerd runs no code it is sent.
//
// Package ctpbeetest is a local ctpbee_backend for tests.
package ctpbee
