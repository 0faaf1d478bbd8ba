// Package easythstest is a local peer of an EasyTHS server (seeds/003):
// its routes and answer shapes, in the documented (v2) flavour or as
// v1.7's code really answers (REFERENCE.md: `completed`, FastAPI's
// {"detail": …} errors, a full queue as 500, parameters validated in the
// worker, a bare /result, buy/sell without an order number, holding codes
// that lost their leading zeros, an empty table as {}), with one worker
// over a priority queue, like EasyTHS's.
//
// Behind it is brokerd's own sim, run through brokerd's plugins: the
// account behaves, and the peer only has to be EasyTHS's shape around it.
// Faults: slow answers, connections reset after the request was read (a
// submit may be queued first), 500s, a full queue, a held worker (an
// operation that stays queued), and a restart that forgets every
// operation and logs the client out. Submitted and Executed count what it
// received and ran, so tests can prove nothing was submitted twice.
package easythstest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/plugins"
)

// Version picks the answer shapes.
type Version string

const (
	V2  Version = "2"   // as documented (seed 003) with v2's additions
	V17 Version = "1.7" // as v1.7's code answers
)

// FaultKind is what a fault does to one request.
type FaultKind string

const (
	Slow      FaultKind = "slow"       // no answer until the client gives up
	Reset     FaultKind = "reset"      // the request read, the connection reset
	Error500  FaultKind = "500"        // an internal error
	QueueFull FaultKind = "queue_full" // 503 queue_full (v2) or 500 (v1.7)
	// Stall (route "run" or "run:buy") holds the next such operation
	// running, the client's window hung, until Unstall.
	Stall FaultKind = "stall"
)

// Route names a fault's target: "submit" (any POST
// /operations/{name}), "submit:buy", "result", "status", "health".
type Fault struct {
	Route string
	Kind  FaultKind
	// Carried queues the submitted operation before the answer is lost.
	Carried bool
}

// Options configure a peer.
type Options struct {
	Version Version // default V2
	// APIKey, when set, is required as a Bearer token (health excepted).
	APIKey string
	// Operations are the loaded plugins; default all 15.
	Operations []string
	Cash       float64            // default 1,000,000
	Holdings   map[string]int64   // sellable shares at the start
	Quotes     map[string]float64 // last prices (fixed)
}

// Server is a running peer.
type Server struct {
	*httptest.Server

	opts Options
	reg  *plugins.Registry
	term *sim.Terminal

	kick    chan struct{}
	stop    chan struct{}
	unstall chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	ops       map[string]*operation
	queue     []*operation
	seq       int
	held      bool
	loggedIn  bool
	faults    []Fault
	submitted map[string]int
	executed  map[string]int
	auth      []string
	stats     struct{ success, failed int }
}

type operation struct {
	id, name  string
	params    json.RawMessage
	priority  int
	seq       int
	status    string // queued, running, success, failed, cancelled
	result    *resultBody
	errorCode string
	at        time.Time
	done      chan struct{}
}

// resultBody is EasyTHS's result, in its field order.
type resultBody struct {
	Success   bool    `json:"success"`
	Data      any     `json:"data"`
	Message   *string `json:"message"`
	Timestamp string  `json:"timestamp"`
}

// New starts a peer; Close stops it.
func New(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = V2
	}
	if opts.Operations == nil {
		opts.Operations = automation.StockOperations
	}
	so := sim.DefaultOptions()
	so.Volatility = 0
	so.InitialCash = 1_000_000
	if opts.Cash != 0 {
		so.InitialCash = opts.Cash
	}
	so.Positions, so.Quotes = opts.Holdings, opts.Quotes
	term, err := sim.New(context.Background(), "easythstest", so, sim.Deps{})
	if err != nil {
		panic("easythstest: " + err.Error())
	}
	s := &Server{
		opts: opts, reg: plugins.NewRegistry(plugins.StockSet()), term: term, kick: make(chan struct{}, 1), stop: make(chan struct{}), unstall: make(chan struct{}, 1),
		ops: map[string]*operation{}, loggedIn: true, submitted: map[string]int{}, executed: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/system/health", s.health)
	mux.HandleFunc("GET /api/v1/system/status", s.authed(s.systemStatus))
	mux.HandleFunc("POST /api/v1/system/reconnect", s.authed(s.reconnect))
	mux.HandleFunc("GET /api/v1/operations/{$}", s.authed(s.list))
	mux.HandleFunc("POST /api/v1/operations/{name}", s.authed(s.submit))
	mux.HandleFunc("GET /api/v1/operations/{id}/status", s.authed(s.status))
	mux.HandleFunc("GET /api/v1/operations/{id}/result", s.authed(s.result))
	mux.HandleFunc("DELETE /api/v1/operations/{id}", s.authed(s.cancel))
	mux.HandleFunc("GET /api/v1/queue/stats", s.authed(s.queueStats))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"detail": "Not Found"})
	})
	s.Server = httptest.NewServer(mux)
	s.wg.Add(1)
	go s.work()
	return s
}

// Close stops the worker and the server.
func (s *Server) Close() {
	close(s.stop)
	s.Server.Close()
	s.wg.Wait()
	s.term.Close()
}

// Inject queues faults; each applies once to the next request on its route.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Hold keeps the worker from starting operations (they stay queued) until
// Release.
func (s *Server) Hold() { s.mu.Lock(); s.held = true; s.mu.Unlock() }

// Release lets the worker go on.
func (s *Server) Release() {
	s.mu.Lock()
	s.held = false
	s.mu.Unlock()
	s.wake()
}

// Unstall lets a stalled operation go on.
func (s *Server) Unstall() { s.unstall <- struct{}{} }

// Restart is EasyTHS restarted: every operation forgotten (their ids
// answer 404) and the client logged out until Login or a reconnect. The
// broker's account is unchanged.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.ops {
		if op.status == "queued" || op.status == "running" {
			op.status = "cancelled"
			close(op.done)
		}
	}
	s.ops, s.queue, s.loggedIn = map[string]*operation{}, nil, false
}

// Login logs the client in again.
func (s *Server) Login() { s.mu.Lock(); s.loggedIn = true; s.mu.Unlock() }

// Submitted counts the POSTs of operation name received (faulted ones too).
func (s *Server) Submitted(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submitted[name]
}

// Executed counts the operations of name the worker ran.
func (s *Server) Executed(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executed[name]
}

// Authorizations lists the Authorization headers received.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auth)
}

// Broker is the account behind the peer (to fill or inspect orders).
func (s *Server) Broker() *sim.Terminal { return s.term }

func (s *Server) takeFault(routes ...string) (Fault, bool) {
	for i, f := range s.faults {
		if slices.Contains(routes, f.Route) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}
