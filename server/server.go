// Package server is brokerd's HTTP API: the EasyTHS REST contract on Gin,
// with API keys and scopes, a per-client rate limit, CORS from an allow-list,
// Swagger UI, Prometheus metrics and a Server-Sent Events stream. It turns
// HTTP into calls on the queue and the plugin registry and back; it holds no
// trading logic of its own.
//
//	@title						brokerd API
//	@version					1
//	@description				brokerd puts a priority queue with one serialized worker per terminal in front of broker terminals. Its REST contract is EasyTHS's: every JSON answer is the envelope {success, message, data, error_code, timestamp}, with every key always present.
//	@description				Every timestamp (the envelope's, an operation's times, events, results) is RFC 3339 in China time, +08:00, the exchanges' zone, wherever brokerd runs.
//	@description				Submit an operation with POST /operations/{name}, then follow it with /operations/{id}/status or block on /operations/{id}/result. Each operation's parameters are documented under the "operation: NAME" tags below, with an example request.
//	@BasePath					/api/v1
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				API key as "Bearer <key>". Scopes: read (status, results, history, stats, events, and submitting operations without side effects such as holding_query), trade (submitting orders and cancels, cancelling), admin (pause, resume, reconnect, sim controls).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// Queue is what the API asks of brokerd's queue (*queue.Queue).
type Queue interface {
	Submit(ctx context.Context, req queue.Request) (queue.Submitted, error)
	Get(ctx context.Context, id string) (queue.Operation, error)
	Wait(ctx context.Context, id string) (queue.Operation, error)
	Cancel(ctx context.Context, id string) (queue.Operation, error)
	Stats() queue.Stats
	Pause(ctx context.Context, terminal string) error
	Resume(ctx context.Context, terminal string) error
	// Terminals lists the lanes; the first is the default.
	Terminals() []string
	// Exclusive runs fn while no operation runs on the terminal.
	Exclusive(ctx context.Context, terminal string, fn func(ctx context.Context) error) error
}

// Operations is the plugin registry: it knows every operation and says
// which terminal can carry it out; a submit validates its parameters with
// the plugin it looked up (Plugin.ValidateFor), once.
type Operations interface {
	Lookup(name string) (*plugins.Plugin, bool)
	// Names lists the operations in registration order.
	Names() []string
	// Supported reports whether terminal t can carry out the operation.
	Supported(name string, t automation.Terminal) bool
	// Describe gives every operation's schema and example, by name.
	Describe() map[string]plugins.Description
}

// Terminals is what the API asks of the configured terminals: it finds
// them by name (automation.Directory). The queue's lanes say which names
// there are and in what order; this gives the terminal behind each. What a
// terminal can do beyond automation.Terminal (a venue's throttle, the
// sim's quotes) the API asks of the terminal itself, by interface, so a
// new driver needs nothing here.
type Terminals interface {
	// Names lists every terminal, so that New can check each has a lane.
	Names() []string
	// Terminal finds a terminal by name; false when none has it.
	Terminal(name string) (automation.Terminal, bool)
}

// History lists journaled operations, newest first, with the number that
// match the filter in all.
type History interface {
	History(ctx context.Context, f queue.HistoryFilter) ([]queue.Operation, int, error)
}

// Config is the HTTP API's configuration. Zero values take the defaults.
type Config struct {
	// Version is brokerd's version, shown by /system/info.
	Version string
	// Keys are the API keys. With none, every endpoint is open (EasyTHS
	// behaviour); cmd refuses to listen beyond loopback then.
	Keys []APIKey
	// RateLimit is the requests per second allowed to each client
	// address; 0 turns the limit off. RateBurst is how many may come at
	// once (default: RateLimit rounded up, at least 1).
	RateLimit float64
	RateBurst int
	// CORSOrigins lists the browser origins allowed to call the API
	// ("https://app.example"); "*" allows any. Empty: no CORS headers.
	CORSOrigins []string
	// Docs serves Swagger UI at /docs (and /redoc, a redirect to it) and
	// the spec at /docs/doc.json. Console serves the web console at
	// /console; MCP serves the MCP endpoint at /mcp. Each one off, its
	// paths answer 404 like any unknown path: an operator who exposes
	// brokerd turns off what is not used. The zero value is off, as for
	// every field here; brokerd's config turns all three on by default.
	Docs    bool
	Console bool
	MCP     bool
	// MetricsAuth puts /metrics behind a key with the read scope.
	MetricsAuth bool
	// LoopbackHostsOnly refuses requests whose Host header is not a
	// loopback name: set it when no key is configured, so that a web page
	// cannot reach brokerd by rebinding a name of its own to 127.0.0.1.
	LoopbackHostsOnly bool
	// Hosts are the names (besides IP addresses and loopback names) under
	// which brokerd is reached. With a key, the routes that need none
	// (/ping, /system/health, /metrics unless MetricsAuth, /docs) answer
	// only these: a page that rebinds a name of its own to brokerd must
	// not read them.
	Hosts []string
	// MaxBodyBytes bounds a request body (default 1 MiB): larger → 413.
	MaxBodyBytes int64
	// TerminalPollInterval is how often Run looks at the terminals'
	// states for /events (default 1s).
	TerminalPollInterval time.Duration
	// HeartbeatInterval is how often /events sends a comment to keep the
	// connection open through proxies (default 15s).
	HeartbeatInterval time.Duration
}

const (
	defaultMaxBody      = 1 << 20
	defaultPollInterval = time.Second
	defaultHeartbeat    = 15 * time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = defaultMaxBody
	}
	if c.TerminalPollInterval <= 0 {
		c.TerminalPollInterval = defaultPollInterval
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = defaultHeartbeat
	}
	if c.Version == "" {
		c.Version = "(devel)"
	}
	return c
}

// Deps are the server's collaborators; all but History, Journal,
// JournalStats, Logger, Now, Risk and Schedules are required.
type Deps struct {
	Queue      Queue
	Operations Operations
	// Terminals are the configured terminals, one per queue lane.
	Terminals Terminals
	// History answers /history from the journal; nil when there is none.
	History History
	// Journal tells /system/health whether the journal is usable; nil when
	// there is none to ask.
	Journal Journal
	// JournalStats gives /metrics the journal's commit statistics; nil
	// when there is no journal.
	JournalStats func() JournalStats
	// Metrics and Events must be the same values given to the queue as
	// its Observer (queue.Observers{metrics, events}).
	Metrics *Metrics
	Events  *Events
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
	// Risk shows the risk limits and pulls the kill switch; Schedules are
	// the [[schedules]]. nil: those routes answer 404 / an empty list.
	Risk      Risk
	Schedules Schedules
}

// Server is the HTTP API. Serve Handler() with an http.Server; run Run for
// the terminal watcher; call Close when shutting down.
type Server struct {
	cfg       Config
	q         Queue
	ops       Operations
	terminals Terminals
	order     []string // terminal names, lane order
	history   History
	journal   Journal
	risk      Risk
	schedules Schedules
	metrics   *Metrics
	events    *Events
	log       *slog.Logger
	now       func() time.Time
	started   time.Time

	keys       *keyring
	limiter    *rateLimiter
	corsPolicy *corsPolicy
	spec       *specCache
	watcher    *terminalWatcher
	engine     *gin.Engine

	// shutdown is cancelled by Close: event streams end and waiters let
	// go.
	shutdown      context.Context
	beginShutdown context.CancelFunc
}

// New builds the API over its dependencies.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Queue == nil || deps.Operations == nil || deps.Terminals == nil || deps.Metrics == nil || deps.Events == nil {
		return nil, errors.New("server: queue, operations, terminals, metrics and events are required")
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		q:         deps.Queue,
		ops:       deps.Operations,
		terminals: deps.Terminals,
		history:   deps.History,
		journal:   deps.Journal,
		risk:      deps.Risk,
		schedules: deps.Schedules,
		metrics:   deps.Metrics,
		events:    deps.Events,
		log:       deps.Logger,
		now:       deps.Now,
	}
	s.shutdown, s.beginShutdown = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	// The queue's lane order is the authority: its first lane is the
	// default terminal. Every lane's terminal is checked here, once, so
	// that the handlers may look up any lane's terminal without asking
	// whether it is there.
	s.order = s.q.Terminals()
	for _, name := range s.order {
		if t, ok := s.terminals.Terminal(name); !ok || t == nil {
			return nil, fmt.Errorf("server: the queue has a lane for terminal %q but no such terminal was given", name)
		}
	}
	if len(s.order) == 0 || len(s.order) != len(s.terminals.Names()) {
		return nil, errors.New("server: every terminal needs a queue lane, and there must be at least one")
	}

	var err error
	if s.keys, err = newKeyring(cfg.Keys); err != nil {
		return nil, err
	}
	for _, k := range s.keys.keys {
		if k.weak {
			s.log.Warn("an API key is shorter than 16 characters: use a long random key", "key_name", k.name)
		}
	}
	if cfg.RateLimit < 0 {
		return nil, errors.New("server: rate limit must not be negative")
	}
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst, maxRateClients, s.now)
	}
	if s.corsPolicy, err = newCORSPolicy(cfg.CORSOrigins); err != nil {
		return nil, err
	}
	if err := s.metrics.watch(s.q, s.terminals, s.order); err != nil {
		return nil, err
	}
	if err := s.metrics.reg.Register(buildInfo(cfg.Version)); err != nil {
		return nil, err
	}
	if deps.JournalStats != nil {
		if err := s.metrics.reg.Register(journalCollector{stats: deps.JournalStats}); err != nil {
			return nil, err
		}
	}
	s.watcher = newTerminalWatcher(s.terminals, s.order, s.events, s.log)
	s.spec = &specCache{build: s.buildSpec}
	s.engine = s.routes()
	return s, nil
}

// laneTerminal is the terminal behind one of the queue's lanes; New
// checked that every lane has one.
func (s *Server) laneTerminal(name string) automation.Terminal {
	t, _ := s.terminals.Terminal(name)
	return t
}

// Handler is the API's http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Close ends every event stream and releases the clients blocked on a
// result, so that an http.Server's Shutdown is not held up by them. Give it
// to http.Server.RegisterOnShutdown. It is safe to call more than once.
func (s *Server) Close() {
	s.beginShutdown()
}

// Run watches the terminals' states and publishes each change on /events
// (and the log) until ctx is done. Call it once.
func (s *Server) Run(ctx context.Context) {
	tick := time.NewTicker(s.cfg.TerminalPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.watcher.poll()
		}
	}
}
