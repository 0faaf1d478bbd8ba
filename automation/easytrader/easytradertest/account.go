package easytradertest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

type balance struct{ cash, available, value float64 }

func (s *Server) find(n int) *entrust {
	for _, e := range s.entrusts {
		if e.no == n {
			return e
		}
	}
	return nil
}

func (s *Server) quote(code string) float64 {
	if p, ok := s.opts.Quotes[code]; ok {
		return p
	}
	return 10
}

func number(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Float64()
	case string:
		var f float64
		_, err := fmt.Sscan(n, &f)
		return f, err
	}
	return 0, fmt.Errorf("not a number")
}

// available is the cash not held by open buy orders.
func (s *Server) available() float64 {
	held := 0.0
	for _, e := range s.entrusts {
		if !e.sell && (e.status == "未成交" || e.status == "部分成交") {
			held += e.price * float64(e.quantity-e.filled)
		}
	}
	spent := 0.0
	for _, e := range s.entrusts {
		if !e.sell {
			spent += e.price * float64(e.filled)
		}
	}
	return round2(s.cash - spent - held)
}

func (s *Server) balance() balance {
	b := balance{available: s.available()}
	spent := 0.0
	for _, e := range s.entrusts {
		if !e.sell {
			spent += e.price * float64(e.filled)
		}
	}
	b.cash = round2(s.cash - spent)
	for code, h := range s.holdings {
		b.value += float64(h.quantity) * s.quote(code)
	}
	b.value = round2(b.value)
	return b
}

func (s *Server) view(code string) holdingView {
	h := s.holdings[code]
	last := s.quote(code)
	v := holdingView{
		code: code, name: "股票" + code, market: market(code), quantity: h.quantity, available: h.available,
		cost: round2(h.cost), last: last, value: round2(last * float64(h.quantity)),
	}
	v.pnl = round2((last - h.cost) * float64(h.quantity))
	if h.cost > 0 {
		v.ratio = round2((last/h.cost - 1) * 100)
	}
	return v
}

func market(code string) string {
	if strings.HasPrefix(code, "6") || strings.HasPrefix(code, "5") {
		return "上海A股"
	}
	return "深圳A股"
}

func sortedCodes(m map[string]*holding) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// PlaceManual places an order in the client as a trader at the screen
// would, not through the agent: it is not counted by Placed.
func (s *Server) PlaceManual(code string, sell bool, price float64, quantity int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &entrust{
		no: s.nextNo, code: code, name: "股票" + code, market: market(code), status: "未成交", sell: sell,
		price: price, quantity: quantity, at: s.opts.Now().In(chinaTime),
	}
	s.nextNo++
	s.entrusts = append(s.entrusts, e)
	return e.no
}
