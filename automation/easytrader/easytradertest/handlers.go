package easytradertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// answer is one reply: a status and a JSON value, or raw bytes.
type answer struct {
	status int
	value  any
	raw    []byte
	ctype  string
}

func ok(status int, v any) answer { return answer{status: status, value: v} }

// pyError is error_handle's answer: "{}: {}".format(e.__class__, e).
func pyError(class, message string) answer {
	return answer{status: 400, value: map[string]any{"error": fmt.Sprintf("<class '%s'>: %s", class, message)}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	method, known := routes[r.URL.Path]
	switch {
	case !known:
		writeRaw(w, 404, "text/html; charset=utf-8", []byte(flask404))
		return
	case r.Method != method:
		writeRaw(w, 405, "text/html; charset=utf-8", []byte(flask405))
		return
	}

	s.mu.Lock()
	s.received[r.URL.Path]++
	s.busy++
	if s.busy > 1 {
		s.overlaps++
	}
	fault, faulted := s.takeFault(r.URL.Path)
	s.mu.Unlock()
	// The GUI is free once the request was carried out, even when its
	// answer is then withheld (Slow) or lost (Reset).
	var freed sync.Once
	free := func() {
		freed.Do(func() {
			s.mu.Lock()
			s.busy--
			s.mu.Unlock()
		})
	}
	defer free()

	if faulted {
		switch fault.Kind {
		case Slow:
			if fault.Carried {
				s.handle(r.URL.Path, body, fault)
			}
			free()
			select {
			case <-r.Context().Done():
			case <-s.release:
			}
			return
		case Reset:
			if fault.Carried {
				s.handle(r.URL.Path, body, fault)
			}
			free()
			reset(w)
			return
		case Error500:
			if fault.Carried {
				s.handle(r.URL.Path, body, fault)
			}
			writeRaw(w, 500, "text/html; charset=utf-8", []byte(flask500))
			return
		case Reject:
			class, msg := fault.Class, fault.Message
			if class == "" {
				class = "easytrader.exceptions.TradeError"
			}
			write(w, pyError(class, msg))
			return
		}
	}
	write(w, s.handle(r.URL.Path, body, fault))
}

// reset closes the connection with a TCP RST, the request read and no
// answer written.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func write(w http.ResponseWriter, a answer) {
	if a.raw != nil {
		writeRaw(w, a.status, a.ctype, a.raw)
		return
	}
	writeRaw(w, a.status, "application/json", pyJSON(a.value))
}

func writeRaw(w http.ResponseWriter, status int, ctype string, b []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Server", "Werkzeug/3.0.1 Python/3.11.4")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// handle carries a request out as server.py and the client would.
func (s *Server) handle(path string, body []byte, fault Fault) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "/prepare" {
		return s.prepare(body)
	}
	if !s.loggedIn {
		return notLoggedIn
	}
	d := s.opts.Dialect
	switch path {
	case "/balance":
		if fault.Kind == Null {
			return ok(200, nil)
		}
		return ok(200, d.balance(s.balance()))
	case "/position":
		out := []any{}
		for _, code := range sortedCodes(s.holdings) {
			out = append(out, d.position(s.view(code)))
		}
		return ok(200, out)
	case "/today_entrusts", "/cancel_entrusts":
		out := []any{}
		for _, e := range s.entrusts {
			if path == "/cancel_entrusts" && !(e.status == "未成交" || e.status == "已报" || e.status == "部分成交") {
				continue
			}
			out = append(out, d.entrust(e))
		}
		return ok(200, out)
	case "/today_trades":
		out := []any{}
		for _, e := range s.entrusts {
			if e.filled > 0 {
				out = append(out, d.trade(e, e.filled))
			}
		}
		return ok(200, out)
	case "/buy", "/sell":
		return s.order(path == "/sell", body, fault)
	case "/cancel_entrust":
		return s.cancel(body)
	case "/exit":
		s.loggedIn = false
		return ok(200, map[string]any{"msg": "exit success"})
	case "/auto_ipo":
		return ok(200, map[string]any{"message": "今日无新股"})
	}
	return ok(404, nil)
}

func (s *Server) prepare(body []byte) answer {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return pyError("werkzeug.exceptions.BadRequest", "400 Bad Request: Failed to decode JSON object")
	}
	broker, has := v["broker"].(string)
	if !has {
		return pyError("KeyError", "'broker'")
	}
	switch broker {
	case "universal_client", "ht_client", "yh_client", "gj_client", "wk_client", "htzq_client", "ths", "xq", "miniqmt":
	default:
		return pyError("NotImplementedError", "")
	}
	str := func(k string) string { x, _ := v[k].(string); return x }
	s.prepares = append(s.prepares, PrepareRequest{Broker: broker, User: str("user"), Password: str("password"), ExePath: str("exe_path")})
	for k := range v {
		switch k {
		case "broker", "config_path", "user", "password", "exe_path", "comm_password":
		default:
			return pyError("TypeError", fmt.Sprintf("prepare() got an unexpected keyword argument '%s'", k))
		}
	}
	s.loggedIn = true
	return ok(201, map[string]any{"msg": "login success"})
}

func (s *Server) order(sell bool, body []byte, fault Fault) answer {
	fn := "buy"
	if sell {
		fn = "sell"
	}
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return pyError("werkzeug.exceptions.BadRequest", "400 Bad Request: Failed to decode JSON object")
	}
	for k := range v {
		if k != "security" && k != "price" && k != "amount" {
			return pyError("TypeError", fmt.Sprintf("%s() got an unexpected keyword argument '%s'", fn, k))
		}
	}
	for _, k := range []string{"security", "price", "amount"} {
		if _, has := v[k]; !has {
			return pyError("TypeError", fmt.Sprintf("%s() missing 1 required positional argument: '%s'", fn, k))
		}
	}
	code, _ := v["security"].(string)
	price, perr := number(v["price"])
	amount, aerr := number(v["amount"])
	if len(code) != 6 || perr != nil || aerr != nil || price <= 0 || amount <= 0 || amount != float64(int64(amount)) {
		return pyError("easytrader.exceptions.TradeError", "提示信息: 委托价格或数量错误")
	}
	qty := int64(amount)
	if sell {
		h := s.holdings[code]
		if h == nil || h.available < qty {
			return pyError("easytrader.exceptions.TradeError", "提示信息: 可用股份数不足")
		}
		h.available -= qty
	} else {
		if s.available() < price*float64(qty) {
			return pyError("easytrader.exceptions.TradeError", "提示信息: 可用资金不足")
		}
	}
	e := &entrust{
		no: s.nextNo, code: code, name: "股票" + code, market: market(code), status: "未成交", sell: sell,
		price: price, quantity: qty, at: s.opts.Now().In(chinaTime),
	}
	s.nextNo++
	s.entrusts = append(s.entrusts, e)
	s.placed++
	if fault.Kind == NoEntrustNo {
		return ok(201, map[string]any{"message": "success"})
	}
	return ok(201, map[string]any{"entrust_no": fmt.Sprint(s.opts.Dialect.contract(e.no))})
}

func (s *Server) cancel(body []byte) answer {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return pyError("werkzeug.exceptions.BadRequest", "400 Bad Request: Failed to decode JSON object")
	}
	for k := range v {
		if k != "entrust_no" {
			return pyError("TypeError", fmt.Sprintf("cancel_entrust() got an unexpected keyword argument '%s'", k))
		}
	}
	no := fmt.Sprint(v["entrust_no"])
	s.cancelled = append(s.cancelled, no)
	for _, e := range s.entrusts {
		// The grid's number is matched as a string: "00000002", not 2.
		if fmt.Sprint(s.opts.Dialect.contract(e.no)) != no {
			continue
		}
		if e.status != "未成交" && e.status != "部分成交" {
			break
		}
		e.cancelled = e.quantity - e.filled
		e.status = "已撤"
		if e.filled > 0 {
			e.status = "部成部撤"
		}
		if e.sell {
			s.holdings[e.code].available += e.cancelled
		}
		return ok(201, map[string]any{"message": "success"})
	}
	return ok(201, map[string]any{"message": "委托单状态错误不能撤单, 该委托单可能已经成交或者已撤"})
}
