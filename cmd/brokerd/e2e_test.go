package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/brokerd/brokerd/automation"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const e2eKey = "e2e-secret-key-0123456789abcdef"

// e2eConfig is a config.toml for the test: an ephemeral port, a journal in
// a temporary directory, the sim with fixed prices.
func e2eConfig(dir string) string {
	return `
[api]
host = "127.0.0.1"
port = 0
key = "` + e2eKey + `"

[store]
path = "` + filepath.ToSlash(filepath.Join(dir, "brokerd.db")) + `"

[log]
level = "debug"

[[terminals]]
name = "sim"
driver = "sim"
[terminals.options]
initial_cash = 1000000
latency = "0s"
volatility = 0.0
quotes = { "600000" = 10.50 }
positions = { "600000" = 1000 }
`
}

// lockedBuffer collects the log safely while run writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBrokerd runs run() on a free port and returns its base URL; the
// returned stop shuts it down and reports run's error.
func startBrokerd(t *testing.T) (base string, logs *lockedBuffer, stop func() error) {
	t.Helper()
	return startBrokerdWith(t, e2eConfig)
}

// startBrokerdWith is startBrokerd with the config that config(dir) gives.
func startBrokerdWith(t *testing.T, config func(dir string) string) (base string, logs *lockedBuffer, stop func() error) {
	t.Helper()
	return startBrokerdEnv(t, config, func(string) string { return "" })
}

// startBrokerdEnv is startBrokerdWith with an environment (for the *_env
// secrets of drivers).
func startBrokerdEnv(t testing.TB, config func(dir string) string, getenv func(string) string) (base string, logs *lockedBuffer, stop func() error) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	logs = &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-config", cfgPath}, getenv, stdoutW, logs)
		stdoutW.Close()
		done <- err
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "brokerd listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	select {
	case base = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("brokerd did not start: %v\n%s", err, logs.String())
	}
	if base == "" {
		cancel()
		t.Fatalf("brokerd did not say where it listens:\n%s", logs.String())
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

// client is a script's view of the API: requests as the seed's Python
// example makes them.
type client struct {
	t    *testing.T
	base string
	key  string
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (c client) do(method, path string, body any) answer {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		c.t.Fatalf("%s %s: %d, not JSON: %v", method, path, resp.StatusCode, err)
	}
	for _, k := range []string{"success", "message", "data", "error_code", "timestamp"} {
		if _, ok := a.body[k]; !ok {
			c.t.Fatalf("%s %s: the envelope lacks %q: %v", method, path, k, a.body)
		}
	}
	return a
}

func (a answer) data() map[string]any {
	d, _ := a.body["data"].(map[string]any)
	return d
}

// The seed's Python example and curl examples, unchanged, against the
// real brokerd with the sim.
func TestEndToEndEasyTHSScript(t *testing.T) {
	base, logs, stop := startBrokerd(t)
	api := client{t: t, base: base, key: e2eKey}

	// curl http://127.0.0.1:7648/api/v1/system/health — no key needed.
	health := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
	if health.status != 200 || health.data()["status"] != "healthy" {
		t.Fatalf("health: %d %v", health.status, health.body)
	}
	if terms, _ := health.data()["components"].(map[string]any)["terminals"].(map[string]any); terms["sim"] != "ready" {
		t.Errorf("health components: %v", health.data()["components"])
	}

	// Without the key, a trade is refused.
	if a := (client{t: t, base: base}).do("POST", "/api/v1/operations/buy",
		map[string]any{"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}}); a.status != 401 {
		t.Fatalf("buy without a key: %d", a.status)
	}

	// response = requests.post(f"{base_url}/api/v1/operations/buy", headers=headers, json={...})
	// operation_id = response.json()["data"]["operation_id"]
	buy := api.do("POST", "/api/v1/operations/buy", map[string]any{
		"params":   map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100},
		"priority": 5,
	})
	if buy.status != 200 || buy.body["success"] != true {
		t.Fatalf("buy: %d %v", buy.status, buy.body)
	}
	operationID, _ := buy.data()["operation_id"].(string)
	if operationID == "" || buy.data()["status"] != "queued" {
		t.Fatalf("buy answer: %v", buy.body)
	}
	if _, ok := buy.data()["queue_position"]; !ok {
		t.Error("no queue_position")
	}

	// The result, blocking (GET …/result), as EasyTHS shapes it.
	result := api.do("GET", "/api/v1/operations/"+operationID+"/result?timeout=10", nil)
	if result.status != 200 || result.body["success"] != true {
		t.Fatalf("buy result: %d %v", result.status, result.body)
	}
	if no, _ := result.data()["contract_no"].(string); no == "" {
		t.Errorf("the buy result carries no contract number: %v", result.data())
	}

	// status = requests.get(f"{base_url}/api/v1/operations/{operation_id}/status", headers=headers)
	status := api.do("GET", "/api/v1/operations/"+operationID+"/status", nil)
	sd := status.data()
	if status.status != 200 || sd["operation_id"] != operationID || sd["name"] != "buy" || sd["status"] != "success" {
		t.Fatalf("status: %d %v", status.status, status.body)
	}
	if r, _ := sd["result"].(map[string]any); r["success"] != true || r["data"] == nil {
		t.Errorf("status result: %v", sd["result"])
	}

	// response = requests.post(f"{base_url}/api/v1/operations/holding_query", headers=headers,
	//                          json={"params": {"return_type": "json"}})
	holding := api.do("POST", "/api/v1/operations/holding_query?wait=10", map[string]any{"params": map[string]any{"return_type": "json"}})
	if holding.status != 200 || holding.body["success"] != true {
		t.Fatalf("holding_query: %d %v", holding.status, holding.body)
	}
	if r, _ := holding.data()["result"].(map[string]any); r == nil || r["success"] != true || !strings.Contains(mustJSON(t, r["data"]), "600000") {
		t.Errorf("holding_query result lacks the position in 600000: %v", holding.data())
	}

	// The curl buy: no priority, same key.
	curlBuy := api.do("POST", "/api/v1/operations/buy", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100},
	})
	if curlBuy.status != 200 || curlBuy.data()["status"] != "queued" {
		t.Fatalf("curl buy: %d %v", curlBuy.status, curlBuy.body)
	}

	// A bad request is refused at submit, naming the field.
	bad := api.do("POST", "/api/v1/operations/buy", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 150},
	})
	if bad.status != 422 || bad.body["error_code"] != "invalid_params" || !strings.Contains(mustJSON(t, bad.body["data"]), "params.quantity") {
		t.Errorf("bad quantity: %d %v", bad.status, bad.body)
	}

	// The operation list, stats and the docs.
	ops := api.do("GET", "/api/v1/operations/", nil)
	// Both families are listed, each with the terminals that take it.
	if n, _ := ops.data()["count"].(float64); ops.status != 200 || int(n) != len(automation.StockOperations)+len(automation.ExchangeOperations) {
		t.Errorf("operations: %d %v", ops.status, ops.data()["count"])
	}
	stats := api.do("GET", "/api/v1/queue/stats", nil)
	if s, _ := stats.data()["success_count"].(float64); s < 2 {
		t.Errorf("stats: %v", stats.data())
	}
	resp, err := http.Get(base + "/docs/doc.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(spec, []byte(`"/operations/holding_query"`)) {
		t.Errorf("doc.json: %d", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("run ended with %v", err)
	}
	if strings.Contains(logs.String(), e2eKey) {
		t.Error("the API key is in the log")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Shutdown while a client waits on a result: the waiter is answered and
// run returns without error within its budget.
func TestEndToEndShutdownReleasesWaiters(t *testing.T) {
	base, _, stop := startBrokerd(t)
	api := client{t: t, base: base, key: e2eKey}
	if a := api.do("POST", "/api/v1/queue/pause", nil); a.status != 200 {
		t.Fatalf("pause: %d", a.status)
	}
	id, _ := api.do("POST", "/api/v1/operations/funds_query", map[string]any{}).data()["operation_id"].(string)
	answered := make(chan answer, 1)
	go func() { answered <- api.do("GET", "/api/v1/operations/"+id+"/result", nil) }()
	// The waiter is counted once it blocks.
	for {
		st := api.do("GET", "/api/v1/system/status", nil)
		if ev, _ := st.data()["events"].(map[string]any); ev["result_waiters"] == float64(1) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("run ended with %v", err)
	}
	a := <-answered
	if a.status != http.StatusServiceUnavailable || a.body["error_code"] != "unavailable" {
		t.Fatalf("waiter: %d %v", a.status, a.body)
	}
}
