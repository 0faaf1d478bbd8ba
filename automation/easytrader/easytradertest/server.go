// Package easytradertest is a local peer of easytrader's remote server
// (server.py): its routes, its answers byte for byte (Flask's jsonify:
// sorted keys, \uXXXX escapes, 201 for POSTs, 400 {"error": "<class
// '…'>: …"} for every failure, KeyError 'user' before /prepare), over a
// small account, in the column dialect of a chosen broker client, with the
// faults the driver must survive: slow answers, connections reset after
// the request was read, 400s, 500s, a restarted (logged out) agent, a
// failed grid copy (null), and a success that names no entrust_no.
//
// It counts what it received (Received, Placed), so tests can prove an
// order was never sent twice, and notices overlapping calls (Overlaps),
// which the real agent's single GUI cannot take.
package easytradertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// chinaTime is the client's clock zone.
var chinaTime = time.FixedZone("CST", 8*60*60)

// FaultKind is what a fault does to one request.
type FaultKind string

const (
	// Slow holds the answer until the client gives up (or Release).
	Slow FaultKind = "slow"
	// Reset reads the request, then resets the connection (no answer).
	Reset FaultKind = "reset"
	// Error500 answers Flask's HTML 500 page.
	Error500 FaultKind = "500"
	// Reject answers 400 {"error": "<class 'Class'>: Message"}.
	Reject FaultKind = "400"
	// Null answers null, as a grid copy stopped by a captcha.
	Null FaultKind = "null"
	// NoEntrustNo answers a placed order with {"message": "success"}.
	NoEntrustNo FaultKind = "no_entrust_no"
)

// Fault applies to the next request on Path.
type Fault struct {
	Path string
	Kind FaultKind
	// Carried makes the agent carry the request out (place the order)
	// before the answer is lost (Slow, Reset, Error500).
	Carried bool
	// Class and Message make a Reject's error; default TradeError.
	Class, Message string
}

// Options configure a peer.
type Options struct {
	Dialect Dialect // default THS
	// LoggedIn starts the agent logged in (as after a /prepare); false
	// answers KeyError 'user' until /prepare.
	LoggedIn bool
	Cash     float64            // default 1,000,000
	Holdings map[string]int64   // code → sellable shares at the start
	Quotes   map[string]float64 // code → last price; default 10
	// Now is the client's clock; nil means time.Now.
	Now func() time.Time
}

// PrepareRequest is a /prepare the agent received.
type PrepareRequest struct {
	Broker, User, Password, ExePath string
}

// Server is a running peer.
type Server struct {
	*httptest.Server

	opts    Options
	release chan struct{}

	mu        sync.Mutex
	loggedIn  bool
	cash      float64
	holdings  map[string]*holding
	entrusts  []*entrust
	nextNo    int
	faults    []Fault
	received  map[string]int
	placed    int
	prepares  []PrepareRequest
	busy      int
	overlaps  int
	cancelled []string
}

type holding struct {
	quantity, available int64
	cost                float64
}

type entrust struct {
	no                          int
	code, name, market, status  string
	sell                        bool
	price, avg                  float64
	quantity, filled, cancelled int64
	at                          time.Time
}

type balance struct{ cash, available, value float64 }

type holdingView struct {
	code, name, market            string
	quantity, available           int64
	cost, last, value, pnl, ratio float64
}

// New starts a peer; Close stops it.
func New(opts Options) *Server {
	if opts.Dialect == "" {
		opts.Dialect = THS
	}
	if opts.Cash == 0 {
		opts.Cash = 1_000_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts: opts, release: make(chan struct{}), loggedIn: opts.LoggedIn, cash: opts.Cash,
		holdings: map[string]*holding{}, received: map[string]int{}, nextNo: 1,
	}
	for code, q := range opts.Holdings {
		s.holdings[code] = &holding{quantity: q, available: q, cost: s.quote(code)}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close releases slow answers and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.Server.Close()
}

// Inject queues faults; each applies once, to the next request on its path.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Login is the agent logged in by hand (as a /prepare would).
func (s *Server) Login() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loggedIn = true
}

// Restart is server.py restarted: logged out until the next /prepare; the
// broker's account (orders, holdings) is unchanged.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loggedIn = false
}

// Received counts the requests read on path (faulted ones included).
func (s *Server) Received(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[path]
}

// Placed counts the orders the client placed (/buy and /sell carried out).
func (s *Server) Placed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placed
}

// Prepares lists the /prepare requests received.
func (s *Server) Prepares() []PrepareRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.prepares)
}

// Overlaps counts requests that arrived while another was being handled:
// the real agent would have driven its GUI twice at once.
func (s *Server) Overlaps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlaps
}

// Cancels lists the entrust_no values /cancel_entrust received.
func (s *Server) Cancels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cancelled)
}

// Contract is how the dialect writes contract number n in its grid.
func (s *Server) Contract(n int) string { return fmt.Sprint(s.opts.Dialect.contract(n)) }

// Fill fills quantity shares of order n (its number as the peer counts,
// from 1) at its price: holdings and cash follow.
func (s *Server) Fill(n int, quantity int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(n)
	if e == nil || e.quantity-e.filled-e.cancelled < quantity {
		return fmt.Errorf("easytradertest: order %d cannot fill %d", n, quantity)
	}
	e.filled += quantity
	e.avg = e.price
	e.status = "部分成交"
	if e.filled == e.quantity {
		e.status = "已成"
	}
	h := s.holdings[e.code]
	if h == nil {
		h = &holding{}
		s.holdings[e.code] = h
	}
	amount := e.price * float64(quantity)
	if e.sell {
		h.quantity -= quantity
		s.cash = round2(s.cash + amount)
	} else {
		h.cost = (h.cost*float64(h.quantity) + amount) / float64(h.quantity+quantity)
		h.quantity += quantity // bought today: not sellable (T+1)
	}
	return nil
}

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

func (s *Server) takeFault(path string) (Fault, bool) {
	for i, f := range s.faults {
		if f.Path == path {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

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

var notLoggedIn = pyError("KeyError", "'user'")

const flask500 = `<!doctype html>
<html lang=en>
<title>500 Internal Server Error</title>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>
`

const flask404 = `<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>
`

const flask405 = `<!doctype html>
<html lang=en>
<title>405 Method Not Allowed</title>
<h1>Method Not Allowed</h1>
<p>The method is not allowed for the requested URL.</p>
`

var routes = map[string]string{
	"/prepare": "POST", "/balance": "GET", "/position": "GET", "/auto_ipo": "GET",
	"/today_entrusts": "GET", "/today_trades": "GET", "/cancel_entrusts": "GET",
	"/buy": "POST", "/sell": "POST", "/cancel_entrust": "POST", "/exit": "GET",
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
