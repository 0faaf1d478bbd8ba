package gatewaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// req is any request frame.
type req struct {
	Op        string          `json:"op"`
	Cid       string          `json:"cid"`
	Token     string          `json:"token"`
	Platform  string          `json:"platform"`
	Symbols   []string        `json:"symbols"`
	AccessKey string          `json:"access_key"`
	SecretKey string          `json:"secret_key"`
	Symbol    string          `json:"symbol"`
	Action    string          `json:"action"`
	Price     json.RawMessage `json:"price"`
	Quantity  json.RawMessage `json:"quantity"`
	OrderType string          `json:"order_type"`
	OrderNos  []string        `json:"order_nos"`
	TS        json.RawMessage `json:"ts"`
}

// reply is every answer: op and cid echoed, result and error_message, and
// what the op adds.
type reply struct {
	Op           string `json:"op"`
	Cid          string `json:"cid,omitempty"`
	Result       bool   `json:"result"`
	ErrorMessage string `json:"error_message"`
	Token        string `json:"token,omitempty"`
	OrderNo      string `json:"order_no,omitempty"`
	Data         any    `json:"data,omitempty"`
}

type errorFrame struct {
	Op           string `json:"op"`
	ErrorMessage string `json:"error_message"`
}

type stateMsg struct {
	Op    string `json:"op"`
	Token string `json:"token"`
	Code  int    `json:"code"`
	Msg   string `json:"msg"`
}

func stateFrame(token string, code int, msg string) stateMsg {
	return stateMsg{Op: "state", Token: token, Code: code, Msg: msg}
}

type notice struct {
	Op    string `json:"op"`
	Topic string `json:"topic"`
	Token string `json:"token"`
	Data  any    `json:"data"`
}

// Num is a decimal written as a JSON number, as the gateway writes them.
type Num decimal.Decimal

func (n Num) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(n).String()), nil }

type account struct {
	platform, access string
	session          *session
	orders           map[string]*order
	assets           map[string]decimal.Decimal
	long, short      map[string]decimal.Decimal // futures positions by symbol
	stale            []staleOut                 // an ended session's late frames, for the next login
}

func (a *account) orderList() []*order {
	out := make([]*order, 0, len(a.orders))
	for _, o := range a.orders {
		out = append(out, o)
	}
	return out
}

type session struct {
	token   string
	acct    *account
	c       *peerConn
	symbols map[string]bool
	ready   bool
}

type order struct {
	No, Symbol, Action, Type, Status string
	Price, Quantity, Remain          decimal.Decimal
	CTime, UTime                     int64
	lastFill                         map[string]any // the last fill notice's data
}

func (o *order) open() bool { return o.Status == "SUBMITTED" || o.Status == "PARTIAL-FILLED" }

func (o *order) crosses(market decimal.Decimal) bool {
	if o.Action == "BUY" {
		return market.LessThanOrEqual(o.Price)
	}
	return market.GreaterThanOrEqual(o.Price)
}

func (o *order) wire() map[string]any {
	return map[string]any{
		"symbol": o.Symbol, "order_no": o.No, "action": o.Action, "price": Num(o.Price), "quantity": Num(o.Quantity),
		"remain": Num(o.Remain), "status": o.Status, "order_type": o.Type, "ctime": o.CTime, "utime": o.UTime,
	}
}

func isFutures(platform string) bool {
	return strings.Contains(platform, "future") || strings.Contains(platform, "swap")
}

// handle carries out one frame; handled says whether it resets the idle
// timer, drop whether to close the socket.
func (s *Server) handle(c *peerConn, b []byte) (handled, drop bool) {
	var r req
	if err := json.Unmarshal(b, &r); err != nil {
		s.mu.Lock()
		s.sendLocked(c, errorFrame{Op: "error", ErrorMessage: fmt.Sprintf("{'error': 'invalid json: %v'}", err)})
		s.mu.Unlock()
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Op == "ping" {
		if s.f.noPongs {
			return false, false
		}
		s.sendLocked(c, map[string]json.RawMessage{"op": json.RawMessage(`"pong"`), "ts": orNull(r.TS)})
		return true, false
	}
	rec := Received{Op: r.Op, Cid: r.Cid, Token: r.Token, Frame: append([]byte(nil), b...), At: time.Now()}
	if ss, ok := s.sessions[r.Token]; ok {
		rec.Platform = ss.acct.platform
	} else if r.Op == "login" {
		rec.Platform = r.Platform
	}
	s.received = append(s.received, rec)

	handler, ok := map[string]func(*peerConn, req) any{
		"login": s.login, "logout": s.logout, "place_order": s.placeOrder, "cancel_order": s.cancelOrder,
		"open_orders": s.openOrders, "asset": s.asset, "position": s.position, "symbol_info": s.symbolInfo,
	}[r.Op]
	if !ok {
		return false, false // the reference server ignores unknown ops
	}
	if r.Op != "login" && r.Op != "logout" {
		ss, ok := s.sessions[r.Token]
		switch {
		case !ok:
			// A handler's KeyError: the reference server answers op error
			// without a cid.
			s.sendLocked(c, errorFrame{Op: "error", ErrorMessage: fmt.Sprintf("{'error': \"KeyError: '%s'\"}", r.Token)})
			return true, false
		case r.Op == "position" && !isFutures(ss.acct.platform):
			return true, false // spot position: never answered
		}
	}
	if msg, ok := s.f.errorOn[r.Op]; ok {
		delete(s.f.errorOn, r.Op)
		s.sendLocked(c, errorFrame{Op: "error", ErrorMessage: msg})
		return true, false
	}
	if process, ok := s.f.dropOn[r.Op]; ok {
		delete(s.f.dropOn, r.Op)
		c.dead = true // nothing more reaches this socket: it is closing
		if process {
			handler(c, r)
		}
		return true, true
	}
	silent := r.Op == "cancel_order" && s.f.cancelOneSilent && len(r.OrderNos) == 1
	process, swallow := s.f.swallowOn[r.Op]
	if swallow {
		delete(s.f.swallowOn, r.Op)
	}
	if swallow || silent {
		if process || silent {
			s.mute = true
			handler(c, r)
			s.mute = false
		}
		return true, false
	}
	if a := handler(c, r); a != nil {
		s.answerLocked(c, a)
	}
	return true, false
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func (s *Server) login(c *peerConn, r req) any {
	rep := reply{Op: "login", Cid: r.Cid}
	if r.Platform == "" || len(r.Symbols) == 0 || r.AccessKey == "" || r.SecretKey == "" {
		rep.ErrorMessage = "param miss: platform, symbols, access_key and secret_key are required"
		return rep
	}
	key := r.Platform + "\x00" + r.AccessKey
	a, ok := s.accounts[key]
	if !ok {
		a = &account{platform: r.Platform, access: r.AccessKey, orders: map[string]*order{},
			assets: map[string]decimal.Decimal{"USDT": s.cfg.Cash}, long: map[string]decimal.Decimal{}, short: map[string]decimal.Decimal{}}
		s.accounts[key] = a
	}
	if a.session != nil {
		rep.ErrorMessage = "repeat login: this account is already logged in"
		return rep
	}
	s.tokens++
	tok := fmt.Sprintf("%s_%d", r.Platform, s.tokens) // predictable, as the reference server's
	ss := &session{token: tok, acct: a, c: c, symbols: map[string]bool{}}
	for _, sym := range r.Symbols {
		ss.symbols[sym] = true
	}
	a.session = ss
	s.sessions[tok] = ss
	c.tokens[tok] = true
	rep.Result, rep.Token = true, tok
	s.sendStaleLocked(ss, StaleBeforeAnswer)
	if !s.platforms[r.Platform] {
		// The reference server: state 1 first, then a login answered yes.
		s.sendLocked(c, stateFrame(tok, StateParamMiss, "platform "+r.Platform+" is not supported"))
		return rep
	}
	s.answerLocked(c, rep)
	s.sendStaleLocked(ss, StaleBeforeConnect)
	s.sendLocked(c, stateFrame(tok, StateConnectSuccess, "connect success"))
	s.sendStaleLocked(ss, StaleBeforeReady)
	if s.f.noReady[r.Platform] {
		return nil
	}
	ready := func() {
		if s.sessions[tok] == ss {
			ss.ready = true
			s.sendLocked(c, stateFrame(tok, StateReady, "ready"))
			s.sendStaleLocked(ss, StaleAfterReady)
		}
	}
	if d := s.f.readyDelay; d > 0 {
		s.later(d, func() { s.mu.Lock(); defer s.mu.Unlock(); ready() })
	} else {
		ready()
	}
	return nil
}

func (s *Server) logout(c *peerConn, r req) any {
	rep := reply{Op: "logout", Cid: r.Cid}
	ss, ok := s.sessions[r.Token]
	if !ok {
		rep.ErrorMessage = "token not found"
		return rep
	}
	delete(s.sessions, r.Token)
	delete(ss.c.tokens, r.Token)
	s.endSessionLocked(ss)
	rep.Result = true
	return rep
}

func (s *Server) price(symbol string) decimal.Decimal {
	if p, ok := s.prices[symbol]; ok {
		return p
	}
	return decimal.NewFromInt(100)
}

func parseNum(b json.RawMessage) (decimal.Decimal, error) {
	t := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	return decimal.NewFromString(t)
}

func (s *Server) placeOrder(c *peerConn, r req) any {
	ss := s.sessions[r.Token]
	rep := reply{Op: "place_order", Cid: r.Cid}
	price, perr := parseNum(r.Price)
	qty, qerr := parseNum(r.Quantity)
	futures := isFutures(ss.acct.platform)
	if futures {
		qty = qty.Truncate(0) // the reference server's futures take whole contracts
	}
	switch {
	case !ss.ready:
		rep.ErrorMessage = "not ready"
	case !ss.symbols[r.Symbol]:
		rep.ErrorMessage = "symbol " + r.Symbol + " is not subscribed"
	case r.Action != "BUY" && r.Action != "SELL":
		rep.ErrorMessage = "action must be BUY or SELL"
	case r.OrderType != "LIMIT" && r.OrderType != "MARKET" && r.OrderType != "IOC":
		rep.ErrorMessage = "order_type must be LIMIT, MARKET or IOC"
	case perr != nil || qerr != nil:
		rep.ErrorMessage = "price and quantity must be numbers"
	case qty.IsZero() || (!futures && qty.IsNegative()):
		rep.ErrorMessage = "bad quantity"
	case r.OrderType == "MARKET" && !price.IsZero():
		rep.ErrorMessage = "a market order's price must be 0"
	case r.OrderType != "MARKET" && !price.IsPositive():
		rep.ErrorMessage = "bad price"
	}
	if rep.ErrorMessage == "" && futures && s.closes(r.Action, qty) {
		held := ss.acct.long[r.Symbol]
		if qty.IsNegative() {
			held = ss.acct.short[r.Symbol]
		}
		if qty.Abs().GreaterThan(held) {
			rep.ErrorMessage = fmt.Sprintf("{'err-code': 'position-insufficient', 'err-msg': 'holding %s'}", held)
		}
	}
	if rep.ErrorMessage != "" {
		return rep
	}
	s.orderNos++
	now := time.Now().UnixMilli()
	o := &order{No: fmt.Sprintf("%d", 2510832677225000+s.orderNos), Symbol: r.Symbol, Action: r.Action, Type: r.OrderType,
		Status: "SUBMITTED", Price: price, Quantity: qty, Remain: qty.Abs(), CTime: now, UTime: now}
	ss.acct.orders[o.No] = o
	rep.Result, rep.OrderNo = true, o.No
	s.answerLocked(c, rep)
	s.sendLocked(c, notice{Op: "notify", Topic: "order", Token: ss.token, Data: o.wire()})
	market := s.price(r.Symbol)
	switch {
	case r.OrderType == "MARKET":
		s.fillLocked(ss.acct, o, market, "TAKER")
	case o.crosses(market):
		s.fillLocked(ss.acct, o, market, "TAKER")
	case r.OrderType == "IOC":
		o.Status, o.UTime = "CANCELED", time.Now().UnixMilli()
		s.sendLocked(c, notice{Op: "notify", Topic: "order", Token: ss.token, Data: o.wire()})
	}
	return nil
}

// closes says whether action with a signed futures quantity closes a
// position: SELL of the long side, BUY of the short side.
func (s *Server) closes(action string, qty decimal.Decimal) bool {
	return (action == "SELL" && qty.IsPositive()) || (action == "BUY" && qty.IsNegative())
}

// fillLocked fills o's remainder at price, with its notices.
func (s *Server) fillLocked(a *account, o *order, price decimal.Decimal, liquidity string) {
	q := o.Remain
	o.Remain, o.Status, o.UTime = decimal.Zero, "FILLED", time.Now().UnixMilli()
	base, quote, _ := strings.Cut(o.Symbol, "/")
	if isFutures(a.platform) {
		switch {
		case o.Action == "BUY" && o.Quantity.IsPositive():
			a.long[o.Symbol] = a.long[o.Symbol].Add(q)
		case o.Action == "SELL" && o.Quantity.IsPositive():
			a.long[o.Symbol] = a.long[o.Symbol].Sub(q)
		case o.Action == "SELL":
			a.short[o.Symbol] = a.short[o.Symbol].Add(q)
		default:
			a.short[o.Symbol] = a.short[o.Symbol].Sub(q)
		}
	} else if o.Action == "BUY" {
		a.assets[base] = a.assets[base].Add(q)
		a.assets[quote] = a.assets[quote].Sub(q.Mul(price))
	} else {
		a.assets[base] = a.assets[base].Sub(q)
		a.assets[quote] = a.assets[quote].Add(q.Mul(price))
	}
	if a.session == nil {
		return
	}
	c, tok := a.session.c, a.session.token
	s.fillNos++
	o.lastFill = map[string]any{
		"symbol": o.Symbol, "order_no": o.No, "fill_no": fmt.Sprintf("%d", 9302836+s.fillNos), "price": Num(price),
		"quantity": Num(q), "side": o.Action, "liquidity": liquidity, "ctime": o.UTime}
	s.sendLocked(c, notice{Op: "notify", Topic: "fill", Token: tok, Data: o.lastFill})
	s.sendLocked(c, notice{Op: "notify", Topic: "order", Token: tok, Data: o.wire()})
	s.sendLocked(c, notice{Op: "notify", Topic: "asset", Token: tok, Data: s.assetData(a)})
	if isFutures(a.platform) {
		p := s.positionData(a, o.Symbol)
		p["symbol"] = o.Symbol
		s.sendLocked(c, notice{Op: "notify", Topic: "position", Token: tok, Data: p})
	}
}

func (s *Server) cancelOrder(c *peerConn, r req) any {
	ss := s.sessions[r.Token]
	rep := reply{Op: "cancel_order", Cid: r.Cid, Result: true}
	var lines []reply
	for _, no := range r.OrderNos {
		line := reply{OrderNo: no}
		o, ok := ss.acct.orders[no]
		switch {
		case !ok || o.Symbol != r.Symbol:
			line.ErrorMessage = "order not found"
		case !o.open():
			line.ErrorMessage = "order is " + o.Status
		default:
			o.Status, o.UTime = "CANCELED", time.Now().UnixMilli()
			line.Result = true
			s.sendLocked(c, notice{Op: "notify", Topic: "order", Token: ss.token, Data: o.wire()})
		}
		lines = append(lines, line)
	}
	data := make([]map[string]any, len(lines))
	for i, l := range lines {
		data[i] = map[string]any{"result": l.Result, "error_message": l.ErrorMessage, "order_no": l.OrderNo}
	}
	rep.Data = data
	return rep
}

func (s *Server) openOrders(c *peerConn, r req) any {
	ss := s.sessions[r.Token]
	data := []map[string]any{}
	for _, o := range ss.acct.orderList() {
		if o.Symbol == r.Symbol && o.open() {
			w := o.wire()
			delete(w, "symbol") // the seed's open_orders rows have no symbol
			data = append(data, w)
		}
	}
	return reply{Op: "open_orders", Cid: r.Cid, Result: true, Data: data}
}

func (s *Server) assetData(a *account) map[string]any {
	data := map[string]any{}
	for name, v := range a.assets {
		data[name] = map[string]any{"free": Num(v), "locked": Num(decimal.Zero), "total": Num(v)}
	}
	return data
}

func (s *Server) asset(c *peerConn, r req) any {
	return reply{Op: "asset", Cid: r.Cid, Result: true, Data: s.assetData(s.sessions[r.Token].acct)}
}

func (s *Server) positionData(a *account, symbol string) map[string]any {
	z := Num(decimal.Zero)
	long, short := a.long[symbol], a.short[symbol]
	p := map[string]any{"margin_mode": "crossed",
		"long_quantity": Num(long), "long_avail_qty": Num(long), "long_open_price": z, "long_hold_price": z,
		"long_liquid_price": z, "long_unrealised_pnl": z, "long_leverage": Num(decimal.NewFromInt(10)), "long_margin": z,
		"short_quantity": Num(short), "short_avail_qty": Num(short), "short_open_price": z, "short_hold_price": z,
		"short_liquid_price": z, "short_unrealised_pnl": z, "short_leverage": Num(decimal.NewFromInt(10)), "short_margin": z,
		"utime": time.Now().UnixMilli()}
	if !long.IsZero() {
		p["long_open_price"] = Num(s.price(symbol))
	}
	if !short.IsZero() {
		p["short_open_price"] = Num(s.price(symbol))
	}
	return p
}

func (s *Server) position(c *peerConn, r req) any {
	return reply{Op: "position", Cid: r.Cid, Result: true, Data: s.positionData(s.sessions[r.Token].acct, r.Symbol)}
}

func (s *Server) symbolInfo(c *peerConn, r req) any {
	ru, ok := s.rules[r.Symbol]
	if !ok {
		base, quote, _ := strings.Cut(r.Symbol, "/")
		ru = SymbolRules{PriceTick: decimal.RequireFromString("0.01"), SizeTick: decimal.RequireFromString("0.001"),
			SizeLimit: decimal.RequireFromString("0.001"), ValueTick: decimal.RequireFromString("0.01"),
			ValueLimit: decimal.NewFromInt(5), Base: base, Quote: quote, Settlement: quote}
	}
	return reply{Op: "symbol_info", Cid: r.Cid, Result: true, Data: map[string]any{
		"price_tick": Num(ru.PriceTick), "size_tick": Num(ru.SizeTick), "size_limit": Num(ru.SizeLimit),
		"value_tick": Num(ru.ValueTick), "value_limit": Num(ru.ValueLimit),
		"base_currency": ru.Base, "quote_currency": ru.Quote, "settlement_currency": ru.Settlement}}
}
