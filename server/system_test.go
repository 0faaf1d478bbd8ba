package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

func TestPing(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Keys = []APIKey{{Key: "0123456789abcdef-secret"}} }))
	e := expect(t, h.get("/api/v1/ping"), 200, "")
	if string(e.Data) != `{"status":"pong"}` {
		t.Errorf("data %s", e.Data)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Keys = []APIKey{{Key: "0123456789abcdef-secret"}} }))

	e := expect(t, h.get("/api/v1/system/health"), 200, "")
	v := dataAs[HealthView](t, e)
	if v.Status != "healthy" || v.Components.Terminals["main"] != "ready" || len(v.Components.Terminals) != 4 ||
		v.Components.Plugins.Loaded != len(automation.StockOperations)+len(automation.ExchangeOperations) || len(v.Problems) != 0 ||
		v.Components.Automator != "connected" || !v.Components.LoggedIn {
		t.Fatalf("%s", e.Data)
	}

	h.backup.setState(automation.StateDisconnected)
	w := h.get("/api/v1/system/health")
	e = expect(t, w, http.StatusServiceUnavailable, codeUnavailable)
	v = dataAs[HealthView](t, e)
	if v.Status != "unhealthy" || v.Components.Terminals["backup"] != "disconnected" || len(v.Problems) != 1 ||
		!strings.Contains(v.Problems[0], "backup") || !strings.Contains(e.message(), "backup") {
		t.Fatalf("%s", w.Body.String())
	}
	h.backup.setState(automation.StateReady)

	// A paused lane is deliberate: still healthy.
	if err := h.q.Pause(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	e = expect(t, h.get("/api/v1/system/health"), 200, "")
	if v := dataAs[HealthView](t, e); v.Components.Lanes["main"] != "paused" {
		t.Errorf("%s", e.Data)
	}
}

func TestHealthReportsAStuckLane(t *testing.T) {
	q := &stubQueue{stats: queue.Stats{Lanes: []queue.LaneStats{{Terminal: "main", State: queue.LaneStuck, StuckOn: "operation x"}}}}
	h := newStubServer(t, q)
	e := expect(t, h.get("/api/v1/system/health"), 503, codeUnavailable)
	if v := dataAs[HealthView](t, e); v.Components.Lanes["main"] != "stuck" || !strings.Contains(v.Problems[0], "stuck") {
		t.Errorf("%s", e.Data)
	}
}

func TestSystemStatusAndInfo(t *testing.T) {
	h := newHarness(t)
	e := expect(t, h.get("/api/v1/system/info"), 200, "")
	if v := dataAs[InfoView](t, e); v.Version != "v1.2.3-test" || v.Name != "brokerd" || v.GoVersion == "" {
		t.Errorf("%s", e.Data)
	}

	h.submitted("/api/v1/operations/funds_query?wait=10", "")
	e = expect(t, h.get("/api/v1/system/status"), 200, "")
	v := dataAs[SystemStatus](t, e)
	if v.Version != "v1.2.3-test" || len(v.Terminals) != 4 || !v.Terminals["main"].Default || v.Terminals["backup"].Default ||
		v.Terminals["main"].State != "ready" || v.Plugins.PluginCount != len(automation.StockOperations)+len(automation.ExchangeOperations) || v.Queue.Success != 1 {
		t.Fatalf("%s", e.Data)
	}
	if len(v.Terminals["gw"].Operations) != 0 || !slices.Contains(v.Terminals["main"].Operations, "buy") {
		t.Errorf("supported operations: gw %v, main %v", v.Terminals["gw"].Operations, v.Terminals["main"].Operations)
	}
}

func TestQueueStatsPauseResume(t *testing.T) {
	h := newHarness(t)
	expect(t, h.post("/api/v1/queue/pause?terminal=main", ""), 200, "")
	h.submitted("/api/v1/operations/funds_query", "")

	e := expect(t, h.get("/api/v1/queue/stats"), 200, "")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"queued_count", "running_count", "success_count", "failed_count", "cancelled_count", "terminals"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("stats lack %q: %s", k, e.Data)
		}
	}
	v := dataAs[StatsView](t, e)
	if v.Queued != 1 || !v.Terminals["main"].Paused || v.Terminals["main"].State != "paused" || v.Terminals["main"].Queued != 1 ||
		v.Terminals["backup"].Paused || len(v.Terminals) != 4 {
		t.Fatalf("%s", e.Data)
	}

	e = expect(t, h.post("/api/v1/queue/resume?terminal=main", ""), 200, "")
	if p := dataAs[PauseView](t, e); p.Paused || !slices.Equal(p.Terminals, []string{"main"}) {
		t.Errorf("%s", e.Data)
	}

	e = expect(t, h.post("/api/v1/queue/pause", ""), 200, "")
	if p := dataAs[PauseView](t, e); !p.Paused || len(p.Terminals) != 4 {
		t.Errorf("%s", e.Data)
	}
	for _, l := range h.q.Stats().Lanes {
		if !l.Paused {
			t.Errorf("lane %s not paused", l.Terminal)
		}
	}
	expect(t, h.post("/api/v1/queue/resume", ""), 200, "")
	for _, path := range []string{"/api/v1/queue/pause?terminal=nope", "/api/v1/queue/resume?terminal=nope"} {
		e := expect(t, h.post(path, ""), 422, codeInvalidParams)
		if f := e.fields(t); !slices.Equal(f, []string{"terminal"}) {
			t.Errorf("%s names %v", path, f)
		}
	}
}

func TestReconnect(t *testing.T) {
	h := newHarness(t)
	e := expect(t, h.post("/api/v1/system/reconnect?terminal=backup", ""), 200, "")
	var out []ReconnectView
	if err := json.Unmarshal(e.Data, &out); err != nil || len(out) != 1 || !out[0].Success || out[0].Terminal != "backup" {
		t.Fatalf("%s", e.Data)
	}
	if h.backup.reconnects != 1 || h.main.reconnects != 0 {
		t.Errorf("reconnects: backup %d, main %d", h.backup.reconnects, h.main.reconnects)
	}

	h.main.reconnectErr = errors.New("xiadan.exe did not start")
	e = expect(t, h.post("/api/v1/system/reconnect", ""), http.StatusBadGateway, codeNotConnected)
	out = nil
	if err := json.Unmarshal(e.Data, &out); err != nil || len(out) != 4 || out[0].Success || out[0].Error == nil || !out[1].Success {
		t.Fatalf("%s", e.Data)
	}
	if !strings.Contains(e.message(), "xiadan.exe did not start") {
		t.Errorf("message %q", e.message())
	}

	expect(t, h.post("/api/v1/system/reconnect?terminal=nope", ""), 422, codeInvalidParams)
}

func TestSimQuote(t *testing.T) {
	h := newHarness(t)
	e := expect(t, h.post("/api/v1/sim/quote", `{"terminal":"paper","stock_code":"000001","price":12.34}`), 200, "")
	if v := dataAs[QuoteView](t, e); v.Price != 12.34 || v.StockCode != "000001" || v.Terminal != "paper" {
		t.Errorf("%s", e.Data)
	}
	e = expect(t, h.get("/api/v1/sim/quote?terminal=paper&stock_code=000001"), 200, "")
	if v := dataAs[QuoteView](t, e); v.Price != 12.34 {
		t.Errorf("%s", e.Data)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		fields                   []string
	}{
		{"not a sim", "POST", "/api/v1/sim/quote", `{"stock_code":"600000","price":10}`, 422, codeUnsupported, nil},
		{"unknown terminal", "POST", "/api/v1/sim/quote", `{"terminal":"x","stock_code":"600000","price":10}`, 422, codeInvalidParams, []string{"terminal"}},
		{"bad code and price", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":600000,"price":-1}`, 422, codeInvalidParams, []string{"price", "stock_code"}},
		{"missing fields", "POST", "/api/v1/sim/quote", `{}`, 422, codeInvalidParams, []string{"price", "stock_code"}},
		{"unknown field", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"600000","price":1,"volume":3}`, 422, codeInvalidParams, []string{"volume"}},
		{"not JSON", "POST", "/api/v1/sim/quote", `{`, 400, codeBadRequest, nil},
		{"price twice", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"600000","price":1,"price":100}`, 422, codeInvalidParams, []string{"price"}},
		{"the sim refuses", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"999999","price":1}`, 422, codeInvalidParams, nil},
		{"the sim refuses with a plain error", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"888888","price":1.001}`, 422, codeInvalidParams, nil},
		{"the sim fails", "POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"000000","price":1}`, 500, codeInternal, nil},
		{"read a bad code", "GET", "/api/v1/sim/quote?terminal=paper&stock_code=6000", "", 422, codeInvalidParams, []string{"stock_code"}},
		{"read an unknown quote", "GET", "/api/v1/sim/quote?terminal=paper&stock_code=300750", "", 422, codeInvalidParams, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := expect(t, h.serve(request{method: tc.method, path: tc.path, body: tc.body}), tc.status, tc.code)
			if tc.fields != nil {
				if got := e.fields(t); !slices.Equal(got, tc.fields) {
					t.Errorf("names %v, want %v", got, tc.fields)
				}
			}
		})
	}
}

// pathTerminal is a fake terminal that drives a program on this machine.
type pathTerminal struct{ *fakeTerminal }

func (pathTerminal) AppPath() string { return "C:/同花顺远航版/transaction/xiadan.exe" }

// TestSystemStatusHasEasyTHSAutomator: a script that checks
// data.automator.connected and .logged_in, as EasyTHS's does, finds them,
// from the default terminal.
func TestSystemStatusHasEasyTHSAutomator(t *testing.T) {
	h := newHarness(t)
	e := expect(t, h.get("/api/v1/system/status"), 200, "")
	var raw struct {
		Automator map[string]json.RawMessage `json:"automator"`
	}
	if err := json.Unmarshal(e.Data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"connected", "logged_in", "app_path", "backend"} {
		if _, ok := raw.Automator[k]; !ok {
			t.Errorf("data.automator lacks %q: %s", k, e.Data)
		}
	}
	v := dataAs[SystemStatus](t, e).Automator
	if !v.Connected || !v.LoggedIn || v.Backend != "fake" || v.AppPath != nil || v.Terminal != "main" {
		t.Errorf("%+v", v)
	}

	h.main.setState(automation.StateDisconnected)
	v = dataAs[SystemStatus](t, expect(t, h.get("/api/v1/system/status"), 200, "")).Automator
	if v.Connected || v.LoggedIn {
		t.Errorf("disconnected default terminal: %+v", v)
	}
	// A backup terminal's state does not count.
	h.main.setState(automation.StateReady)
	h.backup.setState(automation.StateDisconnected)
	if v = dataAs[SystemStatus](t, expect(t, h.get("/api/v1/system/status"), 200, "")).Automator; !v.Connected {
		t.Errorf("%+v", v)
	}

	if p := newAutomatorStatus(pathTerminal{newFakeTerminal("ths")}).AppPath; p == nil || *p != "C:/同花顺远航版/transaction/xiadan.exe" {
		t.Errorf("app_path %v", p)
	}
}
