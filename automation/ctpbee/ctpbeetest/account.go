package ctpbeetest

import (
	"fmt"
	"strconv"
	"strings"
)

// The CTP account behind the backend, as ctpbee's recorder shows it.

// The enum values of ctpbee/constant.py.
var (
	directionValue = map[string]string{"long": "多", "short": "空"}
	offsetValue    = map[string]string{"open": "开", "close": "平", "closetoday": "平今", "closeyesterday": "平昨"}
	typeValue      = map[string]string{"limit": "限价", "market": "市价", "fak": "FAK", "fok": "FOK"}
	exchanges      = map[string]bool{"CFFEX": true, "SHFE": true, "CZCE": true, "DCE": true, "INE": true, "SSE": true, "SZSE": true, "SGE": true}
)

const (
	statusNotTraded = "未成交"
	statusPart      = "部分成交"
	statusAll       = "全部成交"
	statusCancelled = "已撤销"
	statusRejected  = "拒单"
)

// sessionOrderPrefix is ctpbee's order id prefix: front id and session id
// (CTP's session ids are often negative).
const sessionOrderPrefix = "1_-1139861502_"

type order struct {
	ref       int
	symbol    string
	exchange  string
	direction string // long | short
	offset    string // open | close | closetoday | closeyesterday
	kind      string // limit | market | fak | fok
	price     float64
	volume    int
	traded    int
	status    string // the Chinese value
	time      string
}

func (o *order) orderID() string     { return sessionOrderPrefix + strconv.Itoa(o.ref) }
func (o *order) localSymbol() string { return o.symbol + "." + o.exchange }
func (o *order) active() bool {
	return o.status == "提交中" || o.status == statusNotTraded || o.status == statusPart
}

func (o *order) crosses(price float64) bool {
	if o.direction == "long" {
		return o.price >= price
	}
	return o.price <= price
}

// dict is OrderData._to_dict(): dir() order, enum values.
func (o *order) dict() obj {
	return obj{
		{"direction", directionValue[o.direction]},
		{"exchange", o.exchange},
		{"gateway_name", "ctp"},
		{"iterable_count", 0},
		{"local_order_id", "ctp." + o.orderID()},
		{"local_symbol", o.localSymbol()},
		{"offset", offsetValue[o.offset]},
		{"order_id", o.orderID()},
		{"price", o.price},
		{"status", o.status},
		{"symbol", o.symbol},
		{"time", o.time},
		{"traded", o.traded},
		{"type", typeValue[o.kind]},
		{"volume", o.volume},
	}
}

type trade struct {
	id    int
	order *order
	price float64
	vol   int
	time  string
}

func (t *trade) dict() obj {
	o := t.order
	id := fmt.Sprintf("%12d", t.id) // CTP pads trade ids with spaces
	return obj{
		{"direction", directionValue[o.direction]},
		{"exchange", o.exchange},
		{"gateway_name", "ctp"},
		{"iterable_count", 0},
		{"local_order_id", "ctp." + o.orderID()},
		{"local_symbol", o.localSymbol()},
		{"local_trade_id", "ctp." + id},
		{"offset", offsetValue[o.offset]},
		{"order_id", o.orderID()},
		{"price", t.price},
		{"symbol", o.symbol},
		{"time", t.time},
		{"tradeid", id},
		{"volume", t.vol},
	}
}

// holding is ctpbee's PositionHolding of one contract.
type holding struct {
	symbol, exchange                 string
	longTd, longYd, shortTd, shortYd int
	longPrice, shortPrice            float64
}

func (s *Server) holding(localSymbol string) *holding {
	h, ok := s.holdings[localSymbol]
	if !ok {
		code, exchange, _ := strings.Cut(localSymbol, ".")
		h = &holding{symbol: code, exchange: exchange}
		s.holdings[localSymbol] = h
	}
	return h
}

// closeTodayDistinct: SHFE and INE tell 平今 from 平昨; there a 平 closes
// yesterday's lots only.
func closeTodayDistinct(exchange string) bool { return exchange == "SHFE" || exchange == "INE" }

// book is GET /order_solve's data.
func (s *Server) book() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	positions := []any{}
	for _, ls := range sortedKeys(s.holdings) {
		h := s.holdings[ls]
		for _, side := range []struct {
			dir       string
			td, yd    int
			price     float64
			lastPrice float64
		}{
			{"long", h.longTd, h.longYd, h.longPrice, s.prices[ls]},
			{"short", h.shortTd, h.shortYd, h.shortPrice, s.prices[ls]},
		} {
			pos := side.td + side.yd
			if pos == 0 {
				continue
			}
			profit := 0.0
			if side.lastPrice != 0 {
				profit = float64(pos) * (side.lastPrice - side.price)
				if side.dir == "short" {
					profit = -profit
				}
			}
			date := 1
			if pos == side.yd {
				date = 2
			}
			positions = append(positions, obj{
				{"exchange", h.exchange},
				{"direction", side.dir},
				{"position_profit", profit},
				{"symbol", h.symbol},
				{"local_symbol", ls},
				{"price", side.price},
				{"volume", pos},
				{"yd_volume", side.yd},
				{"stare_position_profit", profit},
				{"position_date", date},
			})
		}
	}
	active, all, trades := []any{}, []any{}, []any{}
	for _, o := range s.orders {
		if o.active() {
			active = append(active, o.dict())
		}
		all = append(all, o.dict())
	}
	for _, t := range s.trades {
		trades = append(trades, t.dict())
	}
	return trueResponse("", obj{
		{"position_list", positions},
		{"active_order_list", active},
		{"trade_list", trades},
		{"order_list", all},
		{"log_history", append([]any{}, s.logs...)},
	})
}

// placeOrder is OpenOrderView.post.
func (s *Server) placeOrder(v map[string]string) reply {
	for _, k := range []string{"local_symbol", "direction", "offset", "type", "price", "volume", "exchange"} {
		if _, ok := v[k]; !ok {
			return falseResponse("参数含空")
		}
	}
	// int(volume) and float(price) run outside the view's try: a bad
	// number is Flask's 500 page.
	volume, err := strconv.Atoi(strings.TrimSpace(v["volume"]))
	if err != nil {
		return crash()
	}
	price, err := strconv.ParseFloat(strings.TrimSpace(v["price"]), 64)
	if err != nil {
		return crash()
	}
	direction, offset, kind := strings.ToLower(v["direction"]), strings.ToLower(v["offset"]), strings.ToLower(v["type"])
	code, _, _ := strings.Cut(v["local_symbol"], ".")
	if directionValue[direction] == "" || offsetValue[offset] == "" || typeValue[kind] == "" || !exchanges[v["exchange"]] || code == "" {
		return falseResponse("下单失败")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	if f != nil && f.kind == dropUnsent {
		return reply{drop: true}
	}
	s.received++
	for route, d := range s.delayLater {
		s.delays[route] = d
	}
	s.delayLater = nil
	o := s.send(code, v["exchange"], direction, offset, kind, price, volume, f)
	for ; s.duplicate > 0; s.duplicate-- {
		s.send(code, v["exchange"], direction, offset, kind, price, volume, nil)
	}
	switch {
	case f != nil && f.kind == dropAnswer:
		return reply{drop: true}
	case o.status == statusRejected && (f == nil || f.kind != rejectLate):
		return falseResponse(o.rejection)
	}
	return trueResponse("成功下单", "")
}

// send is CTP taking an order: it is recorded, checked against the
// position for a close, and filled at once if it crosses the last price.
func (s *Server) send(code, exchange, direction, offset, kind string, price float64, volume int, f *fault) *rejectable {
	s.nextRef++
	o := &order{ref: s.nextRef, symbol: code, exchange: exchange, direction: direction, offset: offset,
		kind: kind, price: price, volume: volume, status: statusNotTraded, time: s.clock()}
	s.orders = append(s.orders, o)
	r := &rejectable{order: o}
	reject := func(msg string) *rejectable {
		o.status, r.rejection = statusRejected, msg
		s.logs = append(s.logs, obj{{"time", o.time}, {"level", "ERROR"}, {"owner", "ctpbee"}, {"message", msg}})
		return r
	}
	switch {
	case f != nil && f.kind == rejectEarly:
		return reject(f.msg)
	case f != nil && f.kind == rejectLate:
		return reject("CTP:报单被拒绝")
	case volume <= 0:
		return reject("CTP:报单字段有误")
	case offset != "open" && !s.closable(o):
		return reject("CTP:平仓量超过持仓数")
	}
	last, priced := s.prices[o.localSymbol()]
	switch {
	case kind == "market" && !priced:
		return reject("CTP:市价单无行情")
	case kind == "market":
		s.fill(o, last)
	case priced && o.crosses(last):
		s.fill(o, last)
	case kind == "fak" || kind == "fok":
		o.status = statusCancelled
	}
	return r
}

// rejectable is an order and the reason CTP gave for refusing it.
type rejectable struct {
	*order
	rejection string
}

// closable reports whether the position has the lots a close needs,
// beyond those held by other active closes.
func (s *Server) closable(o *order) bool {
	h := s.holding(o.localSymbol())
	// A buy closes the short side, a sell the long one.
	td, yd := h.longTd, h.longYd
	if o.direction == "long" {
		td, yd = h.shortTd, h.shortYd
	}
	for _, other := range s.orders {
		if other == o || !other.active() || other.offset == "open" || other.localSymbol() != o.localSymbol() || other.direction != o.direction {
			continue
		}
		left := other.volume - other.traded
		switch {
		case !closeTodayDistinct(o.exchange):
			td -= left
		case other.offset == "closetoday":
			td -= left
		default:
			yd -= left
		}
	}
	switch {
	case !closeTodayDistinct(o.exchange):
		return o.volume <= td+yd
	case o.offset == "closetoday":
		return o.volume <= td
	default: // 平 and 平昨 close yesterday's lots only
		return o.volume <= yd
	}
}

// fill trades the rest of o at price and moves the position as ctpbee's
// PositionHolding.update_trade does.
func (s *Server) fill(o *order, price float64) {
	vol := o.volume - o.traded
	o.traded, o.status = o.volume, statusAll
	s.nextFill++
	s.trades = append(s.trades, &trade{id: s.nextFill, order: o, price: price, vol: vol, time: s.clock()})
	h := s.holding(o.localSymbol())
	long := o.direction == "long"
	if o.offset == "open" {
		if long {
			h.longPrice = avg(h.longPrice, h.longTd+h.longYd, price, vol)
			h.longTd += vol
		} else {
			h.shortPrice = avg(h.shortPrice, h.shortTd+h.shortYd, price, vol)
			h.shortTd += vol
		}
		return
	}
	td, yd := &h.longTd, &h.longYd // a sell closes the long side
	if long {
		td, yd = &h.shortTd, &h.shortYd
	}
	switch {
	case o.offset == "closetoday":
		*td -= vol
	case o.offset == "closeyesterday" || closeTodayDistinct(o.exchange):
		*yd -= vol
	default: // elsewhere a close takes today's lots first
		*td -= vol
		if *td < 0 {
			*yd += *td
			*td = 0
		}
	}
}

func avg(price float64, held int, fillPrice float64, vol int) float64 {
	if held+vol == 0 {
		return 0
	}
	return (price*float64(held) + fillPrice*float64(vol)) / float64(held+vol)
}

// cancelOrder is OpenOrderView.delete: 成功撤单 whatever the id.
func (s *Server) cancelOrder(v map[string]string) reply {
	for _, k := range []string{"local_symbol", "order_id", "exchange"} {
		if _, ok := v[k]; !ok {
			return falseResponse("参数含空")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.orderID() == v["order_id"] && o.localSymbol() == v["local_symbol"] && o.active() {
			o.status = statusCancelled
		}
	}
	return trueResponse("成功撤单", "")
}

// closePosition is PositionView.post: closes at the last price of the
// contract named by symbol and exchange (not local_symbol); direction
// long covers the short side, short sells the long one, anything else
// does nothing; a volume beyond the position closes all of it. On SHFE
// and INE it sends today's and yesterday's lots as separate orders, in the
// configured order.
func (s *Server) closePosition(v map[string]string) reply {
	for _, k := range []string{"local_symbol", "volume", "direction", "exchange", "symbol"} {
		if _, ok := v[k]; !ok {
			return falseResponse("参数含空")
		}
	}
	volume, err := strconv.Atoi(strings.TrimSpace(v["volume"]))
	if err != nil || !exchanges[v["exchange"]] {
		return crash()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	price, ok := s.prices[v["local_symbol"]]
	if !ok {
		return crash() // recorder.get_tick(local_symbol) is None
	}
	s.closes++
	ls := v["symbol"] + "." + v["exchange"]
	h, held := s.holdings[ls]
	if !held || (v["direction"] != "long" && v["direction"] != "short") {
		return trueResponse("平仓请求发送成功", "")
	}
	td, yd := h.longTd, h.longYd
	if v["direction"] == "long" {
		td, yd = h.shortTd, h.shortYd
	}
	volume = min(volume, td+yd)
	type part struct {
		offset string
		volume int
	}
	var parts []part
	switch {
	case volume <= 0:
	case !closeTodayDistinct(v["exchange"]):
		parts = []part{{"close", volume}}
	case s.cfg.ClosePattern == "yesterday":
		parts = []part{{"closeyesterday", min(volume, yd)}, {"closetoday", volume - min(volume, yd)}}
	default:
		parts = []part{{"closetoday", min(volume, td)}, {"closeyesterday", volume - min(volume, td)}}
	}
	for _, p := range parts {
		if p.volume > 0 {
			s.send(v["symbol"], v["exchange"], v["direction"], p.offset, "limit", price, p.volume, nil)
		}
	}
	return trueResponse("平仓请求发送成功", "")
}

func (s *Server) clock() string { return s.cfg.Now().In(chinaTime).Format("15:04:05") }
