// Package brokerdtest runs a real brokerd inside a test: the HTTP API over
// the real queue, the real plugin registry, a SQLite journal in a temporary
// directory and the sim terminal with fixed prices, served on a loopback
// port by httptest. The client, brokerctl, the Grafana dashboard's test and
// the browser tests use it, so each talks to brokerd as its users do.
package brokerdtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/risk"
	"github.com/brokerd/brokerd/server"
	"github.com/brokerd/brokerd/store"
)

// Options change the brokerd a test starts. Zero values take the defaults.
type Options struct {
	// Keys are the API keys; none leaves the API open (loopback only).
	Keys []server.APIKey
	// RateLimit is the requests per second per client (0: off).
	RateLimit float64
	RateBurst int
	// Terminals names the sim terminals, in lane order (default "sim").
	Terminals []string
	// Latency is the sim's emulated time per action (default 0).
	Latency time.Duration
}

// Brokerd is a running brokerd.
type Brokerd struct {
	// URL is the base URL, such as http://127.0.0.1:41234 (no /api/v1).
	URL    string
	Server *server.Server
	Queue  *queue.Queue
	Store  *store.Store
	Risk   *risk.Checker // the kill switch (no limits are set)
}

// Start runs a brokerd until the test ends.
func Start(t testing.TB, opts Options) *Brokerd {
	t.Helper()
	ctx := context.Background()
	names := opts.Terminals
	if len(names) == 0 {
		names = []string{"sim"}
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "brokerd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	metrics, events := server.NewMetrics(), server.NewEvents()
	var terminals []automation.Terminal
	for _, name := range names {
		o := sim.DefaultOptions()
		o.Volatility = 0
		o.Latency = sim.Duration(opts.Latency)
		o.Quotes = map[string]float64{"600000": 10.50, "000001": 12.00, "510300": 3.900}
		o.Positions = map[string]int64{"600000": 1000}
		term, err := sim.New(ctx, name, o, sim.Deps{Ledger: st})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = term.Close() })
		terminals = append(terminals, term)
	}
	registry := plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet())
	// The risk checker without limits: the kill switch, as brokerd has it.
	riskTerminals := make([]risk.Terminal, len(terminals))
	for i, term := range terminals {
		riskTerminals[i] = risk.Terminal{Name: term.Name(), Family: risk.StockFamily}
	}
	checker, err := risk.New(risk.Config{Terminals: riskTerminals, Journal: riskJournal{st}})
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(queue.Config{}, lanes(registry, terminals), queue.Deps{
		Clock: queue.RealClock{}, Store: st, Observer: queue.Observers{metrics, events, checker}, Admission: checker,
	})
	if err != nil {
		t.Fatal(err)
	}
	checker.Attach(q)
	if _, err := q.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	q.Start()
	directory, err := automation.NewDirectory(terminals)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Version:              "brokerdtest",
		Keys:                 opts.Keys,
		RateLimit:            opts.RateLimit,
		RateBurst:            opts.RateBurst,
		Docs:                 true,
		Console:              true,
		MCP:                  true,
		LoopbackHostsOnly:    len(opts.Keys) == 0,
		TerminalPollInterval: 50 * time.Millisecond,
		HeartbeatInterval:    time.Second,
	}, server.Deps{
		Queue: q, Operations: registry, Terminals: directory, History: history{st}, Risk: checker,
		Metrics: metrics, Events: events, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); srv.Run(runCtx) }()

	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Config.RegisterOnShutdown(srv.Close)
	hs.Start()
	t.Cleanup(func() {
		// The queue first, as brokerd does: waiters are released, then the
		// event streams end and the HTTP server can close.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(sctx)
		srv.Close()
		hs.Close()
		stopRun()
		<-ran
	})
	return &Brokerd{URL: hs.URL, Server: srv, Queue: q, Store: st, Risk: checker}
}

// lanes is cmd/brokerd's executor: each terminal's lane runs the
// operation's plugin on it.
func lanes(registry *plugins.Registry, terminals []automation.Terminal) []queue.Lane {
	out := make([]queue.Lane, 0, len(terminals))
	for _, t := range terminals {
		out = append(out, queue.Lane{
			Terminal: t.Name(),
			Execute: func(ctx context.Context, op queue.Operation) (queue.Result, error) {
				res, err := registry.ExecuteWith(ctx, t, op.Name, op.Params, plugins.ExecOptions{ClientOrderID: op.IdempotencyKey, OperationID: op.ID})
				if res.Data == nil {
					return queue.Result{Message: res.Message}, err
				}
				data, merr := json.Marshal(res.Data)
				if merr != nil && err == nil {
					err = fmt.Errorf("encode the result: %w", merr)
				}
				return queue.Result{Data: data, Message: res.Message}, err
			},
		})
	}
	return out
}

type history struct{ st *store.Store }

func (h history) History(ctx context.Context, f queue.HistoryFilter) ([]queue.Operation, int, error) {
	return h.st.History(ctx, store.HistoryFilter(f))
}

// riskJournal is the journal as the risk checker reads it.
type riskJournal struct{ st *store.Store }

func (j riskJournal) SubmittedSince(ctx context.Context, terminal string, since time.Time) ([]queue.Operation, error) {
	return j.st.SubmittedSince(ctx, terminal, since)
}

func (j riskJournal) SetHalt(ctx context.Context, terminal string, halted bool, reason string, at time.Time) error {
	return j.st.SetHalt(ctx, terminal, halted, reason, at)
}

func (j riskJournal) Halts(ctx context.Context) ([]risk.Halt, error) {
	hs, err := j.st.Halts(ctx)
	out := make([]risk.Halt, len(hs))
	for i, h := range hs {
		out[i] = risk.Halt(h)
	}
	return out, err
}
