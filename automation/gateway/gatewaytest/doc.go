// Package gatewaytest is a local peer of the JSON WebSocket trading
// gateway of seeds/004 (alphahunter's web service), written from the seed
// and REFERENCE.md, for the gateway driver's tests and brokerd's
// end-to-end tests. It speaks the protocol as the reference server does —
// login answered at once and READY (state 6) later, errors without a cid,
// unknown ops ignored, a repeated login of an account refused on any
// socket, an idle socket closed, spot position never answered — and keeps
// orders against a settable price per symbol, so that LIMIT, MARKET and
// IOC orders rest, fill and cancel, with order, fill, asset and position
// notices.
//
// Faults are switched on at run time (SetReadyDelay, SetNoReady,
// SendState, DropConnections, DropOn, SetPongs, ErrorOn, HoldAnswers,
// SwallowOn, SetCancelOneUnanswered, SetStale — an ended session's late
// states and notices under the token of its account's next login) and
// what it received can be inspected (Count, PlaceOrders, Received, Orders), so that a test can
// prove an order was never sent twice.
package gatewaytest
