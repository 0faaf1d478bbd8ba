// Command brokerbench measures brokerd against the targets of DESIGN.md
// ("Performance"): a closed-loop load generator with N keep-alive clients,
// the bare-Gin baseline it compares with in the same run, and the five
// scenarios, each one command. docs/benchmarks.md says how to run them and
// what the last run measured. It sends traffic to 127.0.0.1 only.
//
//	brokerbench -scenario 1            durable submit throughput vs bare Gin
//	brokerbench -scenario 2            submit + result round trip, one client
//	brokerbench -scenario 3            10,000 clients blocked on /result
//	brokerbench -scenario 4 -ops N     memory over N operations through one lane
//	brokerbench -scenario 5            restart with 100,000 journaled operations
//	brokerbench -scenario 6            one lane draining a burst's backlog, per fsync
//	brokerbench -mode submit -url URL  one load against a running brokerd
//	brokerbench baseline               serve the bare-Gin baseline (used by the bench)
//
// It is not run by CI: its unit tests are.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "brokerbench:", err)
		}
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	scenario string
	mode     string
	url      string
	pid      int
	brokerd  string
	clients  int
	duration time.Duration
	requests int64
	repeat   int
	warmup   time.Duration
	op       string
	code     string
	price    float64
	waiters  int
	idle     time.Duration
	ops      int64
	ttl      time.Duration
	journal  int
	queued   int
	logLevel string
	keep     bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "baseline" {
		return runBaseline(ctx, args[1:], stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("brokerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scenario, "scenario", "", "1 (or throughput), 2 (roundtrip), 3 (waiters), 4 (memory), 5 (restart), 6 (drain), or all")
	fs.StringVar(&o.mode, "mode", "", "one load instead of a scenario: submit, roundtrip (?wait=), result (submit then GET /result) or waiters")
	fs.StringVar(&o.url, "url", "", "attach to this running brokerd (http://127.0.0.1:PORT) instead of starting one")
	fs.IntVar(&o.pid, "pid", 0, "with -url: the server's pid, to read its memory and CPU from /proc")
	fs.StringVar(&o.brokerd, "brokerd", "", "brokerd binary to start (default: go build ./cmd/brokerd into a temporary directory)")
	fs.IntVar(&o.clients, "clients", 0, "concurrent keep-alive clients (default: the scenario's; 16 for -mode)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured load")
	fs.Int64Var(&o.requests, "requests", 0, "stop each load after this many requests (0: run for -duration)")
	fs.IntVar(&o.repeat, "repeat", 3, "repeat each measurement this many times and report the median")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	fs.StringVar(&o.op, "op", "", "operation to submit: buy, sell, funds_query, holding_query, order_query (default: buy; buy and funds_query for scenario 2; funds_query for 3 and 4)")
	fs.StringVar(&o.code, "code", "600000", "stock code of the buys (quoted in the generated config)")
	fs.Float64Var(&o.price, "price", 10.50, "price of the buys, which is also the code's quote")
	fs.IntVar(&o.waiters, "waiters", 10_000, "scenario 3: clients blocked on /result")
	fs.DurationVar(&o.idle, "idle", 5*time.Second, "scenario 3: how long the blocked clients are watched")
	fs.Int64Var(&o.ops, "ops", 1_000_000, "scenario 4: operations through the lane")
	fs.DurationVar(&o.ttl, "result-ttl", 10*time.Second, "scenario 4: [queue] result_ttl of the generated config")
	fs.IntVar(&o.journal, "journal", 100_000, "scenario 5: operations in the journal")
	fs.IntVar(&o.queued, "queued", 1_000, "scenario 5: of them, still queued (resumed at start)")
	fs.StringVar(&o.logLevel, "log-level", "info", "[log] level of the generated config (info is the shipped default: one line per request)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configurations, journals, logs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(fs.NArg()); err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start the baseline: %w", err)
	}
	dir, err := os.MkdirTemp("", "brokerbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stderr, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{opts: o, dir: dir, out: stdout, errw: stderr, binary: o.brokerd, self: self}
	b.header()
	if o.mode != "" {
		return b.adhoc(ctx)
	}
	return b.scenarios(ctx)
}

func (o *options) check(nargs int) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if nargs > 0 {
		bad("unexpected arguments: brokerbench takes flags only (and the baseline subcommand)")
	}
	if (o.scenario == "") == (o.mode == "") {
		bad("give -scenario (1-6 or all) or -mode (submit, roundtrip, result, waiters)")
	}
	if o.url != "" {
		u, err := url.Parse(o.url)
		if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) {
			bad("-url %q: the bench sends traffic to loopback only: give http://127.0.0.1:PORT", o.url)
		}
	}
	if o.repeat < 1 {
		bad("-repeat must be at least 1")
	}
	if o.duration <= 0 && o.requests <= 0 {
		bad("give a positive -duration or -requests")
	}
	if o.clients < 0 || o.waiters < 1 || o.ops < 1 || o.journal < 1 || o.queued < 0 || o.queued > o.journal {
		bad("-clients, -waiters, -ops, -journal must be positive and -queued at most -journal")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func isLoopbackHost(h string) bool {
	return h == "127.0.0.1" || h == "localhost" || h == "::1"
}

// opOr is -op, or the scenario's default operation.
func (o options) opOr(def string) options {
	if o.op == "" {
		o.op = def
	}
	return o
}

// clientsOr is -clients, or the scenario's default.
func (o options) clientsOr(def int) options {
	if o.clients == 0 {
		o.clients = def
	}
	return o
}
