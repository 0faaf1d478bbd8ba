package binancetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The WebSocket API methods the peer carries out.

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
