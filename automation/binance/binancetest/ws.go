package binancetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/shopspring/decimal"
)

// peerConn is one WebSocket API connection.
type peerConn struct {
	ws       *websocket.Conn
	seq      int
	opened   time.Time
	loggedOn bool // session.logon succeeded (Ed25519)
	rateOff  bool // ?returnRateLimits=false
	writeMu  sync.Mutex
}

// request is one request frame.
type request struct {
	ID     json.RawMessage            `json:"id"`
	Method string                     `json:"method"`
	Params map[string]json.RawMessage `json:"params"`
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	banned := s.nowLocked().Before(s.bannedUntil)
	s.mu.Unlock()
	if banned {
		http.Error(w, `{"code":-1003,"msg":"Way too much request weight used; IP banned."}`, http.StatusTeapot)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPongReceived: func(context.Context, []byte) {
			s.mu.Lock()
			s.pongs++
			s.mu.Unlock()
		},
	})
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &peerConn{ws: ws, opened: time.Now(), rateOff: r.URL.Query().Get("returnRateLimits") == "false"}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.CloseNow()
		return
	}
	s.accepted++
	c.seq = s.accepted
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		ws.CloseNow()
		s.connWG.Done()
	}()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if s.cfg.PingEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.pinger(ctx, c)
		}()
	}
	if s.cfg.MaxConnectionAge > 0 {
		age := time.AfterFunc(s.cfg.MaxConnectionAge, func() {
			s.mu.Lock()
			s.ageCloses++
			s.mu.Unlock()
			ws.Close(websocket.StatusGoingAway, "connection reached its maximum age")
			ws.CloseNow()
		})
		defer age.Stop()
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil || req.Method == "" {
			s.answer(ctx, c, json.RawMessage("null"), nil, &apiError{status: 400, code: -1102, msg: "Invalid request."})
			continue
		}
		if len(req.ID) == 0 {
			req.ID = json.RawMessage("null")
		}
		if !s.serve(ctx, c, req, &wg) {
			return
		}
	}
}

// pinger pings every PingEvery and drops the connection when no pong with
// the ping's payload comes back within PongTimeout.
func (s *Server) pinger(ctx context.Context, c *peerConn) {
	tick := time.NewTicker(s.cfg.PingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.cfg.PongTimeout)
		err := c.ws.Ping(pctx) // returns once the pong echoing the payload arrives
		cancel()
		if err != nil && ctx.Err() == nil {
			s.mu.Lock()
			s.noPongDrops++
			s.mu.Unlock()
			c.ws.Close(websocket.StatusPolicyViolation, "pong timeout")
			c.ws.CloseNow()
			return
		}
	}
}

// serve handles one request; false drops the connection.
func (s *Server) serve(ctx context.Context, c *peerConn, req request, wg *sync.WaitGroup) bool {
	s.mu.Lock()
	s.received = append(s.received, Received{Conn: c.seq, Method: req.Method, Params: req.Params})
	if req.Method == "order.place" || req.Method == "v1/order.place" {
		var cid string
		json.Unmarshal(req.Params["newClientOrderId"], &cid)
		s.placeCount[cid]++
	}
	if sig, ok := req.Params["signature"]; ok {
		var v string
		json.Unmarshal(sig, &v)
		s.signatures = append(s.signatures, v)
	}
	if s.revoked {
		s.mu.Unlock()
		s.answer(ctx, c, json.RawMessage("null"), nil, &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."})
		c.ws.Close(websocket.StatusPolicyViolation, "session revoked")
		return false
	}
	if limited := s.limitLocked(req.Method); limited != nil {
		s.mu.Unlock()
		s.answer(ctx, c, req.ID, nil, limited)
		return true
	}
	fault := s.takeFaultLocked(strings.TrimPrefix(strings.TrimPrefix(req.Method, "v1/"), "v2/"))
	s.mu.Unlock()

	if fault != nil {
		switch fault.Kind {
		case FaultError:
			s.answer(ctx, c, req.ID, nil, &apiError{status: 400, code: fault.Code, msg: fault.Msg})
			return true
		case FaultDropBefore:
			return false
		}
	}
	result, apiErr := s.handle(c, req)
	if fault == nil {
		s.answer(ctx, c, req.ID, result, apiErr)
		return true
	}
	switch fault.Kind {
	case FaultUnknown:
		s.answer(ctx, c, req.ID, nil, &apiError{status: 408, code: -1007, msg: "Timeout waiting for response from backend server. Send status unknown; execution status unknown."})
	case FaultDropAfter:
		return false
	case FaultSilent:
	case FaultDelay:
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(fault.Delay):
				s.answer(ctx, c, req.ID, result, apiErr)
			case <-ctx.Done():
			}
		}()
	}
	return true
}

// limitLocked counts a request against the rate limits: over a limit it
// earns a 429 and sets a hold; any request during the hold, or a ban,
// earns a 418. s.mu held.
func (s *Server) limitLocked(method string) *apiError {
	now := s.nowLocked()
	data := func(until time.Time) map[string]int64 {
		return map[string]int64{"serverTime": now.UnixMilli(), "retryAfter": until.UnixMilli()}
	}
	if now.Before(s.bannedUntil) || now.Before(s.holdUntil) {
		if s.bannedUntil.Before(now) {
			s.bannedUntil = now.Add(s.cfg.BanFor)
		}
		s.count418++
		return &apiError{status: 418, code: -1003, msg: fmt.Sprintf("Way too much request weight used; IP banned until %d. Please use WebSocket Streams for live updates to avoid bans.", s.bannedUntil.UnixMilli()), data: data(s.bannedUntil)}
	}
	c := costOf(strings.TrimPrefix(method, "v1/"))
	for i, l := range s.cfg.RateLimits {
		w := s.window(i, now)
		if n := spent(l.Type, c); n > 0 && w.count+n > l.Limit {
			s.holdUntil = w.start.Add(l.length())
			s.count429++
			return &apiError{status: 429, code: -1003, msg: fmt.Sprintf("Too many requests; current limit is %d %s per %d %s. Please use WebSocket Streams for live updates to avoid bans.", l.Limit, strings.ToLower(l.Type), l.IntervalNum, l.Interval), data: data(s.holdUntil)}
		}
	}
	for i, l := range s.cfg.RateLimits {
		s.window(i, now).count += spent(l.Type, c)
	}
	return nil
}

func (s *Server) window(i int, now time.Time) *window {
	length := s.cfg.RateLimits[i].length()
	start := time.UnixMilli(now.UnixMilli() / length.Milliseconds() * length.Milliseconds())
	w := s.windows[i]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		s.windows[i] = w
	}
	return w
}

// cost is Binance's published weight of a method and whether it counts
// as an order.
type cost struct{ weight, orders int }

func costOf(method string) cost {
	switch method {
	case "order.place":
		return cost{0, 1}
	case "openOrders.all":
		return cost{40, 0}
	case "session.logon", "session.status", "session.logout":
		return cost{2, 0}
	case "account.balance", "v2/account.balance", "account.position", "v2/account.position", "account.status", "v2/account.status":
		return cost{5, 0}
	}
	return cost{1, 0}
}

func spent(typ string, c cost) int {
	switch typ {
	case "REQUEST_WEIGHT":
		return c.weight
	case "ORDERS":
		return c.orders
	}
	return 0
}

// rateLimitsLocked is the rateLimits array of an answer.
func (s *Server) rateLimitsLocked() []map[string]any {
	now := s.nowLocked()
	var out []map[string]any
	for i, l := range s.cfg.RateLimits {
		out = append(out, map[string]any{
			"rateLimitType": l.Type, "interval": l.Interval, "intervalNum": l.IntervalNum,
			"limit": l.Limit, "count": s.window(i, now).count,
		})
	}
	return out
}

// answer writes one response frame.
func (s *Server) answer(ctx context.Context, c *peerConn, id json.RawMessage, result any, e *apiError) {
	frame := map[string]any{"id": id}
	if e != nil {
		errBody := map[string]any{"code": e.code, "msg": e.msg}
		if e.data != nil {
			errBody["data"] = e.data
		}
		frame["status"], frame["error"] = e.status, errBody
	} else {
		frame["status"], frame["result"] = 200, result
	}
	if !c.rateOff && !(e != nil && e.code == -2015 && string(id) == "null") {
		s.mu.Lock()
		frame["rateLimits"] = s.rateLimitsLocked()
		s.mu.Unlock()
	}
	b, _ := json.Marshal(frame)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.ws.Write(wctx, websocket.MessageText, b)
}

// methods that need a signature (or a logged-on session) and a timestamp.
var signedMethods = map[string]bool{
	"order.place": true, "order.cancel": true, "order.status": true, "order.modify": true,
	"account.balance": true, "account.position": true, "account.status": true,
}

// handle carries out one request.
func (s *Server) handle(c *peerConn, req request) (any, *apiError) {
	method := strings.TrimPrefix(req.Method, "v1/")
	version2 := strings.HasPrefix(method, "v2/")
	method = strings.TrimPrefix(method, "v2/")
	p := req.Params
	switch method {
	case "session.logon":
		return s.logon(c, p)
	case "session.status":
		return s.sessionStatus(c), nil
	case "session.logout":
		s.mu.Lock()
		c.loggedOn = false
		s.mu.Unlock()
		return s.sessionStatus(c), nil
	case "userDataStream.start", "userDataStream.ping", "userDataStream.stop":
		if err := s.checkKeyOnly(c, p); err != nil {
			return nil, err
		}
		return s.userDataStream(method), nil
	}
	if !signedMethods[method] {
		return nil, &apiError{status: 400, code: -1100, msg: fmt.Sprintf("Unknown method %q.", req.Method)}
	}
	if err := s.authenticate(c, p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	switch method {
	case "order.place":
		o, err := parseOrder(p)
		if err != nil {
			return nil, err
		}
		if err, changed := s.eng.place(o, now); err != nil {
			return nil, err
		} else {
			s.publishLocked(changed, "NEW")
		}
		return s.orderJSON(o), nil
	case "order.status", "order.cancel":
		symbol, id, cid, err := orderRef(p)
		if err != nil {
			return nil, err
		}
		if method == "order.cancel" {
			o, err := s.eng.cancel(symbol, id, cid, now)
			if err != nil {
				return nil, err
			}
			s.publishLocked([]*Order{o}, "CANCELED")
			return s.orderJSON(o), nil
		}
		o := s.eng.findOrder(symbol, id, cid)
		if o == nil {
			return nil, refuse(-2013, "Order does not exist.")
		}
		return s.orderJSON(o), nil
	case "account.balance":
		return s.balancesLocked(now), nil
	case "account.position":
		var symbol string
		if raw, ok := p["symbol"]; ok {
			if err := json.Unmarshal(raw, &symbol); err != nil {
				return nil, malformed("symbol")
			}
		}
		return s.positionsLocked(symbol, version2), nil
	case "account.status":
		return map[string]any{"totalWalletBalance": s.eng.wallet.String()}, nil
	}
	return nil, &apiError{status: 400, code: -1100, msg: "Method not supported by the peer."}
}

func malformed(name string) *apiError {
	return refuse(-1102, "Mandatory parameter '%s' was not sent, was empty/null, or malformed.", name)
}

// raw is a parameter's value as Binance signs it: strings unquoted,
// numbers and booleans as written.
func raw(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	if len(v) == 0 || v[0] == '{' || v[0] == '[' || string(v) == "null" {
		return "", false
	}
	return string(v), true
}

// signaturePayload is every parameter but signature, sorted, raw values.
func signaturePayload(p map[string]json.RawMessage) (string, *apiError) {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := raw(p[k])
		if !ok {
			return "", malformed(k)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, "&"), nil
}

// verify checks a signature made with the account's key.
func (s *Server) verify(p map[string]json.RawMessage) *apiError {
	var apiKey, sig string
	if json.Unmarshal(p["apiKey"], &apiKey) != nil || apiKey == "" {
		return malformed("apiKey")
	}
	if json.Unmarshal(p["signature"], &sig) != nil || sig == "" {
		return malformed("signature")
	}
	if apiKey != s.cfg.APIKey {
		return &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."}
	}
	msg, err := signaturePayload(p)
	if err != nil {
		return err
	}
	bad := &apiError{status: 400, code: -1022, msg: "Signature for this request is not valid."}
	if s.cfg.Ed25519Key != nil {
		raw, derr := base64.StdEncoding.DecodeString(sig)
		if derr != nil || !ed25519.Verify(s.cfg.Ed25519Key, []byte(msg), raw) {
			return bad
		}
		return nil
	}
	m := hmac.New(sha256.New, []byte(s.cfg.Secret))
	m.Write([]byte(msg))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return bad
	}
	return nil
}

// checkTimestamp applies Binance's rule: timestamp < serverTime + 1000 and
// serverTime − timestamp ≤ recvWindow.
func (s *Server) checkTimestamp(p map[string]json.RawMessage) *apiError {
	ts, err := intParam(p, "timestamp", true)
	if err != nil {
		return err
	}
	rw, err := intParam(p, "recvWindow", false)
	if err != nil {
		return err
	}
	if rw == 0 {
		rw = 5000
	}
	if rw > 60000 {
		return refuse(-1131, "recvWindow must be less than 60000")
	}
	server := s.now().UnixMilli()
	if ts >= server+1000 {
		return refuse(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
	}
	if server-ts > rw {
		return refuse(-1021, "Timestamp for this request is outside of the recvWindow.")
	}
	return nil
}

// intParam reads an INT parameter, which must be a JSON integer.
func intParam(p map[string]json.RawMessage, name string, required bool) (int64, *apiError) {
	v, ok := p[name]
	if !ok {
		if required {
			return 0, malformed(name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		return 0, malformed(name)
	}
	return n, nil
}

// authenticate: a signature with the account's key, or a connection
// logged on with it; then the timestamp.
func (s *Server) authenticate(c *peerConn, p map[string]json.RawMessage) *apiError {
	if _, ok := p["signature"]; ok {
		if err := s.verify(p); err != nil {
			return err
		}
	} else {
		s.mu.Lock()
		logged := c.loggedOn
		s.mu.Unlock()
		if !logged {
			if _, ok := p["apiKey"]; !ok {
				return malformed("apiKey")
			}
			return malformed("signature")
		}
	}
	return s.checkTimestamp(p)
}

// checkKeyOnly authorises a USER_STREAM request: the apiKey, or a logged
// on connection.
func (s *Server) checkKeyOnly(c *peerConn, p map[string]json.RawMessage) *apiError {
	s.mu.Lock()
	logged := c.loggedOn
	s.mu.Unlock()
	if logged {
		return nil
	}
	var apiKey string
	if json.Unmarshal(p["apiKey"], &apiKey) != nil || apiKey == "" {
		return malformed("apiKey")
	}
	if apiKey != s.cfg.APIKey {
		return &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."}
	}
	return nil
}

func (s *Server) logon(c *peerConn, p map[string]json.RawMessage) (any, *apiError) {
	if err := s.verify(p); err != nil {
		return nil, err
	}
	if s.cfg.Ed25519Key == nil {
		return nil, refuse(-4056, "HMAC_SHA256 API key is not supported.")
	}
	if err := s.checkTimestamp(p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c.loggedOn = true
	s.mu.Unlock()
	return s.sessionStatus(c), nil
}

func (s *Server) sessionStatus(c *peerConn) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := map[string]any{"apiKey": nil, "authorizedSince": nil, "connectedSince": c.opened.UnixMilli(), "returnRateLimits": !c.rateOff, "serverTime": s.nowLocked().UnixMilli()}
	if c.loggedOn {
		st["apiKey"], st["authorizedSince"] = s.cfg.APIKey, s.nowLocked().UnixMilli()
	}
	return st
}

func (s *Server) userDataStream(method string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "userDataStream.stop" {
		return map[string]any{}
	}
	for k, live := range s.listenKeys {
		if live {
			return map[string]any{"listenKey": k}
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	k := hex.EncodeToString(b)
	s.listenKeys[k] = true
	return map[string]any{"listenKey": k}
}

// parseOrder reads order.place's parameters with their JSON types: DECIMAL
// as strings, INT as integers.
func parseOrder(p map[string]json.RawMessage) (*Order, *apiError) {
	str := func(name string, required bool) (string, *apiError) {
		v, ok := p[name]
		if !ok {
			if required {
				return "", malformed(name)
			}
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil || (required && s == "") {
			return "", malformed(name)
		}
		return s, nil
	}
	decimalParam := func(name string, required bool) (decimal.Decimal, *apiError) {
		s, err := str(name, required)
		if err != nil || s == "" {
			return decimal.Zero, err
		}
		d, derr := decimal.NewFromString(s)
		if derr != nil {
			return decimal.Zero, malformed(name)
		}
		return d, nil
	}
	o := &Order{}
	var err *apiError
	if o.Symbol, err = str("symbol", true); err != nil {
		return nil, err
	}
	if o.Side, err = str("side", true); err != nil {
		return nil, err
	}
	if o.Side != "BUY" && o.Side != "SELL" {
		return nil, refuse(-1117, "Invalid side.")
	}
	if o.Type, err = str("type", true); err != nil {
		return nil, err
	}
	if o.Quantity, err = decimalParam("quantity", true); err != nil {
		return nil, err
	}
	if o.ClientOrderID, err = str("newClientOrderId", false); err != nil {
		return nil, err
	}
	if o.PositionSide, err = str("positionSide", false); err != nil {
		return nil, err
	}
	ro, err := str("reduceOnly", false)
	if err != nil {
		return nil, err
	}
	o.ReduceOnly = ro == "true"
	switch o.Type {
	case "LIMIT":
		if o.Price, err = decimalParam("price", true); err != nil {
			return nil, err
		}
		if o.TimeInForce, err = str("timeInForce", true); err != nil {
			return nil, err
		}
	case "MARKET":
		if _, ok := p["price"]; ok {
			return nil, refuse(-1106, "Parameter 'price' sent when not required.")
		}
	default:
		return nil, refuse(-1116, "Invalid orderType.")
	}
	return o, nil
}

func orderRef(p map[string]json.RawMessage) (string, int64, string, *apiError) {
	var symbol, cid string
	if json.Unmarshal(p["symbol"], &symbol) != nil || symbol == "" {
		return "", 0, "", malformed("symbol")
	}
	id, err := intParam(p, "orderId", false)
	if err != nil {
		return "", 0, "", err
	}
	if v, ok := p["origClientOrderId"]; ok && json.Unmarshal(v, &cid) != nil {
		return "", 0, "", malformed("origClientOrderId")
	}
	if id == 0 && cid == "" {
		return "", 0, "", refuse(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
	}
	return symbol, id, cid, nil
}

// orderJSON is an order as Binance answers it, decimals fixed to the
// symbol's precision ("42088.00", "0.100"). s.mu held.
func (s *Server) orderJSON(o *Order) map[string]any {
	sym := s.eng.symbols[o.Symbol]
	pp, qp := -sym.Tick.Exponent(), -sym.Step.Exponent()
	tif := o.TimeInForce
	if tif == "" {
		tif = "GTC"
	}
	return map[string]any{
		"orderId": o.ID, "symbol": o.Symbol, "status": o.Status, "clientOrderId": o.ClientOrderID,
		"price": o.Price.StringFixed(pp), "avgPrice": o.AvgPrice.StringFixed(pp),
		"origQty": o.Quantity.StringFixed(qp), "executedQty": o.Executed.StringFixed(qp), "cumQty": o.Executed.StringFixed(qp),
		"cumQuote": o.Executed.Mul(o.AvgPrice).StringFixed(pp + qp), "timeInForce": tif, "type": o.Type,
		"reduceOnly": o.ReduceOnly, "closePosition": false, "side": o.Side, "positionSide": o.PositionSide,
		"stopPrice": "0.00", "workingType": "CONTRACT_PRICE", "priceProtect": false, "origType": o.Type,
		"priceMatch": "NONE", "selfTradePreventionMode": "NONE", "goodTillDate": 0, "updateTime": o.Updated.UnixMilli(),
	}
}

func (s *Server) balancesLocked(now time.Time) []map[string]any {
	upnl := s.eng.unrealized()
	avail := s.eng.equity().Sub(s.eng.marginNeeded())
	return []map[string]any{{
		"accountAlias": "SgsR", "asset": "USDT", "balance": s.eng.wallet.StringFixed(8),
		"crossWalletBalance": s.eng.wallet.StringFixed(8), "crossUnPnl": upnl.StringFixed(8),
		"availableBalance": avail.StringFixed(8), "maxWithdrawAmount": avail.StringFixed(8),
		"marginAvailable": true, "updateTime": now.UnixMilli(),
	}}
}

func (s *Server) positionsLocked(symbol string, version2 bool) []map[string]any {
	var out []map[string]any
	keys := make([]positionKey, 0, len(s.eng.positions))
	for k := range s.eng.positions {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b positionKey) int { return strings.Compare(a.symbol+a.side, b.symbol+b.side) })
	for _, k := range keys {
		p := s.eng.positions[k]
		if symbol != "" && p.Symbol != symbol {
			continue
		}
		sym := s.eng.symbols[p.Symbol]
		row := map[string]any{
			"symbol": p.Symbol, "positionSide": p.PositionSide, "positionAmt": p.Amount.StringFixed(-sym.Step.Exponent()),
			"entryPrice": p.EntryPrice.StringFixed(8), "breakEvenPrice": p.EntryPrice.StringFixed(8),
			"markPrice": sym.Price.StringFixed(8), "unRealizedProfit": sym.Price.Sub(p.EntryPrice).Mul(p.Amount).StringFixed(8),
			"liquidationPrice": "0", "isolatedMargin": "0.00000000", "notional": sym.Price.Mul(p.Amount).StringFixed(8),
			"marginAsset": sym.Quote, "isolatedWallet": "0", "adl": 0, "updateTime": s.nowLocked().UnixMilli(),
		}
		if !version2 {
			row["leverage"] = strconv.Itoa(s.eng.leverage)
			row["marginType"] = "cross"
			row["isAutoAddMargin"] = "false"
			row["maxNotionalValue"] = "250000"
		}
		out = append(out, row)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}
