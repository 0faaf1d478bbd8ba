package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Terminal is one platform login at a gateway: an automation.Exchange with
// cached symbol rules (automation.SymbolRules).
type Terminal struct {
	name string
	opts Options
	env  automation.Env
	log  *slog.Logger
	now  func() time.Time

	hub       *Hub
	c         *conn
	s         *session
	closeOnce sync.Once

	mu        sync.Mutex
	orders    map[string]*knownOrder // by order_no
	orderSeq  uint64                 // counts orders first seen
	placed    map[string]bool        // order_nos a place_order of this terminal was answered with or settled on
	clientOf  map[string]string      // order_no → client order id
	byClient  map[string]string      // client order id → order_no
	rules     map[string]automation.SymbolInfo
	baselined map[string]bool // symbols whose open orders were read since READY
	held      map[string]heldPosition
	fills     map[string]bool // order_no + fill_no of fills of orders not known (orders.go)

	assetAsking, assetAgain bool // verifyAssets
}

var (
	_ automation.Exchange    = (*Terminal)(nil)
	_ automation.SymbolRules = (*Terminal)(nil)
)

func newTerminal(name string, opts Options, env automation.Env) *Terminal {
	return &Terminal{
		name: name, opts: opts, env: env, log: env.Log(), now: env.Clock(),
		orders: map[string]*knownOrder{}, placed: map[string]bool{}, clientOf: map[string]string{},
		byClient: map[string]string{}, rules: map[string]automation.SymbolInfo{}, baselined: map[string]bool{},
		held: map[string]heldPosition{}, fills: map[string]bool{},
	}
}

func (t *Terminal) attach(h *Hub, c *conn, s *session) { t.hub, t.c, t.s = h, c, s }

func (t *Terminal) Name() string   { return t.name }
func (t *Terminal) Driver() string { return "gateway" }

// State is the login's state from the gateway's notices; it never blocks
// on the network.
func (t *Terminal) State() automation.State {
	st, _, _ := t.c.statusOf(t.s)
	return st
}

// Reason says why the terminal is in its state ("gateway state 5
// RECONNECTING: …", "login refused by the gateway: …").
func (t *Terminal) Reason() string {
	_, why, _ := t.c.statusOf(t.s)
	return why
}

// Supports is the exchange set; position and close_position only on a
// futures platform (the gateway never answers a spot position).
func (t *Terminal) Supports(op string) bool {
	switch op {
	case automation.OpPlaceOrder, automation.OpCancelOrder, automation.OpOrderStatus, automation.OpOpenOrders,
		automation.OpAsset, automation.OpSymbolInfo:
		return true
	case automation.OpPosition, automation.OpClosePosition:
		return t.opts.Futures
	}
	return false
}

// Reconnect logs this platform out and in again on the shared socket (the
// other platforms on it are not disturbed), or dials at once when the
// socket is down, and waits for READY within ctx.
func (t *Terminal) Reconnect(ctx context.Context) error {
	if tok := t.c.tokenOf(t.s); tok != "" {
		t.c.call(ctx, request{Op: "logout", Token: tok}, t.s.requestTimeout)
	}
	t.c.mu.Lock()
	if t.s.token != "" && t.c.byToken[t.s.token] == t.s {
		delete(t.c.byToken, t.s.token)
	}
	t.s.token, t.s.code, t.s.msg, t.s.refused, t.s.loginSock = "", 0, "", "", 0
	t.s.armLocked(t.c)
	t.c.noteLocked(t.s)
	t.c.mu.Unlock()
	t.c.pokeLogin()
	t.c.wakeDial()
	return t.waitReady(ctx, false)
}

// Close logs the platform out and leaves the socket, closing it with the
// last terminal; every goroutine of the socket has ended when the last
// Close returns.
func (t *Terminal) Close() error {
	t.closeOnce.Do(func() {
		if tok := t.c.tokenOf(t.s); tok != "" {
			ctx, cancel := context.WithTimeout(context.Background(), min(t.s.requestTimeout, 2*time.Second))
			t.c.call(ctx, request{Op: "logout", Token: tok}, t.s.requestTimeout)
			cancel()
		}
		t.hub.release(t.c, t.s)
	})
	return nil
}

// waitReady waits for READY within ctx. With failFast a terminal in error
// (a refused login, state 3 or 7) fails at once; without, it is waited
// through too (a settlement that must ask the gateway).
func (t *Terminal) waitReady(ctx context.Context, failFast bool) error {
	_, err := t.readyToken(ctx, failFast)
	return err
}

// readyToken waits for READY as waitReady does and returns the login's
// token.
func (t *Terminal) readyToken(ctx context.Context, failFast bool) (string, error) {
	for {
		st, why, token, changed := t.c.readiness(t.s)
		switch {
		case st == automation.StateReady && token != "":
			return token, nil
		case st == automation.StateDisconnected:
			return "", automation.NotConnected("gateway terminal %s is closed", t.name)
		case st == automation.StateError && failFast:
			return "", automation.NotConnected("gateway terminal %s is in error: %s", t.name, why)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", automation.NotConnected("gateway terminal %s did not become ready (%s: %s) before the deadline", t.name, st, why)
		}
	}
}

// ask sends a request without side effects once the terminal is ready and
// returns its answer; any failure is a coded error.
func (t *Terminal) ask(ctx context.Context, req request) (frame, error) {
	token, err := t.readyToken(ctx, true)
	if err != nil {
		return frame{}, err
	}
	req.Token = token
	f, err := t.c.call(ctx, req, t.s.requestTimeout)
	if err != nil {
		return frame{}, t.lost(req.Op, err)
	}
	return f, t.refusal(req.Op, f)
}

// lost codes a request that got no answer. Only for requests without side
// effects: place_order and cancel_order settle theirs.
func (t *Terminal) lost(op string, err error) error {
	var notSent *notSentError
	switch {
	case errors.As(err, &notSent):
		return automation.NotConnected("gateway %s: %s", op, notSent.why)
	case errors.Is(err, errUnanswered):
		return &automation.Error{Code: automation.CodeTimeout, Message: fmt.Sprintf("gateway %s: not answered within request_timeout %s", op, t.s.requestTimeout)}
	case errors.Is(err, errDropped):
		return &automation.Error{Code: automation.CodeTimeout, Message: fmt.Sprintf("gateway %s: the connection dropped before the answer", op)}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("gateway %s: %w", op, err)
	}
	return &automation.Error{Code: automation.CodeTimeout, Message: fmt.Sprintf("gateway %s: %s", op, t.c.redact(err.Error()))}
}

// refusal is the error of an answer that says no (result false, or an
// op error attributed to the request); nil for a yes.
func (t *Terminal) refusal(op string, f frame) error {
	msg := t.c.redact(string(f.ErrorMessage))
	switch {
	case f.Op == "error":
		return automation.VenueError(automation.CodeRejected, "", fmt.Sprintf("gateway %s failed: %s", op, msg))
	case !f.ok() && msg == "":
		return automation.VenueError(automation.CodeRejected, "", fmt.Sprintf("gateway refused %s without a message", op))
	case !f.ok():
		return automation.VenueError(automation.CodeRejected, "", msg)
	}
	return nil
}

func (t *Terminal) decodeError(op string, err error) error {
	return &automation.Error{Code: automation.CodeInternal, Message: fmt.Sprintf("gateway %s answer not understood: %v", op, err)}
}

// symbolsOr is [symbol], or every configured symbol when it is "".
func (t *Terminal) symbolsOr(symbol string) []string {
	if symbol != "" {
		return []string{symbol}
	}
	return t.opts.Symbols
}

// fetchOpen reads one symbol's open orders (and learns them).
func (t *Terminal) fetchOpen(ctx context.Context, symbol string) ([]automation.ExchangeOrder, error) {
	f, err := t.ask(ctx, request{Op: "open_orders", Symbol: symbol})
	if err != nil {
		return nil, err
	}
	var ws []wireOrder
	if len(f.Data) > 0 && string(f.Data) != "null" {
		if err := json.Unmarshal(f.Data, &ws); err != nil {
			return nil, t.decodeError("open_orders", err)
		}
	}
	out := make([]automation.ExchangeOrder, 0, len(ws))
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ws {
		o, err := w.exchangeOrder(symbol, t.opts.Futures)
		if err != nil {
			return nil, t.decodeError("open_orders", err)
		}
		view, _ := t.learnLocked(o, w.Quantity.Decimal, w.CTime.time(), w.UTime.time(), true)
		out = append(out, view)
	}
	t.baselined[symbol] = true
	return out, nil
}

func (t *Terminal) OpenOrders(ctx context.Context, symbol string) ([]automation.ExchangeOrder, error) {
	out := []automation.ExchangeOrder{}
	for _, sym := range t.symbolsOr(symbol) {
		os, err := t.fetchOpen(ctx, sym)
		if err != nil {
			return nil, err
		}
		out = append(out, os...)
	}
	return out, nil
}

func (t *Terminal) Assets(ctx context.Context) ([]automation.Asset, error) {
	f, err := t.ask(ctx, request{Op: "asset"})
	if err != nil {
		return nil, err
	}
	as, err := decodeAssets(f.Data)
	if err != nil {
		return nil, t.decodeError("asset", err)
	}
	return as, nil
}

func (t *Terminal) Positions(ctx context.Context, symbol string) ([]automation.ExchangePosition, error) {
	if !t.opts.Futures {
		return nil, automation.ErrUnsupported
	}
	out := []automation.ExchangePosition{}
	for _, sym := range t.symbolsOr(symbol) {
		f, err := t.ask(ctx, request{Op: "position", Symbol: sym})
		if err != nil {
			return nil, err
		}
		var w wirePosition
		if err := json.Unmarshal(f.Data, &w); err != nil {
			return nil, t.decodeError("position", err)
		}
		ps := w.positions(sym)
		t.mu.Lock()
		t.notePositionsLocked(sym, ps, w.UTime.time())
		t.mu.Unlock()
		out = append(out, ps...)
	}
	return out, nil
}

func (t *Terminal) SymbolInfo(ctx context.Context, symbol string) (automation.SymbolInfo, error) {
	if symbol == "" {
		return automation.SymbolInfo{}, automation.Rejected("symbol_info needs a symbol")
	}
	f, err := t.ask(ctx, request{Op: "symbol_info", Symbol: symbol})
	if err != nil {
		return automation.SymbolInfo{}, err
	}
	var w wireSymbol
	if err := json.Unmarshal(f.Data, &w); err != nil {
		return automation.SymbolInfo{}, t.decodeError("symbol_info", err)
	}
	info := w.symbolInfo(symbol)
	t.mu.Lock()
	t.rules[symbol] = info
	t.mu.Unlock()
	return info, nil
}

// CachedSymbol is the symbol's rules from the last symbol_info (read for
// every configured symbol at each READY).
func (t *Terminal) CachedSymbol(symbol string) (automation.SymbolInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, ok := t.rules[symbol]
	return info, ok
}

// refresh runs after every READY: the symbols' rules, and their open
// orders, so that an order placed before this process is never taken for
// one whose answer was lost.
func (t *Terminal) refresh(ctx context.Context) {
	for _, sym := range t.opts.Symbols {
		if _, err := t.SymbolInfo(ctx, sym); err != nil && ctx.Err() == nil {
			t.log.Warn("gateway symbol_info at READY failed", "symbol", sym, "err", err)
		}
		if _, err := t.fetchOpen(ctx, sym); err != nil && ctx.Err() == nil {
			t.log.Warn("gateway open_orders at READY failed", "symbol", sym, "err", err)
		}
		if t.opts.Futures {
			if _, err := t.Positions(ctx, sym); err != nil && ctx.Err() == nil {
				t.log.Warn("gateway position at READY failed", "symbol", sym, "err", err)
			}
		}
	}
}

// resolve finds the order_no and symbol of ref.
func (t *Terminal) resolve(ref automation.OrderRef) (orderNo, symbol string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	orderNo = ref.OrderID
	if orderNo == "" {
		no, ok := t.byClient[ref.ClientOrderID]
		if !ok {
			// Not "no such order": the gateway cannot be asked by client
			// order id, so its absence here proves nothing (brokerd's
			// settler records that it cannot settle, rather than guess).
			return "", "", &automation.Error{Code: automation.CodeUnsupported, Err: automation.ErrUnsupported,
				Message: fmt.Sprintf("the gateway has no client order ids, and client order id %q was not placed through terminal %s since it started: look the order up by order_id", ref.ClientOrderID, t.name)}
		}
		orderNo = no
	}
	symbol = ref.Symbol
	if k, ok := t.orders[orderNo]; ok && symbol == "" {
		symbol = k.order.Symbol
	}
	if symbol == "" {
		return "", "", automation.Rejected("the gateway needs the order's symbol")
	}
	return orderNo, symbol, nil
}

// known is the order as last seen, if it was.
func (t *Terminal) known(orderNo string) (automation.ExchangeOrder, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.orders[orderNo]
	if !ok {
		return automation.ExchangeOrder{}, false
	}
	return t.viewLocked(k), true
}

// OrderStatus looks the order up among the open orders, then among what
// the notices told of it. The gateway cannot look up a finished order: one
// it does not list and sent no notice of is "no such order".
func (t *Terminal) OrderStatus(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	orderNo, symbol, err := t.resolve(ref)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	open, err := t.fetchOpen(ctx, symbol)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	for _, o := range open {
		if o.OrderID == orderNo {
			return o, nil
		}
	}
	return t.gone(orderNo, symbol)
}

// gone answers for an order that is not among the open orders.
func (t *Terminal) gone(orderNo, symbol string) (automation.ExchangeOrder, error) {
	o, ok := t.known(orderNo)
	switch {
	case !ok:
		return automation.ExchangeOrder{}, automation.NoSuchOrder(fmt.Sprintf("the gateway lists no open order %s for %s and sent no notice of it", orderNo, symbol))
	case o.Status.Open():
		return o, automation.OutcomeUnknown(nil, "order %s is no longer among the open orders of %s and no notice said how it ended (filled or canceled)", orderNo, symbol)
	}
	return o, nil
}

// CancelOrder cancels one order. The gateway answers per order in data[];
// a cancel it never answers (some platforms do not, for one order) is
// checked against the open orders.
func (t *Terminal) CancelOrder(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	orderNo, symbol, err := t.resolve(ref)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	token, err := t.readyToken(ctx, true)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	req := request{Op: "cancel_order", Token: token, Symbol: symbol, OrderNos: []string{orderNo}}
	f, err := t.c.call(ctx, req, t.s.requestTimeout)
	var notSent *notSentError
	switch {
	case errors.As(err, &notSent):
		return automation.ExchangeOrder{}, t.lost("cancel_order", err)
	case err != nil:
		return t.cancelUnanswered(ctx, orderNo, symbol, err)
	}
	if err := t.refusal("cancel_order", f); err != nil {
		return automation.ExchangeOrder{}, err
	}
	var lines []wireCancel
	if len(f.Data) > 0 && string(f.Data) != "null" {
		if err := json.Unmarshal(f.Data, &lines); err != nil {
			return automation.ExchangeOrder{}, t.decodeError("cancel_order", err)
		}
	}
	for _, l := range lines {
		if string(l.OrderNo) == orderNo && !l.Result {
			msg := t.c.redact(string(l.ErrorMessage))
			if msg == "" {
				msg = "refused without a message"
			}
			return automation.ExchangeOrder{}, automation.VenueError(automation.CodeRejected, "", fmt.Sprintf("cancel of order %s: %s", orderNo, msg))
		}
	}
	return t.canceled(orderNo, symbol), nil
}

// canceled is the order after a cancel the gateway accepted.
func (t *Terminal) canceled(orderNo, symbol string) automation.ExchangeOrder {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.orders[orderNo]
	if !ok {
		return automation.ExchangeOrder{OrderID: orderNo, Symbol: symbol, Status: automation.StatusCanceled, UpdatedAt: t.now()}
	}
	if k.order.Status.Open() {
		k.order.Status, k.order.UpdatedAt = automation.StatusCanceled, t.now()
	}
	return t.viewLocked(k)
}

func (t *Terminal) cancelUnanswered(ctx context.Context, orderNo, symbol string, cause error) (automation.ExchangeOrder, error) {
	why := t.lost("cancel_order", cause).Error()
	if ctx.Err() != nil {
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(cause, "%s; whether order %s is canceled is not known", why, orderNo)
	}
	open, err := t.fetchOpen(ctx, symbol)
	if err != nil {
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(err, "%s, and the open orders could not be read", why)
	}
	for _, o := range open {
		if o.OrderID == orderNo {
			return o, automation.VenueError(automation.CodeRejected, "", fmt.Sprintf("%s, and order %s is still open", why, orderNo))
		}
	}
	o, err := t.gone(orderNo, symbol)
	if err != nil {
		return o, automation.OutcomeUnknown(err, "%s; order %s is no longer open", why, orderNo)
	}
	return o, nil
}

// sortedIDs lists order ids for messages.
func sortedIDs(os []automation.ExchangeOrder) []string {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.OrderID
	}
	sort.Strings(ids)
	return ids
}
