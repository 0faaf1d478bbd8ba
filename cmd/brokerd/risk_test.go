package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// riskConfig is e2eConfig with limits, a schedule and the sim at 10.50.
func riskConfig(dir string) string {
	return e2eConfig(dir) + `
[risk]
max_daily_buy_notional = 10500   # ten buys of 100 at 10.50
max_orders_per_minute = 1000
trading_hours = "always"

[[schedules]]
name = "daily-repo"
operation = "reverse_repo_buy"
params = { market = "上海", time_range = "1天期", amount = 10000 }
cron = "55 14 * * 1-5"
`
}

// TestRunawayScriptStoppedByTheLimits is the promise: a script
// that fires 10,000 buys is stopped at the first one over the limit, with
// an answer that names the rule, the limit and the value.
func TestRunawayScriptStoppedByTheLimits(t *testing.T) {
	base, _, _ := startBrokerdWith(t, riskConfig)
	c := client{t: t, base: base + "/api/v1", key: e2eKey}

	accepted := 0
	var refusal answer
	for i := range 10000 {
		a := c.do("POST", "/operations/buy", map[string]any{
			"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}, "client_id": fmt.Sprintf("loop-%d", i)})
		if a.status != http.StatusOK {
			refusal = a
			break
		}
		accepted++
	}
	if accepted != 10 {
		t.Fatalf("%d buys accepted; want 10 (10 × 1050 = 10500, the limit)", accepted)
	}
	d := refusal.data()
	if refusal.status != http.StatusUnprocessableEntity || refusal.body["error_code"] != "risk_limit" ||
		d["rule"] != "max_daily_buy_notional" || d["limit"] != "10500" || d["value"] != "11550" {
		t.Fatalf("the 11th buy: %d %v", refusal.status, refusal.body)
	}
	if msg, _ := refusal.body["message"].(string); !strings.Contains(msg, "max_daily_buy_notional") || !strings.Contains(msg, "nothing was queued") {
		t.Fatalf("message %q does not explain", msg)
	}
	metrics := scrape(t, base+"/metrics")
	for _, want := range []string{
		`brokerd_risk_limit{rule="max_daily_buy_notional",terminal="sim"} 10500`,
		`brokerd_risk_used{rule="max_daily_buy_notional",terminal="sim"} 10500`,
		`brokerd_risk_refusals_total{rule="max_daily_buy_notional",terminal="sim"} 1`,
		`brokerd_risk_halted{terminal="sim"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A retry of an accepted buy is its replay, not a new order.
	if a := c.do("POST", "/operations/buy", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}, "client_id": "loop-3"}); a.status != 200 || a.data()["duplicate"] != true {
		t.Fatalf("replay of an accepted buy: %d %v", a.status, a.body)
	}
	// Sells and queries are not buys.
	if a := c.do("POST", "/operations/sell?wait=10", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}}); a.status != 200 {
		t.Fatalf("a sell: %d %v", a.status, a.body)
	}
	risk := c.do("GET", "/risk", nil).data()["terminals"].(map[string]any)["sim"].(map[string]any)
	if risk["orders_today"] != float64(11) || risk["limited"] != true || risk["halted"] != false {
		t.Fatalf("GET /risk: %v", risk)
	}
	found := false
	for _, r := range risk["rules"].([]any) {
		r := r.(map[string]any)
		if r["rule"] == "max_daily_buy_notional" {
			found = r["used"] == "10500" && r["limit"] == "10500"
		}
	}
	if !found {
		t.Fatalf("GET /risk rules: %v", risk["rules"])
	}

	// The kill switch: orders refused, queued orders cancelled, queries pass.
	c.do("POST", "/queue/pause", nil)
	queued := c.do("POST", "/operations/sell", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}}).data()["operation_id"].(string)
	events := subscribe(t, base+"/api/v1/events?terminal=sim", e2eKey)
	h := c.do("POST", "/risk/halt?terminal=sim&reason=runaway", nil)
	if ev := events.next(t, "risk"); !strings.Contains(ev, `"halted":true`) || !strings.Contains(ev, `"reason":"runaway"`) || !strings.Contains(ev, `"cancelled_count":1`) {
		t.Fatalf("the risk event: %s", ev)
	}
	if h.status != 200 || h.data()["cancelled"].(map[string]any)["sim"].([]any)[0] != queued {
		t.Fatalf("halt: %d %v", h.status, h.body)
	}
	c.do("POST", "/queue/resume", nil)
	if st := c.do("GET", "/operations/"+queued+"/status", nil).data(); st["status"] != "cancelled" || st["error_code"] != "halted" {
		t.Fatalf("the queued sell after the halt: %v", st)
	}
	a := c.do("POST", "/operations/sell", map[string]any{"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}})
	if a.status != 422 || a.data()["rule"] != "halt" || !strings.Contains(a.body["message"].(string), "runaway") {
		t.Fatalf("a sell on a halted terminal: %d %v", a.status, a.body)
	}
	if a := c.do("POST", "/operations/holding_query?wait=10", map[string]any{"params": map[string]any{"return_type": "json"}}); a.status != 200 || a.body["success"] != true {
		t.Fatalf("a query on a halted terminal: %d %v", a.status, a.body)
	}
	if h := c.do("GET", "/system/health", nil).data()["components"].(map[string]any)["halted"].(map[string]any); h["sim"] != "runaway" {
		t.Fatalf("health halted: %v", h)
	}
	if l := c.do("GET", "/queue/stats", nil).data()["terminals"].(map[string]any)["sim"].(map[string]any); l["halted"] != true || l["halt_reason"] != "runaway" {
		t.Fatalf("stats: %v", l)
	}
	if a := c.do("POST", "/risk/halt?terminal=nope", nil); a.status != 422 {
		t.Fatalf("halt of an unknown terminal: %d", a.status)
	}
	if a := c.do("POST", "/risk/resume", nil); a.status != 200 {
		t.Fatalf("resume: %d %v", a.status, a.body)
	}
	if a := c.do("POST", "/operations/sell?wait=10", map[string]any{"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}}); a.status != 200 {
		t.Fatalf("a sell after resume: %d %v", a.status, a.body)
	}
}

func TestNotBeforeAndSchedulesThroughTheAPI(t *testing.T) {
	base, _, _ := startBrokerdWith(t, riskConfig)
	c := client{t: t, base: base + "/api/v1", key: e2eKey}

	a := c.do("POST", "/operations/holding_query", map[string]any{"params": map[string]any{}, "not_before": 3600})
	d := a.data()
	if a.status != 200 || d["queue_position"] != nil || d["not_before"] == nil || !strings.Contains(a.body["message"].(string), "scheduled") {
		t.Fatalf("scheduled submit: %d %v", a.status, a.body)
	}
	id := d["operation_id"].(string)
	if now := c.do("POST", "/operations/funds_query?wait=10", map[string]any{"params": map[string]any{}}); now.body["success"] != true {
		t.Fatalf("a query behind the scheduled one did not run: %v", now.body)
	}
	st := c.do("GET", "/operations/"+id+"/status", nil).data()
	if st["status"] != "queued" || st["not_before"] == nil {
		t.Fatalf("status of the scheduled op: %v", st)
	}
	if l := c.do("GET", "/queue/stats", nil).data()["terminals"].(map[string]any)["sim"].(map[string]any); l["scheduled_count"] != float64(1) || l["queued_count"] != float64(1) {
		t.Fatalf("stats: %v", l)
	}
	if a := c.do("POST", "/operations/holding_query", map[string]any{"not_before": "tomorrow"}); a.status != 422 || !strings.Contains(a.body["message"].(string), "not_before") {
		t.Fatalf("bad not_before: %d %v", a.status, a.body)
	}
	if a := c.do("POST", "/operations/holding_query", map[string]any{"not_before": time.Now().Add(8 * 24 * time.Hour).Format(time.RFC3339)}); a.status != 422 {
		t.Fatalf("not_before 8 days ahead: %d %v", a.status, a.body)
	}

	list := c.do("GET", "/schedules", nil).body["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("schedules: %v", list)
	}
	s := list[0].(map[string]any)
	if s["name"] != "daily-repo" || s["time_zone"] != "Asia/Shanghai" || s["missed"] != "skip" || s["next_run"] == nil ||
		!strings.HasSuffix(s["next_run"].(string), "+08:00") || !strings.Contains(s["next_run"].(string), "T14:55:00") {
		t.Fatalf("schedule: %v", s)
	}
	if p := c.do("POST", "/schedules/daily-repo/pause", nil); p.status != 200 || p.data()["paused"] != true || p.data()["next_run"] != nil {
		t.Fatalf("pause: %d %v", p.status, p.body)
	}
	if p := c.do("POST", "/schedules/nope/pause", nil); p.status != 404 {
		t.Fatalf("pause of an unknown schedule: %d", p.status)
	}
	if p := c.do("POST", "/schedules/daily-repo/resume", nil); p.status != 200 || p.data()["paused"] != false {
		t.Fatalf("resume: %d %v", p.status, p.body)
	}
}

// TestRiskCountersAndHaltAcrossAKill kills brokerd with SIGKILL while
// buys are being submitted and run, restarts it, and proves that the day's
// order count is exact (every order acknowledged before the kill counts,
// running ones included) and that a halt holds across a kill.
func TestRiskCountersAndHaltAcrossAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const limit = 40
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, simConfig(port, filepath.Join(dir, "journal.db"), `initial_cash = 100000000
latency = "15ms"`)+fmt.Sprintf(`
[risk]
max_orders_per_day = %d
trading_hours = "always"
`, limit))
	base := fmt.Sprintf("http://127.0.0.1:%d/api/v1", port)

	var (
		mu       sync.Mutex
		accepted int
		refused  []string
	)
	buy := func() (int, map[string]any) {
		var env map[string]any
		resp, err := http.Post(base+"/operations/buy", "application/json",
			strings.NewReader(`{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`))
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		jsonDecode(resp, &env)
		return resp.StatusCode, env
	}
	first := startBinary(t, bin, config)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				enough := accepted >= 25
				mu.Unlock()
				if enough {
					return
				}
				if code, _ := buy(); code == 200 {
					mu.Lock()
					accepted++
					mu.Unlock()
				} else {
					return
				}
			}
		})
	}
	wg.Wait()
	// Kill while the lane works through them (15 ms each), or once it has
	// (on a loaded machine the submits may be slower than the lane): the
	// counters must come back exact either way.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var stats struct {
			Data struct {
				Queued  int `json:"queued_count"`
				Running int `json:"running_count"`
			} `json:"data"`
		}
		getJSON(t, base+"/queue/stats", &stats)
		if stats.Data.Running == 1 || stats.Data.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lane never ran")
		}
		time.Sleep(time.Millisecond)
	}
	must(t, first.Process.Kill())
	first.Wait()
	before := accepted
	t.Logf("%d buys acknowledged before the kill", before)

	second := startBinary(t, bin, config)
	for range 100 {
		code, env := buy()
		if code == 200 {
			accepted++
			continue
		}
		d, _ := env["data"].(map[string]any)
		refused = append(refused, fmt.Sprint(code, " ", env["error_code"], " ", d["rule"], " ", d["limit"], " ", d["value"]))
		break
	}
	if accepted != limit {
		t.Fatalf("%d buys accepted (%d before the kill); want exactly %d across the kill", accepted, before, limit)
	}
	if want := fmt.Sprintf("422 risk_limit max_orders_per_day %d %d", limit, limit+1); len(refused) != 1 || refused[0] != want {
		t.Fatalf("refusal %v; want %q", refused, want)
	}

	// Halt, kill, restart: still halted.
	var halted map[string]any
	postJSON(t, base+"/risk/halt?reason=drill", "", &halted)
	if halted["success"] != true {
		t.Fatalf("halt: %v", halted)
	}
	// The queued buys the halt cancelled never reach the broker: they no
	// longer count.
	cancelled := len(halted["data"].(map[string]any)["cancelled"].(map[string]any)["sim"].([]any))
	must(t, second.Process.Kill())
	second.Wait()
	third := startBinary(t, bin, config)
	defer stopBinary(t, third)
	var st map[string]any
	getJSON(t, base+"/risk", &st)
	sim := st["data"].(map[string]any)["terminals"].(map[string]any)["sim"].(map[string]any)
	if sim["halted"] != true || sim["orders_today"] != float64(limit-cancelled) {
		t.Fatalf("after the second kill (%d cancelled by the halt): %v", cancelled, sim)
	}
	if code, env := buy(); code != 422 || env["data"].(map[string]any)["rule"] != "halt" {
		t.Fatalf("a buy after the restart: %d %v", code, env)
	}
}

func jsonDecode(resp *http.Response, into any) {
	_ = json.NewDecoder(resp.Body).Decode(into)
}

// TestShippedConfigExamplesLoad uncomments the shipped config.toml's risk
// and schedule examples and loads them, so that the examples stay true.
func TestShippedConfigExamplesLoad(t *testing.T) {
	raw, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		for _, prefix := range []string{"# [risk]", "# [[schedules]]", "# max_", "# price_collar", "# allow", "# deny",
			"# trading_hours", "# holidays", "# name = \"daily", "# operation", "# terminal = \"sim\"", "# params",
			"# cron", "# time_zone", "# missed", "# grace"} {
			if strings.HasPrefix(line, prefix) {
				line = strings.TrimPrefix(line, "# ")
				break
			}
		}
		out = append(out, line)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, path, strings.Join(out, "\n"))
	cfg, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("the shipped examples, uncommented: %v", err)
	}
	limits, err := cfg.riskLimits()
	if err != nil || len(limits) != 1 || limits[0].MaxOrderNotional == nil || limits[0].TradingHours == nil {
		t.Fatalf("risk limits %+v, %v", limits, err)
	}
	specs, err := cfg.scheduleSpecs()
	if err != nil || len(specs) != 1 || specs[0].Operation != "reverse_repo_buy" || specs[0].Cron != "55 14 * * 1-5" {
		t.Fatalf("schedules %+v, %v", specs, err)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRiskAndScheduleConfigErrors(t *testing.T) {
	for _, tt := range []struct{ extra, want string }{
		{"[risk]\nterminal = \"nope\"", `risk[0].terminal "nope" is not a configured terminal`},
		{"[[risk]]\nterminal = \"nope\"", `risk[0].terminal "nope" is not a configured terminal`},
		{"[risk]\nmax_orders = 3", "risk.max_orders: unknown key"},
		{"[[schedules]]\nname = \"x\"\noperation = \"funds_query\"\nterminal = \"nope\"\ncron = \"* * * * *\"", `schedules[0] (x).terminal "nope"`},
		{"[[schedules]]\nname = \"x\"\noperation = \"funds_query\"\ncron = \"61 * * * *\"", "schedules[0] (x).cron"},
		{"[[schedules]]\nname = \"x\"\noperation = \"funds_query\"\ncron = \"* * * * *\"\nbogus = 1", "unknown key schedules.bogus"},
	} {
		path := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, path, simConfig(0, filepath.Join(t.TempDir(), "j.db"), "")+tt.extra)
		_, err := loadConfig(path, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want an error containing %q", tt.extra, err, tt.want)
		}
	}
}

// eventStream reads an /events stream.
type eventStream struct {
	lines chan string
}

func subscribe(t *testing.T, url, key string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &eventStream{lines: make(chan string, 1000)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
		close(s.lines)
	}()
	return s
}

// next returns the data of the next event of the type.
func (s *eventStream) next(t *testing.T, kind string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	matched := false
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("the event stream ended before a %s event", kind)
			}
			if line == "event: "+kind {
				matched = true
			} else if matched && strings.HasPrefix(line, "data: ") {
				return strings.TrimPrefix(line, "data: ")
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}
