// Package ctpbeetest is a local ctpbee_backend (seeds/001, and its code as
// REFERENCE.md reads it) for the ctpbee driver's tests and brokerd's
// end-to-end tests: /login and its JWT, GET/POST/DELETE /order_solve,
// /close_position, and a CTP account behind them whose orders fill or rest
// against a price the test sets, with long and short positions split in
// today's and yesterday's lots. Faults are set by the test: rejections
// early (success false) and late (拒单 after 成功下单), an order taken and
// its connection dropped, slow answers, expired and replaced tokens,
// refused logins.
package ctpbeetest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config sets up a Server.
type Config struct {
	// Authorization is /login's authorization code (default "000000",
	// the backend's).
	Authorization string
	// UserID and Password are the CTP account's.
	UserID, Password string
	// ClosePattern is how /close_position closes on SHFE and INE:
	// "today" (default: today's lots first) or "yesterday".
	ClosePattern string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a running ctpbee_backend.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:54321.
	URL string

	http *httptest.Server
	cfg  Config
	key  []byte

	mu        sync.Mutex
	running   bool  // the backend's CtpBee app is up (after a first login)
	loginTime int64 // the latest login's; older tokens are refused
	userID    string
	expired   bool // the latest token expired
	refuseAll bool // refuse every token, also fresh ones

	prices   map[string]float64
	holdings map[string]*holding
	orders   []*order
	trades   []*trade
	nextRef  int
	nextFill int
	logs     []any

	faults     []fault
	delays     map[string]time.Duration
	delayLater map[string]time.Duration // delays from the next order on
	dropNext   map[string]int           // answers to drop, by route
	refusals   int                      // logins to refuse
	duplicate  int                      // orders from another client to place with the next

	requests map[string]int // path → requests seen
	received int            // orders that reached send_order
	closes   int            // /close_position calls that reached the action
}

type faultKind int

const (
	rejectEarly faultKind = iota
	rejectLate
	dropAnswer
	dropUnsent
)

type fault struct {
	kind faultKind
	msg  string
}

// New starts a Server; Close stops it.
func New(cfg Config) *Server {
	if cfg.Authorization == "" {
		cfg.Authorization = "000000"
	}
	if cfg.ClosePattern == "" {
		cfg.ClosePattern = "today"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		key:      make([]byte, 32),
		prices:   map[string]float64{},
		holdings: map[string]*holding{},
		delays:   map[string]time.Duration{},
		dropNext: map[string]int{},
		requests: map[string]int{},
	}
	rand.Read(s.key)
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.http.CloseClientConnections(); s.http.Close() }

// SetPrice sets a contract's last price (rb2501.SHFE); resting orders
// that it crosses fill at their price.
func (s *Server) SetPrice(localSymbol string, price float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prices[localSymbol] = price
	for _, o := range s.orders {
		if o.active() && o.localSymbol() == localSymbol && o.crosses(price) {
			s.fill(o, o.price)
		}
	}
}

// SetPosition sets one side ("long" or "short") of a holding: today's and
// yesterday's lots at an average price.
func (s *Server) SetPosition(localSymbol, direction string, today, yesterday int, price float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.holding(localSymbol)
	if direction == "long" {
		h.longTd, h.longYd, h.longPrice = today, yesterday, price
	} else {
		h.shortTd, h.shortYd, h.shortPrice = today, yesterday, price
	}
}

// Position is one side of a holding as the account has it.
type Position struct {
	Today, Yesterday int
}

// PositionOf is one side ("long" or "short") of a holding.
func (s *Server) PositionOf(localSymbol, direction string) Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.holdings[localSymbol]
	switch {
	case !ok:
		return Position{}
	case direction == "long":
		return Position{h.longTd, h.longYd}
	default:
		return Position{h.shortTd, h.shortYd}
	}
}

// RejectNext makes CTP reject the next order within the backend's 0.2 s
// wait: /order_solve answers success false with msg.
func (s *Server) RejectNext(msg string) { s.addFault(fault{rejectEarly, msg}) }

// RejectNextLate makes CTP reject the next order after the backend's
// wait: /order_solve answers 成功下单, the book shows 拒单.
func (s *Server) RejectNextLate() { s.addFault(fault{rejectLate, ""}) }

// DropNextAnswer takes the next order and drops its connection without
// an answer.
func (s *Server) DropNextAnswer() { s.addFault(fault{dropAnswer, ""}) }

// DropNext carries out the next request on route (such as "DELETE
// /order_solve" or "POST /close_position") and drops its connection
// without an answer.
func (s *Server) DropNext(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext[route]++
}

// DropNextUnsent drops the connection of the next order before it is
// passed to CTP: nothing is sent.
func (s *Server) DropNextUnsent() { s.addFault(fault{dropUnsent, ""}) }

func (s *Server) addFault(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// SetDelay holds every answer to route (a method and a path, such as
// "POST /order_solve") for d, after the request has been carried out.
func (s *Server) SetDelay(route string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[route] = d
}

// DelayAfterNextOrder holds the answers to route for d once the next
// order has been taken (a backend that turns slow while an answer is
// lost).
func (s *Server) DelayAfterNextOrder(route string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayLater = map[string]time.Duration{route: d}
}

// ExpireToken expires the latest login's token.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
}

// LoginElsewhere is another client logging in with the account: the
// latest token is replaced.
func (s *Server) LoginElsewhere() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginTime++
	s.expired = false
}

// RefuseTokens makes the backend refuse every token, also fresh ones.
func (s *Server) RefuseTokens(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseAll = refuse
}

// RefuseLogins makes the next n logins fail (登录出现错误).
func (s *Server) RefuseLogins(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = n
}

// DuplicateNext has another client place n orders identical to the next
// one, at the same moment.
func (s *Server) DuplicateNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duplicate = n
}

// OrdersReceived counts the orders POST /order_solve passed to CTP: the
// proof that an order was never sent twice.
func (s *Server) OrdersReceived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// ClosesReceived counts the /close_position calls that reached the
// closing action.
func (s *Server) ClosesReceived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closes
}

// Requests counts the requests seen on path, whatever their answer.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Paths lists the paths requested, sorted.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.requests {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Order is an order as the account holds it.
type Order struct {
	OrderID, LocalSymbol, Direction, Offset, Type, Status string
	Price                                                 float64
	Volume, Traded                                        int
}

// Orders lists the day's orders, oldest first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Order
	for _, o := range s.orders {
		out = append(out, Order{o.orderID(), o.localSymbol(), o.direction, o.offset, o.kind, o.status, o.price, o.volume, o.traded})
	}
	return out
}

// serve routes as the backend's Flask app does.
var routes = map[string][]string{
	"/login":          {"POST"},
	"/logout":         {"POST"},
	"/market":         {"POST", "PUT"},
	"/order_solve":    {"GET", "POST", "DELETE"},
	"/auth_code":      {"PUT"},
	"/strategy":       {"GET", "PUT", "DELETE"},
	"/check_code":     {"POST"},
	"/run_code":       {"POST"},
	"/code":           {"GET", "POST"},
	"/close_position": {"POST"},
	"/bar":            {"POST"},
	"/config":         {"GET", "PUT"},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	delay := s.delays[r.Method+" "+r.URL.Path]
	s.mu.Unlock()
	methods, ok := routes[r.URL.Path]
	switch {
	case !ok:
		htmlError(w, http.StatusNotFound, "Not Found", "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.")
		return
	case !slices.Contains(methods, r.Method):
		w.Header().Set("Allow", strings.Join(append(methods, "HEAD", "OPTIONS"), ", "))
		htmlError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The method is not allowed for the requested URL.")
		return
	}
	values := formValues(r)
	var a reply
	if r.URL.Path == "/login" {
		a = s.login(values)
	} else if msg, ok := s.identify(r.Header.Get("Authorization")); !ok {
		a = falseResponse(msg)
	} else {
		a = s.route(r.Method, r.URL.Path, values)
	}
	s.mu.Lock()
	if route := r.Method + " " + r.URL.Path; s.dropNext[route] > 0 && a.status != http.StatusInternalServerError {
		s.dropNext[route]--
		a.drop = true
	}
	s.mu.Unlock()
	if a.drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.status == http.StatusInternalServerError {
		internalError(w)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(dumps(obj{{"success", a.success}, {"msg", a.msg}, {"data", a.data}}))
}

// reply is a view's answer.
type reply struct {
	success bool
	msg     string
	data    any
	status  int  // 500: Flask's error page (an exception in the view)
	drop    bool // drop the connection without answering
}

func trueResponse(msg string, data any) reply { return reply{success: true, msg: msg, data: data} }
func falseResponse(msg string) reply          { return reply{msg: msg, data: ""} }
func crash() reply                            { return reply{status: http.StatusInternalServerError} }

// formValues is Flask's request.values: the query string and a form body
// (a JSON body is ignored), for any method.
func formValues(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		out[k] = v[0]
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r2 := r.Clone(r.Context())
		r2.Method = http.MethodPost // ParseForm reads the body of POST, PUT and PATCH only
		r2.URL.RawQuery = ""
		if err := r2.ParseForm(); err == nil {
			for k, v := range r2.PostForm {
				out[k] = v[0]
			}
		}
	}
	return out
}

func htmlError(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n", status, title, title, text)
}

func internalError(w http.ResponseWriter) {
	htmlError(w, http.StatusInternalServerError, "Internal Server Error",
		"The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.")
}

// login is LoginView.post: the authorization code first; with the app
// running, the same account gets a new token (欢迎回来), another is
// refused; otherwise the app starts and logs in to CTP.
func (s *Server) login(v map[string]string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v["authorization"] == "" || v["authorization"] != s.cfg.Authorization {
		return falseResponse("授权码错误")
	}
	match := v["userid"] == s.cfg.UserID && v["password"] == s.cfg.Password
	if s.refusals > 0 {
		s.refusals--
		return falseResponse("登录出现错误")
	}
	msg := "欢迎回来"
	if !s.running {
		if !match {
			return falseResponse("登录出现错误")
		}
		s.running, msg = true, "登录成功"
	} else if !match {
		return falseResponse("Refuse!")
	}
	s.loginTime++
	s.userID = v["userid"]
	s.expired = false
	now := s.cfg.Now()
	c := claims{Exp: now.Add(7 * 24 * time.Hour).Unix(), Iat: now.Unix(), Iss: "ctpbee"}
	c.Data.LoginTime, c.Data.UserID = s.loginTime, v["userid"]
	return trueResponse(msg, signToken(s.key, c))
}

// identify is Auth.identify: "JWT <token>" split on single spaces.
func (s *Server) identify(header string) (string, bool) {
	if header == "" {
		return "token error", false
	}
	parts := strings.Split(header, " ")
	if parts[0] != "JWT" || len(parts) != 2 {
		return "请传递正确的验证头信息", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := verifyToken(s.key, parts[1], s.cfg.Now())
	switch {
	case err != nil, s.refuseAll:
		return "token error", false
	case s.userID == "" || c.Data.UserID != s.userID:
		return "token error", false
	case c.Data.LoginTime != s.loginTime, s.expired:
		return "token error", false
	}
	return "请求成功", true
}

func (s *Server) route(method, path string, v map[string]string) reply {
	switch method + " " + path {
	case "GET /order_solve":
		return s.book()
	case "POST /order_solve":
		return s.placeOrder(v)
	case "DELETE /order_solve":
		return s.cancelOrder(v)
	case "POST /close_position":
		return s.closePosition(v)
	}
	// The rest of the backend (market data, strategies, code, config) is
	// not what a broker front calls; it answers as if done.
	return trueResponse("", "")
}
