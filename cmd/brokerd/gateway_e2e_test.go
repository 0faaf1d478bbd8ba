package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// gatewayConfig is two driver = "gateway" terminals on one peer: two
// platforms on one socket, the keys in the environment.
func gatewayConfig(url string) func(dir string) string {
	return func(dir string) string {
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
name = "huobi"
driver = "gateway"
[terminals.options]
url = "` + url + `"
platform = "huobi"
symbols = ["BTC/USDT", "ETH/USDT"]
access_key_env = "HUOBI_ACCESS_KEY"
secret_key_env = "HUOBI_SECRET_KEY"
request_timeout = "2s"

[[terminals]]
name = "okex"
driver = "gateway"
[terminals.options]
url = "` + url + `"
platform = "okex_future"
symbols = ["BTC/USDT"]
futures = true
access_key_env = "OKEX_ACCESS_KEY"
secret_key_env = "OKEX_SECRET_KEY"
request_timeout = "2s"
`
	}
}

var gatewayKeys = map[string]string{
	"HUOBI_ACCESS_KEY": "huobi-access-5d1e8a", "HUOBI_SECRET_KEY": "huobi-secret-77c0f2b9",
	"OKEX_ACCESS_KEY": "okex-access-0a9b3c", "OKEX_SECRET_KEY": "okex-secret-4e6d1f2a",
}

func health(t *testing.T, base string) map[string]any {
	t.Helper()
	a := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
	terms, _ := a.data()["components"].(map[string]any)["terminals"].(map[string]any)
	return terms
}

func waitHealth(t *testing.T, base string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		terms := health(t, base)
		ok := true
		for name, st := range want {
			if terms[name] != st {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %v, want %v", terms, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// placeVia submits place_order to one terminal and waits for its result.
func placeVia(t *testing.T, api client, terminal, idempotencyKey string, params map[string]any) answer {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"terminal": terminal, "params": params})
	req, _ := http.NewRequest("POST", api.base+"/api/v1/operations/place_order?wait=10", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+api.key)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatal(err)
	}
	return a
}

// resultData is an operation's result data, once it succeeded.
func resultData(t *testing.T, a answer) map[string]any {
	t.Helper()
	r, _ := a.data()["result"].(map[string]any)
	if a.status != 200 || r == nil || r["success"] != true {
		t.Fatalf("operation did not succeed: %d %v", a.status, a.body)
	}
	d, _ := r["data"].(map[string]any)
	return d
}

func TestEndToEndGatewayTwoPlatforms(t *testing.T) {
	peer := gatewaytest.New(gatewaytest.Config{})
	t.Cleanup(peer.Close)
	peer.SetPrice("BTC/USDT", decimal.NewFromInt(100))
	var dir string // the journal's, for the secrets check
	config := gatewayConfig(peer.URL)
	base, logs, stop := startBrokerdEnv(t, func(d string) string { dir = d; return config(d) }, func(k string) string { return gatewayKeys[k] })
	api := client{t: t, base: base, key: e2eKey}

	waitHealth(t, base, map[string]string{"huobi": "ready", "okex": "ready"})
	if n := peer.Connections(); n != 1 {
		t.Fatalf("%d sockets for two platforms on one url", n)
	}

	// Venue events reach /events.
	events, closeEvents := openEvents(t, base)
	defer closeEvents()

	// Trade both through the REST API.
	h := resultData(t, placeVia(t, api, "huobi", "e2e-huobi-1", map[string]any{
		"symbol": "BTC/USDT", "side": "BUY", "type": "LIMIT", "quantity": "0.5", "price": "90.10"}))
	if h["order_id"] == "" || h["status"] != "NEW" || h["price"] != "90.1" || h["symbol"] != "BTC/USDT" {
		t.Fatalf("huobi order %v", h)
	}
	o := resultData(t, placeVia(t, api, "okex", "", map[string]any{
		"symbol": "BTC/USDT", "side": "SELL", "type": "MARKET", "quantity": "2", "position_side": "SHORT"}))
	if o["order_id"] == "" || o["position_side"] != "SHORT" {
		t.Fatalf("okex order %v", o)
	}
	// The same Idempotency-Key again: the same operation, no second order.
	again := resultData(t, placeVia(t, api, "huobi", "e2e-huobi-1", map[string]any{
		"symbol": "BTC/USDT", "side": "BUY", "type": "LIMIT", "quantity": "0.5", "price": "90.10"}))
	if again["order_id"] != h["order_id"] {
		t.Fatalf("idempotent retry answered %v, first %v", again, h)
	}
	if peer.PlaceOrders("huobi") != 1 || peer.PlaceOrders("okex_future") != 1 {
		t.Fatalf("place_order reached the peer: huobi %d, okex %d", peer.PlaceOrders("huobi"), peer.PlaceOrders("okex_future"))
	}

	// The symbol's cached rules refuse a price off the tick at submit.
	off := placeVia(t, api, "huobi", "", map[string]any{"symbol": "BTC/USDT", "side": "BUY", "type": "LIMIT", "quantity": "0.5", "price": "90.005"})
	if off.status != 422 || !strings.Contains(mustJSON(t, off.body), "price") {
		t.Fatalf("price off the tick: %d %v", off.status, off.body)
	}
	if peer.PlaceOrders("huobi") != 1 {
		t.Fatal("an order refused at submit reached the gateway")
	}

	open := api.do("POST", "/api/v1/operations/open_orders?wait=10", map[string]any{"terminal": "huobi", "params": map[string]any{"symbol": "BTC/USDT"}})
	if od := resultData(t, open); od["count"] != float64(1) {
		t.Fatalf("open orders %v", od)
	}
	cancel := api.do("POST", "/api/v1/operations/cancel_order?wait=10", map[string]any{"terminal": "huobi",
		"params": map[string]any{"symbol": "BTC/USDT", "order_id": h["order_id"]}})
	if cd := resultData(t, cancel); cd["status"] != "CANCELED" {
		t.Fatalf("cancel %v", cd)
	}
	pos := api.do("POST", "/api/v1/operations/position?wait=10", map[string]any{"terminal": "okex", "params": map[string]any{"symbol": "BTC/USDT"}})
	if pd := resultData(t, pos); !strings.Contains(mustJSON(t, pd), `"quantity":"-2"`) {
		t.Fatalf("okex position %v", pd)
	}
	if !events.waitFor(t, `"terminal":"okex"`, `"kind":"fill"`) {
		t.Fatal("no fill event of okex on /events")
	}

	// Each lane's health follows its platform's state notices.
	peer.SendState("huobi", gatewaytest.StateDisconnect, "exchange link lost")
	peer.SendState("huobi", gatewaytest.StateReconnecting, "redialling")
	waitHealth(t, base, map[string]string{"huobi": "reconnecting", "okex": "ready"})
	if !metricUp(t, base, "huobi", "0") || !metricUp(t, base, "okex", "1") {
		t.Fatal("brokerd_terminal_up does not follow the states")
	}
	// okex trades on meanwhile.
	resultData(t, placeVia(t, api, "okex", "", map[string]any{"symbol": "BTC/USDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "50", "position_side": "LONG"}))
	peer.SendState("huobi", gatewaytest.StateReady, "")
	waitHealth(t, base, map[string]string{"huobi": "ready", "okex": "ready"})
	peer.SendState("okex_future", gatewaytest.StateGeneralError, "okex trouble")
	waitHealth(t, base, map[string]string{"huobi": "ready", "okex": "error"})
	resultData(t, placeVia(t, api, "huobi", "", map[string]any{"symbol": "ETH/USDT", "side": "SELL", "type": "LIMIT", "quantity": "1", "price": "120"}))
	peer.SendState("okex_future", gatewaytest.StateReady, "")
	waitHealth(t, base, map[string]string{"huobi": "ready", "okex": "ready"})

	// A lost answer with two orders that fit it: outcome_unknown, with
	// both in the operation's data; never resent.
	peer.SwallowOn("place_order", false)
	sent := peer.PlaceOrders("huobi")
	lost := make(chan answer, 1)
	go func() {
		lost <- placeVia(t, api, "huobi", "", map[string]any{"symbol": "BTC/USDT", "side": "BUY", "type": "LIMIT", "quantity": "3", "price": "77"})
	}()
	for deadline := time.Now().Add(10 * time.Second); peer.PlaceOrders("huobi") == sent; {
		if time.Now().After(deadline) {
			t.Fatal("the place_order never reached the peer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	now := time.Now().UnixMilli()
	for _, no := range []string{"9001", "9002"} {
		peer.Notify("huobi", "order", map[string]any{"symbol": "BTC/USDT", "order_no": no, "action": "BUY", "price": 77,
			"quantity": 3, "remain": 3, "status": "SUBMITTED", "order_type": "LIMIT", "ctime": now, "utime": now})
	}
	la := <-lost
	lr, _ := la.data()["result"].(map[string]any)
	if lr == nil || lr["success"] != false || !strings.Contains(mustJSON(t, la.body), "outcome_unknown") ||
		!strings.Contains(mustJSON(t, lr["data"]), `"candidates"`) || !strings.Contains(mustJSON(t, lr["data"]), "9001") || !strings.Contains(mustJSON(t, lr["data"]), "9002") {
		t.Fatalf("lost answer with two candidates: %v", la.body)
	}
	if peer.PlaceOrders("huobi") != sent+1 {
		t.Fatal("a lost place_order was resent")
	}

	metrics := metricsText(t, base, e2eKey)
	if err := stop(); err != nil {
		t.Fatalf("run ended with %v", err)
	}
	noSecrets(t, gatewayKeys, map[string]string{
		"log": logs.String(), "journal": journalText(t, dir), "/metrics": metrics, "/events": events.seen(),
	})
	if peer.Connections() != 0 {
		t.Errorf("%d sockets left after brokerd stopped", peer.Connections())
	}
}

func metricUp(t *testing.T, base, terminal, want string) bool {
	t.Helper()
	return strings.Contains(metricsText(t, base, e2eKey), `brokerd_terminal_up{terminal="`+terminal+`"} `+want)
}

// eventLines reads /events in the background.
type eventLines struct {
	lines chan string
	all   *lockedBuffer
}

func openEvents(t *testing.T, base string) (*eventLines, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("events: %v %v", err, resp)
	}
	e := &eventLines{lines: make(chan string, 1024), all: &lockedBuffer{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			e.all.Write([]byte(sc.Text() + "\n"))
			select {
			case e.lines <- sc.Text():
			default:
			}
		}
	}()
	return e, func() { cancel(); resp.Body.Close(); <-done }
}

// waitFor reports whether a line with every part arrives in time.
func (e *eventLines) waitFor(t *testing.T, parts ...string) bool {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-e.lines:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return true
			}
		case <-deadline:
			t.Logf("events seen:\n%s", e.all.String())
			return false
		}
	}
}

func (e *eventLines) seen() string { return e.all.String() }
