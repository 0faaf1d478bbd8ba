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
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
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

func (s *Server) takeFault(path string) (Fault, bool) {
	for i, f := range s.faults {
		if f.Path == path {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
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
