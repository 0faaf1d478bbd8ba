package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/risk"
	"github.com/brokerd/brokerd/schedule"
	"github.com/brokerd/brokerd/server"
	"github.com/brokerd/brokerd/settle"
	"github.com/brokerd/brokerd/store"
)

// Shutdown budget: the running operations get this long to finish, then the
// HTTP server this long to answer its last requests.
const (
	drainOperations = 20 * time.Second
	drainHTTP       = 5 * time.Second
)

// run is brokerd: it returns when ctx is cancelled (after a graceful
// shutdown) or when something stops it from starting or serving.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("brokerd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", defaultConfigPath, "path of the configuration file (without one, brokerd runs on its embedded default)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (brokerd takes only flags; see -h)", fs.Args())
	}
	if *showVersion {
		fmt.Fprintln(stdout, "brokerd", version())
		return nil
	}

	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, source, err := loadConfigOrDefault(*configPath, explicit, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	log.Info("starting brokerd", "version", version(), "config", source)

	st, err := store.Open(ctx, cfg.Store.Path, store.Options{})
	if err != nil {
		return err
	}
	log.Info("opened the journal", "path", st.Path(), "integrity_check", st.IntegrityCheck())
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close the journal", "err", err)
		}
	}()

	metrics := server.NewMetrics()
	events := server.NewEvents()
	terminals, err := openTerminals(ctx, cfg.Terminals, terminalEnv{
		getenv: getenv, log: log, ledger: st, publish: events.Venue,
	})
	if err != nil {
		return err
	}
	defer func() {
		for _, t := range terminals {
			if err := t.Close(); err != nil {
				log.Warn("close terminal", "terminal", t.Name(), "err", err)
			}
		}
	}()

	registry := plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet())
	settler := settle.New(settle.Config{}, terminals, log.With("component", "settle"), nil)
	limits, err := cfg.riskLimits()
	if err != nil {
		return err
	}
	checker, err := risk.New(risk.Config{Limits: limits, Terminals: riskTerminals(terminals),
		Prices: newTerminalPrices(terminals), Journal: riskJournal{st}})
	if err != nil {
		return err
	}
	// The day counters and halts from the journal, before anything is
	// submitted or recovered.
	if err := checker.Load(ctx); err != nil {
		return err
	}
	if err := metrics.Register(checker.Collector()); err != nil {
		return err
	}
	specs, err := cfg.scheduleSpecs()
	if err != nil {
		return err
	}
	if err := checkSchedules(specs, registry, terminals); err != nil {
		return err
	}
	q, err := queue.New(queue.Config{
		MaxSize:        cfg.Queue.MaxSize,
		DefaultTimeout: cfg.Queue.OperationTimeout.Duration,
		ResultTTL:      cfg.Queue.ResultTTL.Duration,
		ResumeMaxAge:   resumeMaxAge(cfg.Queue.ResumeMaxAge.Duration),
	}, lanes(registry, terminals), queue.Deps{
		Clock:     queue.RealClock{},
		Store:     st,
		Observer:  queue.Observers{metrics, events, checker, settler},
		Logger:    log.With("component", "queue"),
		Admission: checker,
	})
	if err != nil {
		return err
	}
	checker.Attach(q)
	schedLog := log.With("component", "schedule")
	scheduler, err := schedule.New(specs, schedule.Deps{
		Clock:     queue.RealClock{},
		Submitter: firings{registry: registry, queue: q, terminals: terminals},
		Journal:   st,
		OnError: func(name string, slot time.Time, err error) {
			schedLog.Error("a scheduled operation could not be submitted", "schedule", name, "slot", slot, "err", err)
		},
	})
	if err != nil {
		return err
	}
	if err := scheduler.Load(ctx); err != nil {
		return err
	}
	directory, err := automation.NewDirectory(terminals)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Version:     version(),
		Keys:        apiKeys(cfg.API),
		RateLimit:   cfg.API.RateLimit,
		CORSOrigins: cfg.API.CORSOrigins,
		Docs:        cfg.API.Docs,
		Console:     cfg.API.Console,
		MCP:         cfg.API.MCP,
		MetricsAuth: cfg.API.MetricsAuth,
		// Without a key only loopback is served (config refuses other
		// hosts), so only loopback names may be asked for.
		LoopbackHostsOnly: cfg.API.Key == "" && len(cfg.API.Keys) == 0,
		Hosts:             knownHosts(cfg.API),
	}, server.Deps{
		Queue:      q,
		Operations: registry,
		Terminals:  directory,
		History:    st,
		Journal:    st,
		Metrics:    metrics,
		Events:     events,
		Logger:     log.With("component", "http"),
		Risk:       checker,
		Schedules:  scheduler,
		JournalStats: func() server.JournalStats {
			return journalStats(st.CommitStats())
		},
	})
	if err != nil {
		return err
	}

	// Listen before anything runs: a brokerd that cannot serve must not
	// start executing the journal's queued orders.
	addr := net.JoinHostPort(cfg.API.Host, strconv.Itoa(cfg.API.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (%s)", addr, err, listenHint(cfg.API.Host, err))
	}
	rec, err := q.Recover(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	if rec != (queue.Recovery{}) {
		log.Info("recovered the journal", "resumed", rec.Resumed, "expired", rec.Expired,
			"interrupted", rec.Interrupted, "cancelled", rec.Cancelled)
	}
	// A halt outlives a restart: the orders the journal gave back to a
	// halted terminal are cancelled before anything runs.
	halted, err := checker.Enforce(ctx)
	if err != nil {
		ln.Close()
		return fmt.Errorf("enforce the risk halts: %w", err)
	}
	for _, r := range halted {
		log.Warn("terminal is halted by the kill switch, as it was left: new orders are refused until POST /api/v1/risk/resume",
			"terminal", r.Terminal, "cancelled_queued_orders", len(r.Cancelled))
	}
	unsettled, err := unsettledOrders(ctx, st)
	if err != nil {
		ln.Close()
		return err
	}
	q.Start()

	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are at most 1 MiB: a client trickling one is cut off.
		// Long waits (/result, /events) are writes, which this leaves alone.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	httpServer.RegisterOnShutdown(srv.Close)

	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	background.Go(func() { srv.Run(bgCtx) })
	background.Go(func() { settler.Run(bgCtx, q, unsettled) })
	background.Go(func() { scheduler.Run(bgCtx) })
	if cfg.Store.KeepDays > 0 {
		background.Go(func() { prune(bgCtx, st, cfg.Store.KeepDays, log) })
	}
	background.Go(func() { blockOnDamage(bgCtx, st, q, log) })

	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("listening", "url", url, "terminals", len(terminals))
	log.Info("optional surfaces", surfaces(cfg.API, url)...)
	fmt.Fprintf(stdout, "brokerd listening on %s\n", url)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: no new operations; waiting for the running ones")
	case serveErr = <-served:
		log.Error("http server stopped", "err", serveErr)
	}

	// Stop the queue first: submits are refused, blocked /result clients
	// are released, and each terminal's running operation may finish.
	qctx, cancel := context.WithTimeout(context.Background(), drainOperations)
	if err := q.Shutdown(qctx); err != nil {
		log.Error("shutdown: a driver did not return in time", "err", err)
	}
	cancel()
	hctx, cancel := context.WithTimeout(context.Background(), drainHTTP)
	if err := httpServer.Shutdown(hctx); err != nil {
		log.Warn("shutdown: http connections did not close in time", "err", err)
		httpServer.Close()
	}
	cancel()
	stopBackground()
	background.Wait()
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// lanes gives each terminal a lane whose executor runs the operation's
// plugin on it: with the params validated at submit (Operation.Prepared),
// or, for an operation recovered from the journal, with its journaled
// params validated again.
func lanes(registry *plugins.Registry, terminals []automation.Terminal) []queue.Lane {
	out := make([]queue.Lane, 0, len(terminals))
	for _, t := range terminals {
		out = append(out, queue.Lane{
			Terminal: t.Name(),
			Execute: func(ctx context.Context, op queue.Operation) (queue.Result, error) {
				opts := plugins.ExecOptions{ClientOrderID: op.IdempotencyKey, OperationID: op.ID}
				var res plugins.Result
				var err error
				p, known := registry.Lookup(op.Name)
				if params, prepared := op.Prepared.(plugins.Params); prepared && known {
					res, err = registry.Run(ctx, t, p, params, opts)
				} else {
					res, err = registry.ExecuteWith(ctx, t, op.Name, op.Params, opts)
				}
				if res.Data == nil {
					return queue.Result{Message: res.Message}, err
				}
				data, merr := marshalResult(res.Data)
				if merr != nil && err == nil {
					err = merr
				}
				return queue.Result{Data: data, Message: res.Message}, err
			},
		})
	}
	return out
}

// resumeMaxAge maps resume_max_age onto the queue's setting, where 0 means
// the default: "0s" in the config means that nothing queued before a
// restart runs after it.
func resumeMaxAge(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// surfaces are the log attributes saying which optional surfaces are
// served: each one's URL, or "off".
func surfaces(c APIConfig, url string) []any {
	at := func(on bool, path string) string {
		if on {
			return url + path
		}
		return "off"
	}
	return []any{"console", at(c.Console, "/console"), "mcp", at(c.MCP, "/mcp"), "docs", at(c.Docs, "/docs")}
}

// knownHosts are the names brokerd is reached by: [api] hosts, and the
// listen host when it is a name.
func knownHosts(c APIConfig) []string {
	hosts := slices.Clone(c.Hosts)
	if c.Host != "" && net.ParseIP(c.Host) == nil {
		hosts = append(hosts, c.Host)
	}
	return hosts
}

// apiKeys maps [api] key and [[api.keys]] onto the server's keys.
func apiKeys(c APIConfig) []server.APIKey {
	var keys []server.APIKey
	if c.Key != "" {
		keys = append(keys, server.APIKey{Name: "api.key", Key: c.Key})
	}
	for i, k := range c.Keys {
		name := k.Name
		if name == "" {
			name = fmt.Sprintf("api.keys[%d]", i)
		}
		key := server.APIKey{Name: name, Key: k.Key}
		for _, s := range k.Scopes {
			key.Scopes = append(key.Scopes, server.Scope(s))
		}
		keys = append(keys, key)
	}
	return keys
}

// unsettledOrders are the journal's orders of the last day whose outcome is
// not known (outcome_unknown, or interrupted by a crash) and that no look
// at the venue has settled yet: the settler asks the venue for each.
func unsettledOrders(ctx context.Context, st *store.Store) ([]queue.Operation, error) {
	var out []queue.Operation
	for _, name := range []string{automation.OpPlaceOrder, automation.OpClosePosition} {
		for offset := 0; ; offset += 1000 {
			ops, total, err := st.History(ctx, queue.HistoryFilter{
				Status: queue.StatusFailed, Name: name, Since: time.Now().Add(-24 * time.Hour), Limit: 1000, Offset: offset,
			})
			if err != nil {
				return nil, fmt.Errorf("find the orders to settle: %w", err)
			}
			for _, op := range ops {
				if settle.Unsettled(op) {
					out = append(out, op)
				}
			}
			if offset+len(ops) >= total || len(ops) == 0 {
				break
			}
		}
	}
	return out, nil
}

// blockOnDamage blocks every lane as soon as the journal is found damaged
// (a malformed page, a removed WAL): an operation it cannot record must not
// run, not even one queued before. It ends with ctx.
func blockOnDamage(ctx context.Context, st *store.Store, q *queue.Queue, log *slog.Logger) {
	select {
	case <-ctx.Done():
	case <-st.Damaged():
		err := st.Health()
		log.Error("the journal is damaged: every lane is blocked and no submit is acknowledged", "err", err)
		q.Block(err.Error())
	}
}

// journalStats maps the store's commit statistics onto the server's.
func journalStats(c store.CommitStats) server.JournalStats {
	return server.JournalStats{
		Commits: c.Commits, Failures: c.Failures, DBBytes: c.DBBytes, WALBytes: c.WALBytes,
		CommitSeconds: server.Histogram(c.CommitSeconds),
		GroupSize:     server.Histogram(c.GroupSize),
	}
}

// prune deletes finished operations older than keepDays, once an hour.
func prune(ctx context.Context, st *store.Store, keepDays int, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		before := time.Now().AddDate(0, 0, -keepDays)
		if n, err := st.Prune(ctx, before); err != nil && ctx.Err() == nil {
			log.Error("prune the journal", "err", err)
		} else if n > 0 {
			log.Info("pruned the journal", "deleted", n, "before", before.Format(time.DateOnly))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated with the config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// version is the module version from the build, or the VCS revision.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
