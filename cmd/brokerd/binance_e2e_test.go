package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

const (
	binanceE2EKey    = "e2e-binance-api-key-Qm7Zr2Lk"
	binanceE2ESecret = "e2e-binance-secret-Hs9Vx4Pw"
)

// binanceConfig is brokerd with one binance terminal pointed at the peer.
func binanceConfig(peer *binancetest.Server) func(dir string) string {
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
name = "binance"
driver = "binance"
[terminals.options]
url = "` + peer.URL() + `"
rest_url = "` + peer.RESTURL() + `"
stream_url = "` + peer.StreamURL() + `"
api_key_env = "BINANCE_API_KEY"
secret_env = "BINANCE_SECRET"
recv_window = "5s"
request_timeout = "5s"
`
	}
}

// startBrokerdSecrets is startBrokerdWith with an environment for the
// terminals' secrets; it also returns the journal's directory.
func startBrokerdSecrets(t testing.TB, config func(dir string) string, env map[string]string) (base, dir string, logs *lockedBuffer, stop func() error) {
	t.Helper()
	base, logs, stop = startBrokerdEnv(t, func(d string) string { dir = d; return config(d) }, func(k string) string { return env[k] })
	return base, dir, logs, stop
}

// submit posts an operation to the binance terminal and waits for it.
func (c client) submit(name, key string, params map[string]any) answer {
	c.t.Helper()
	body := map[string]any{"terminal": "binance", "params": params}
	if key != "" {
		body["client_id"] = key
	}
	return c.do("POST", "/api/v1/operations/"+name+"?wait=20", body)
}

// result is a waited submit's operation result data.
func (a answer) result() (bool, map[string]any, string) {
	r, _ := a.data()["result"].(map[string]any)
	ok, _ := r["success"].(bool)
	d, _ := r["data"].(map[string]any)
	code, _ := a.body["error_code"].(string)
	return ok, d, code
}

// The binance driver through brokerd's REST API, against the local peer:
// symbol rules at submit, place, query, cancel, two lost answers settled,
// and no secret in the log, the journal, /metrics or /events.
func TestEndToEndBinance(t *testing.T) {
	peer := binancetest.New(binancetest.Config{APIKey: binanceE2EKey, Secret: binanceE2ESecret})
	defer peer.Close()
	base, dir, logs, stop := startBrokerdSecrets(t, binanceConfig(peer), map[string]string{
		"BINANCE_API_KEY": binanceE2EKey, "BINANCE_SECRET": binanceE2ESecret,
	})
	api := client{t: t, base: base, key: e2eKey}

	deadline := time.Now().Add(15 * time.Second)
	for {
		h := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
		terms, _ := h.data()["components"].(map[string]any)["terminals"].(map[string]any)
		if terms["binance"] == "ready" && peer.Stats().Streams == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("binance not ready: %v\n%s", h.body, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// /events, read for the whole session.
	evCtx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	var events lockedBuffer
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		req, _ := http.NewRequestWithContext(evCtx, "GET", base+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		io.Copy(&events, resp.Body)
	}()

	info := api.submit("symbol_info", "", map[string]any{"symbol": "BTCUSDT"})
	if ok, d, _ := info.result(); !ok || d["price_tick"] != "0.1" || d["min_notional"] != "100" {
		t.Fatalf("symbol_info: %v", info.body)
	}

	// Off the tick: a 422 at submit; Binance never sees it.
	offTick := api.do("POST", "/api/v1/operations/place_order", map[string]any{"terminal": "binance",
		"params": map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.05"}})
	if offTick.status != 422 || !strings.Contains(mustJSON(t, offTick.body), "params.price") {
		t.Errorf("off-tick price: %d %v", offTick.status, offTick.body)
	}

	place := api.submit("place_order", "e2e-limit-1", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0"})
	ok, order, _ := place.result()
	if !ok || order["client_order_id"] != "e2e-limit-1" || order["status"] != "NEW" || order["price"] != "40000" {
		t.Fatalf("place_order: %v", place.body)
	}
	orderID, _ := order["order_id"].(string)

	status := api.submit("order_status", "", map[string]any{"symbol": "BTCUSDT", "client_order_id": "e2e-limit-1"})
	if ok, d, _ := status.result(); !ok || d["order_id"] != orderID {
		t.Fatalf("order_status: %v", status.body)
	}
	open := api.submit("open_orders", "", map[string]any{"symbol": "BTCUSDT"})
	if ok, d, _ := open.result(); !ok || d["count"] != float64(1) || !strings.Contains(mustJSON(t, d), orderID) {
		t.Fatalf("open_orders: %v", open.body)
	}
	cancel := api.submit("cancel_order", "", map[string]any{"symbol": "BTCUSDT", "order_id": orderID})
	if ok, d, _ := cancel.result(); !ok || d["status"] != "CANCELED" {
		t.Fatalf("cancel_order: %v", cancel.body)
	}

	// The socket drops after Binance took the order: settled by
	// order.status on the next connection, success, sent once.
	peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropAfter})
	lost := api.submit("place_order", "e2e-lost-1", map[string]any{"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.002"})
	if ok, d, _ := lost.result(); !ok || d["client_order_id"] != "e2e-lost-1" || d["status"] != "FILLED" {
		t.Fatalf("place_order with its answer lost: %v", lost.body)
	}
	// The socket drops before Binance took it: confirmed absent, rejected.
	peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropBefore})
	absent := api.submit("place_order", "e2e-lost-2", map[string]any{"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.002"})
	if ok, _, code := absent.result(); ok || code != "rejected" {
		t.Fatalf("place_order never taken: %v", absent.body)
	}
	for _, cid := range []string{"e2e-limit-1", "e2e-lost-1", "e2e-lost-2"} { // sent once each
		if n := peer.PlaceCount(cid); n != 1 {
			t.Errorf("%s: order.place sent %d times", cid, n)
		}
	}
	// A Binance refusal keeps its code.
	peer.Inject(binancetest.Fault{Method: "order.place", Code: -1022, Msg: "Signature for this request is not valid."})
	refused := api.submit("place_order", "e2e-refused", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0"})
	if ok, _, code := refused.result(); ok || code != "rejected" || !strings.Contains(mustJSON(t, refused.body), "Signature for this request is not valid.") {
		t.Errorf("refused order: %v", refused.body)
	}
	positions := api.submit("position", "", map[string]any{"symbol": "BTCUSDT"})
	if ok, d, _ := positions.result(); !ok || !strings.Contains(mustJSON(t, d), `"quantity":"-0.002"`) {
		t.Errorf("position: %v", positions.body)
	}
	closed := api.submit("close_position", "e2e-close-1", map[string]any{"symbol": "BTCUSDT", "position_side": "SHORT", "quantity": "0.002"})
	if ok, d, _ := closed.result(); !ok || d["side"] != "BUY" || d["reduce_only"] != true || d["status"] != "FILLED" {
		t.Fatalf("close_position: %v", closed.body)
	}
	assets := api.submit("asset", "", nil)
	if ok, d, _ := assets.result(); !ok || !strings.Contains(mustJSON(t, d), `"USDT"`) {
		t.Errorf("asset: %v", assets.body)
	}

	metrics := metricsText(t, base, "")
	if !strings.Contains(metrics, `terminal="binance"`) {
		t.Errorf("/metrics does not name the terminal")
	}

	time.Sleep(200 * time.Millisecond) // the last venue events reach /events
	stopEvents()
	<-evDone
	if err := stop(); err != nil {
		t.Fatalf("run ended with %v", err)
	}
	if !strings.Contains(events.String(), "event: venue") || !strings.Contains(events.String(), "e2e-limit-1") {
		t.Errorf("/events has no venue event for the order:\n%.2000s", events.String())
	}

	journal := journalText(t, dir)
	if !strings.Contains(journal, "e2e-lost-1") {
		t.Fatal("the journal does not hold the operations")
	}
	secrets := map[string]string{"secret": binanceE2ESecret, "api key": binanceE2EKey}
	for i, s := range peer.Signatures() {
		secrets[fmt.Sprint("signature ", i)] = s
	}
	for i, k := range peer.ListenKeys() {
		secrets[fmt.Sprint("listen key ", i)] = k
	}
	noSecrets(t, secrets, map[string]string{"log": logs.String(), "journal": journal, "/metrics": metrics, "/events": events.String()})
}

// The venue's rate limits through brokerd: the order that would break
// Binance's ORDERS limit is refused at submit (rate_limited with
// Retry-After) without reaching Binance, and
// a dropped connection is reconnected under the API without losing an
// order.
func TestEndToEndBinanceLimitsAndDrops(t *testing.T) {
	peer := binancetest.New(binancetest.Config{APIKey: binanceE2EKey, Secret: binanceE2ESecret, RateLimits: []binancetest.RateLimit{
		{Type: "REQUEST_WEIGHT", Interval: "MINUTE", IntervalNum: 1, Limit: 2400},
		{Type: "ORDERS", Interval: "MINUTE", IntervalNum: 1, Limit: 3},
	}})
	defer peer.Close()
	base, _, logs, _ := startBrokerdSecrets(t, binanceConfig(peer), map[string]string{
		"BINANCE_API_KEY": binanceE2EKey, "BINANCE_SECRET": binanceE2ESecret,
	})
	api := client{t: t, base: base, key: e2eKey}
	waitBinanceReady(t, base, logs)
	// Start in a fresh minute window, with time for four orders.
	for time.Now().Second() > 50 {
		time.Sleep(100 * time.Millisecond)
	}
	order := map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0"}
	for i := range 2 {
		if ok, _, _ := api.submit("place_order", fmt.Sprint("lim-", i), order).result(); !ok {
			t.Fatalf("order %d failed", i)
		}
	}
	peer.DropConnections()
	if ok, d, _ := api.submit("place_order", "lim-2", order).result(); !ok || d["client_order_id"] != "lim-2" {
		t.Fatalf("order after a drop failed")
	}
	// Throttled: refused at submit (429 or 503) with Retry-After, nothing queued.
	held := api.submit("place_order", "lim-3", order)
	if ok, _, code := held.result(); ok || code != "rate_limited" || (held.status != 429 && held.status != 503) || held.header.Get("Retry-After") == "" {
		t.Fatalf("fourth order in the minute: %d %v", held.status, held.body)
	}
	if n := peer.PlaceCount("lim-3"); n != 0 {
		t.Errorf("the held order reached Binance %d times", n)
	}
	if s := peer.Stats(); s.Answered429 != 0 || s.Answered418 != 0 {
		t.Errorf("peer stats %+v", s)
	}
}

// waitBinanceReady waits for the binance terminal to be ready.
func waitBinanceReady(t *testing.T, base string, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
		terms, _ := h.data()["components"].(map[string]any)["terminals"].(map[string]any)
		if terms["binance"] == "ready" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("binance not ready: %v\n%s", h.body, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An order whose answer and every lookup are lost before its deadline
// ends outcome_unknown; brokerd's settler asks the driver again afterwards
// (order.status by the client order id) and records what Binance had on
// the operation. order.place is sent once.
func TestEndToEndBinanceSettledAfterTheDeadline(t *testing.T) {
	peer := binancetest.New(binancetest.Config{APIKey: binanceE2EKey, Secret: binanceE2ESecret})
	defer peer.Close()
	base, _, logs, _ := startBrokerdSecrets(t, binanceConfig(peer), map[string]string{
		"BINANCE_API_KEY": binanceE2EKey, "BINANCE_SECRET": binanceE2ESecret,
	})
	api := client{t: t, base: base, key: e2eKey}
	waitBinanceReady(t, base, logs)
	peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultSilent})
	peer.Inject(binancetest.Fault{Method: "order.status", Kind: binancetest.FaultSilent})
	lost := api.do("POST", "/api/v1/operations/place_order?wait=20", map[string]any{
		"terminal": "binance", "client_id": "e2e-unknown-1", "timeout": 2,
		"params": map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0"},
	})
	id, _ := lost.data()["operation_id"].(string)
	if lost.body["error_code"] != "outcome_unknown" || id == "" {
		t.Fatalf("place_order with everything lost: %v", lost.body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := api.do("GET", "/api/v1/operations/"+id+"/status", nil)
		r, _ := st.data()["result"].(map[string]any)
		d, _ := r["data"].(map[string]any)
		if d["settled_at"] != nil {
			if d["settlement"] != "found" || !strings.Contains(mustJSON(t, d), `"client_order_id":"e2e-unknown-1"`) {
				t.Fatalf("settled as %v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %v\n%s", st.body, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := peer.PlaceCount("e2e-unknown-1"); n != 1 {
		t.Errorf("order.place sent %d times", n)
	}
}

// An outage of the WebSocket API shows: the terminal is reconnecting in
// /system/health and on /events, and ready again once Binance is back.
func TestEndToEndBinanceOutageIsVisible(t *testing.T) {
	peer := binancetest.New(binancetest.Config{APIKey: binanceE2EKey, Secret: binanceE2ESecret})
	defer peer.Close()
	base, _, logs, _ := startBrokerdSecrets(t, binanceConfig(peer), map[string]string{
		"BINANCE_API_KEY": binanceE2EKey, "BINANCE_SECRET": binanceE2ESecret,
	})
	waitBinanceReady(t, base, logs)

	evCtx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	var events lockedBuffer
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		req, _ := http.NewRequestWithContext(evCtx, "GET", base+"/api/v1/events?terminal=binance", nil)
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		io.Copy(&events, resp.Body)
	}()

	peer.SetDown(true)
	state := func() string {
		h := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
		terms, _ := h.data()["components"].(map[string]any)["terminals"].(map[string]any)
		s, _ := terms["binance"].(string)
		return s
	}
	deadline := time.Now().Add(15 * time.Second)
	for state() != "reconnecting" {
		if time.Now().After(deadline) {
			t.Fatalf("health never said reconnecting (%s)", state())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for !strings.Contains(events.String(), "reconnecting") {
		if time.Now().After(deadline) {
			t.Fatalf("/events never said reconnecting:\n%s", events.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	peer.SetDown(false)
	waitBinanceReady(t, base, logs)
	stopEvents()
	<-evDone
}

// An Ed25519 key (PKCS#8 PEM file): one session.logon per connection,
// then unsigned orders; the key file's content never reaches the log.
func TestEndToEndBinanceEd25519(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	keyFile := filepath.Join(t.TempDir(), "binance-ed25519.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	peer := binancetest.New(binancetest.Config{APIKey: binanceE2EKey, Ed25519Key: pub})
	defer peer.Close()
	config := func(dir string) string {
		cfg := strings.Replace(binanceConfig(peer)(dir), `secret_env = "BINANCE_SECRET"`, `private_key_file = "`+filepath.ToSlash(keyFile)+`"`, 1)
		return cfg
	}
	base, _, logs, stop := startBrokerdSecrets(t, config, map[string]string{"BINANCE_API_KEY": binanceE2EKey})
	api := client{t: t, base: base, key: e2eKey}
	waitBinanceReady(t, base, logs)
	place := api.submit("place_order", "ed-1", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0"})
	if ok, d, _ := place.result(); !ok || d["client_order_id"] != "ed-1" {
		t.Fatalf("place_order: %v", place.body)
	}
	if n := len(peer.Received("session.logon")); n != 1 {
		t.Errorf("%d logons on one connection", n)
	}
	for _, r := range peer.Received("order.place") {
		if _, signed := r.Params["signature"]; signed {
			t.Error("an order signed on a logged-on connection")
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	seed := base64.StdEncoding.EncodeToString(priv.Seed())
	for _, s := range append([]string{seed, string(pemBytes[28:60]), binanceE2EKey}, peer.Signatures()...) {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds a secret (%.12s…)", s)
		}
	}
}
