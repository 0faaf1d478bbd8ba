package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// TestLoadAgainstBaseline runs the load generator for 200 submits against
// the baseline in this process and checks what the report is made of.
func TestLoadAgainstBaseline(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	defer srv.Close()
	a := newAPI(srv.URL, 4)
	defer a.close()
	body, err := operationBody("buy", "", "600000", 10.5)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{name: "bare Gin", api: a}
	o := options{op: "buy", clients: 4, requests: 200}
	out := submitLoad("baseline", tg, o, body).run(context.Background())

	if out.Done != 200 || out.Errors != 0 {
		t.Fatalf("done %d, errors %d (%v); want 200 and 0", out.Done, out.Errors, out.ErrorSamples)
	}
	if want := 200 / out.Elapsed.Seconds(); out.Throughput() != want {
		t.Errorf("throughput %v, want done/elapsed = %v", out.Throughput(), want)
	}
	l := out.Latency
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Mean <= l.Max) {
		t.Errorf("latencies out of order: %+v", l)
	}
	if l.Max > out.Elapsed {
		t.Errorf("max latency %v exceeds the whole run %v", l.Max, out.Elapsed)
	}
	var report bytes.Buffer
	printLoads(&report, []measured{{outcome: out, Backlog: -1}})
	if !strings.Contains(report.String(), "|       200|") {
		t.Errorf("the report does not show 200 requests:\n%s", report.String())
	}
}

// TestLoadCountsErrors: failed requests are counted apart, with their
// distinct texts kept (at most 5), and do not enter the latencies.
func TestLoadCountsErrors(t *testing.T) {
	tests := []struct {
		name         string
		requests     int64
		fail         func(i int64) error
		done, errors int64
		samples      int
		firstSample  string
	}{
		{"none fail", 50, func(int64) error { return nil }, 50, 0, 0, ""},
		{"every tenth fails alike", 100, func(i int64) error {
			if i%10 == 0 {
				return errors.New("HTTP 503")
			}
			return nil
		}, 90, 10, 1, "HTTP 503"},
		{"all fail, many texts", 20, func(i int64) error { return errors.New(strings.Repeat("x", int(i%7)+1)) }, 0, 20, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			out := load{Clients: 3, Requests: tt.requests, Do: func(context.Context, int) error {
				return tt.fail(calls.Add(1))
			}}.run(context.Background())
			if out.Done != tt.done || out.Errors != tt.errors || len(out.ErrorSamples) != tt.samples {
				t.Fatalf("done %d, errors %d, %d samples; want %d, %d, %d", out.Done, out.Errors, len(out.ErrorSamples), tt.done, tt.errors, tt.samples)
			}
			if tt.firstSample != "" && out.ErrorSamples[0] != tt.firstSample {
				t.Errorf("sample %q, want %q", out.ErrorSamples[0], tt.firstSample)
			}
			if out.Samples != uint64(tt.done) {
				t.Errorf("%d latencies recorded, want one per success (%d)", out.Samples, tt.done)
			}
		})
	}
}

func TestBaselineWaitersAndErrors(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	defer srv.Close()
	a := newAPI(srv.URL, 2)
	defer a.close()
	ctx := context.Background()

	if _, err := a.submit(ctx, "buy", []byte(`{not json`), 0); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("malformed body: %v, want HTTP 400", err)
	}
	s, err := a.submit(ctx, "buy", []byte(`{"params":{}}`), waitFor)
	if err != nil || s.Status != "success" {
		t.Errorf("?wait= submit: %+v, %v; want an immediate success", s, err)
	}
	if err := a.pause(ctx); err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() { answered <- a.result(ctx, "1") }()
	// The result request blocks: /metrics counts it as a waiter.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		m, err := a.metrics(ctx)
		if err != nil || m["brokerd_result_waiters"] > 1 {
			t.Fatalf("metrics %v, %v; want 1 waiter", m, err)
		}
		if m["brokerd_result_waiters"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics %v; want 1 waiter", m)
		}
	}
	select {
	case err := <-answered:
		t.Fatalf("the result answered while paused: %v", err)
	default:
	}
	if err := a.resume(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Errorf("result after resume: %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "1234 (brokerd) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 12 0 100 0 0", 3800 * time.Millisecond, false},
		{"command with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5", 30 * time.Millisecond, false},
		{"no command", "1234 brokerd S", 0, true},
		{"too short", "1 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 2 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestStatusKB(t *testing.T) {
	status := "Name:\tbrokerd\nVmHWM:\t  204800 kB\nVmRSS:\t   102400 kB\nThreads:\t9\n"
	tests := []struct {
		key     string
		want    int64
		wantErr bool
	}{
		{"VmRSS", 100 << 20, false},
		{"VmHWM", 200 << 20, false},
		{"Threads", 0, true},
		{"VmSwap", 0, true},
	}
	for _, tt := range tests {
		got, err := statusKB(status, tt.key)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("statusKB(%s) = %d, %v; want %d, error %v", tt.key, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseExposition(t *testing.T) {
	body := []byte(`# HELP brokerd_queue_depth Operations queued.
# TYPE brokerd_queue_depth gauge
brokerd_queue_depth{terminal="sim"} 3
brokerd_queue_depth{terminal="sim2"} 4
brokerd_result_waiters 10000
process_cpu_seconds_total 1.25
go_memstats_heap_inuse_bytes 1.8e+08
broken_line{a="b" 7
no_value
`)
	got := parseExposition(body)
	want := map[string]float64{"brokerd_queue_depth": 7, "brokerd_result_waiters": 10000, "process_cpu_seconds_total": 1.25, "go_memstats_heap_inuse_bytes": 1.8e8}
	if len(got) != len(want) {
		t.Errorf("parsed %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestMedianAndRatio(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
	if got := median([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}); got != 2*time.Millisecond {
		t.Errorf("median of durations = %v", got)
	}
	if ratio(1, 0) != 0 || ratio(1, 4) != 0.25 {
		t.Error("ratio")
	}
	m := measured{outcome: outcome{Done: 4}, CPU: time.Millisecond, procKnown: true}
	if m.CPUPerRequest() != 250*time.Microsecond {
		t.Errorf("CPU per request = %v, want 250µs", m.CPUPerRequest())
	}
}

// TestConfigTOML: the generated configuration says what the bench relies
// on, and a Windows path survives TOML's string escapes.
func TestConfigTOML(t *testing.T) {
	o := options{code: "600000", price: 10.5, logLevel: "info"}
	c := brokerdConfig{Port: 7777, Store: `C:\Temp\bench "x"\brokerd.db`, MaxSize: 20_000, ResultTTL: 10 * time.Second, Terminals: 3}
	var got struct {
		API struct {
			Host string
			Port int
		}
		Queue struct {
			MaxSize   int    `toml:"max_size"`
			ResultTTL string `toml:"result_ttl"`
		}
		Store     struct{ Path string }
		Terminals []struct {
			Name, Driver string
			Options      struct {
				InitialCash float64            `toml:"initial_cash"`
				Volatility  float64            `toml:"volatility"`
				Quotes      map[string]float64 `toml:"quotes"`
			}
		}
	}
	if err := toml.Unmarshal([]byte(c.toml(o)), &got); err != nil {
		t.Fatalf("%v in:\n%s", err, c.toml(o))
	}
	if got.API.Host != "127.0.0.1" || got.API.Port != 7777 || got.Queue.MaxSize != 20_000 || got.Queue.ResultTTL != "10s" || got.Store.Path != c.Store {
		t.Errorf("config %+v", got)
	}
	if len(got.Terminals) != 3 || got.Terminals[0].Name != "sim" || got.Terminals[2].Name != "sim3" {
		t.Fatalf("terminals %+v", got.Terminals)
	}
	opts := got.Terminals[1].Options
	if got.Terminals[1].Driver != "sim" || opts.InitialCash != 1e12 || opts.Volatility != 0 || opts.Quotes["600000"] != 10.5 {
		t.Errorf("terminal options %+v", opts)
	}
}

func TestOperationBody(t *testing.T) {
	tests := []struct {
		op, terminal string
		wantParams   string
		wantErr      bool
	}{
		{"buy", "", `{"stock_code":"600000","price":10.50,"quantity":100}`, false},
		{"sell", "sim2", `{"stock_code":"600000","price":10.50,"quantity":100}`, false},
		{"funds_query", "", `{}`, false},
		{"condition_buy", "", "", true},
	}
	for _, tt := range tests {
		body, err := operationBody(tt.op, tt.terminal, "600000", 10.5)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%s: %v", tt.op, err)
		}
		if err != nil {
			continue
		}
		var got struct {
			Params   json.RawMessage `json:"params"`
			Terminal string          `json:"terminal"`
		}
		if err := json.Unmarshal(body, &got); err != nil || string(got.Params) != tt.wantParams || got.Terminal != tt.terminal {
			t.Errorf("%s: body %s (%v)", tt.op, body, err)
		}
	}
}

func TestRouteOf(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/operations/buy?wait=30":              "/api/v1/operations/buy",
		"/api/v1/operations/0194d3c2-7a10/result":     "/api/v1/operations/{id}/result",
		"/api/v1/queue/pause":                         "/api/v1/queue/pause",
		"/api/v1/operations/0194d3c2-7a10/status?x=1": "/api/v1/operations/{id}/status",
	} {
		if got := routeOf(in); got != want {
			t.Errorf("routeOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	base := options{scenario: "1", repeat: 3, duration: time.Second, waiters: 1, ops: 1, journal: 10, queued: 1}
	tests := []struct {
		name   string
		change func(*options)
		want   string // "" for valid
	}{
		{"valid", func(*options) {}, ""},
		{"neither scenario nor mode", func(o *options) { o.scenario = "" }, "give -scenario"},
		{"both", func(o *options) { o.mode = "submit" }, "give -scenario"},
		{"remote url", func(o *options) { o.url = "http://10.0.0.5:7648" }, "loopback only"},
		{"loopback url", func(o *options) { o.url = "http://127.0.0.1:7648" }, ""},
		{"no repeat", func(o *options) { o.repeat = 0 }, "-repeat"},
		{"queued beyond journal", func(o *options) { o.queued = 11 }, "-queued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			err := o.check(0)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("check() = %v, want %q", err, tt.want)
			}
		})
	}
}

// The baseline answers over a real listener too, as the subcommand does.
func TestServeBaseline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serveBaseline(ctx, "127.0.0.1:0", func(url string) { ready <- url }) }()
	url := <-ready
	resp, err := http.Get(url + "/api/v1/ping")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ping: %v, %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveBaseline: %v", err)
	}
}
