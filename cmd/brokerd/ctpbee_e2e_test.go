package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

// The CTP account's secrets, in the environment brokerd is given: no log
// line may show them.
var ctpEnv = map[string]string{
	"CTPBEE_AUTH":   "e2e-ctpbee-authorization-31",
	"CTP_USER":      "e2e-ctp-user-8841",
	"CTP_PASSWORD":  "e2e-ctp-password-x9Q",
	"CTP_AUTH_CODE": "e2e-ctp-authcode-0000",
}

func ctpConfig(peerURL string) func(dir string) string {
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
name = "ctp"
driver = "ctpbee"
[terminals.options]
url = "` + peerURL + `"
authorization_env = "CTPBEE_AUTH"
userid_env = "CTP_USER"
password_env = "CTP_PASSWORD"
brokerid = "9999"
auth_code_env = "CTP_AUTH_CODE"
appid = "simnow_client_test"
interface = "ctp"
td_address = "tcp://127.0.0.1:10130"
md_address = "tcp://127.0.0.1:10131"
request_timeout = "5s"
`
	}
}

// startBrokerdCTP is startBrokerdWith with the CTP secrets in the
// environment run is given.
func startBrokerdCTP(t *testing.T, config func(dir string) string) (base string, logs *lockedBuffer) {
	t.Helper()
	base, logs, _ = startBrokerdEnv(t, config, func(k string) string { return ctpEnv[k] })
	return base, logs
}

// A futures trader through brokerd's REST API on a CTP account behind
// ctpbee_backend: open long, close today's lots, cancel a resting order,
// and an order whose answer was lost, settled once and never resent.
func TestEndToEndCTPFutures(t *testing.T) {
	peer := ctpbeetest.New(ctpbeetest.Config{
		Authorization: ctpEnv["CTPBEE_AUTH"], UserID: ctpEnv["CTP_USER"], Password: ctpEnv["CTP_PASSWORD"],
	})
	defer peer.Close()
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPosition("rb2501.SHFE", "long", 0, 2, 3400) // yesterday's lots
	base, logs := startBrokerdCTP(t, ctpConfig(peer.URL))
	api := client{t: t, base: base, key: e2eKey}

	// The terminal logs in in the background.
	deadline := time.Now().Add(10 * time.Second) // a failure guard only
	for {
		h := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
		if terms, _ := h.data()["components"].(map[string]any)["terminals"].(map[string]any); terms["ctp"] == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ctp terminal is not ready: %v\n%s", h.body, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	placeOrder := func(params map[string]any, key string) answer {
		t.Helper()
		body := map[string]any{"params": params}
		if key != "" {
			body["client_id"] = key // the body's form of Idempotency-Key
		}
		return api.do("POST", "/api/v1/operations/place_order?wait=15", body)
	}
	resultOf := func(a answer) (status string, data map[string]any) {
		t.Helper()
		if a.status != 200 {
			t.Fatalf("submit: %d %v", a.status, a.body)
		}
		r, _ := a.data()["result"].(map[string]any)
		d, _ := r["data"].(map[string]any)
		s, _ := a.data()["status"].(string)
		return s, d
	}

	// Open long: a marketable buy fills.
	status, order := resultOf(placeOrder(map[string]any{
		"symbol": "rb2501.SHFE", "side": "BUY", "type": "LIMIT", "quantity": "2", "price": "3500", "offset": "OPEN",
	}, ""))
	if status != "success" || order["status"] != "FILLED" || order["offset"] != "OPEN" || order["position_side"] != "LONG" {
		t.Fatalf("open long: %s %v", status, order)
	}
	if p := peer.PositionOf("rb2501.SHFE", "long"); p != (ctpbeetest.Position{Today: 2, Yesterday: 2}) {
		t.Fatalf("position after the open: %+v", p)
	}

	// A fractional lot and a close beyond the position are refused at
	// submit, naming quantity.
	for _, params := range []map[string]any{
		{"symbol": "rb2501.SHFE", "side": "BUY", "quantity": "1.5", "price": "3500"},
		{"symbol": "rb2501.SHFE", "side": "SELL", "quantity": "9", "price": "3500", "offset": "CLOSE_TODAY"},
	} {
		a := api.do("POST", "/api/v1/operations/place_order", map[string]any{"params": params})
		if a.status != 422 || !strings.Contains(mustJSON(t, a.body["data"]), "params.quantity") {
			t.Errorf("refused at submit: %d %v", a.status, a.body)
		}
	}

	// Close today's lots with close_position: on SHFE the backend closes
	// today's first (平今).
	closed := api.do("POST", "/api/v1/operations/close_position?wait=15", map[string]any{"params": map[string]any{
		"symbol": "rb2501.SHFE", "position_side": "LONG", "quantity": "2",
	}})
	status, order = resultOf(closed)
	if status != "success" || order["offset"] != "CLOSE_TODAY" || order["status"] != "FILLED" || order["side"] != "SELL" {
		t.Fatalf("close today: %s %v", status, closed.body)
	}
	if p := peer.PositionOf("rb2501.SHFE", "long"); p != (ctpbeetest.Position{Today: 0, Yesterday: 2}) {
		t.Fatalf("position after closing today's lots: %+v", p)
	}

	// Cancel a resting order.
	status, resting := resultOf(placeOrder(map[string]any{
		"symbol": "rb2501.SHFE", "side": "BUY", "quantity": "1", "price": "3300",
	}, ""))
	if status != "success" || resting["status"] != "NEW" {
		t.Fatalf("resting order: %s %v", status, resting)
	}
	cancelled := api.do("POST", "/api/v1/operations/cancel_order?wait=15", map[string]any{"params": map[string]any{
		"symbol": "rb2501.SHFE", "order_id": resting["order_id"],
	}})
	if status, order := resultOf(cancelled); status != "success" || order["status"] != "CANCELED" {
		t.Fatalf("cancel: %s %v", status, cancelled.body)
	}

	// A lost answer: the backend takes the order and drops the
	// connection. brokerd settles it from the book, once; the same key
	// again is the same operation, not a second order.
	peer.DropNextAnswer()
	before := peer.OrdersReceived()
	params := map[string]any{"symbol": "rb2501.SHFE", "side": "SELL", "quantity": "1", "price": "3600", "offset": "OPEN"}
	first := placeOrder(params, "ctp-lost-answer-1")
	status, lost := resultOf(first)
	if status != "success" || lost["status"] != "NEW" || lost["client_order_id"] != "ctp-lost-answer-1" {
		t.Fatalf("lost answer: %s %v", status, first.body)
	}
	if !strings.Contains(logs.String(), "the answer to an order was lost") {
		t.Errorf("the answer was not lost:\n%s", logs.String())
	}
	again := placeOrder(params, "ctp-lost-answer-1")
	if again.data()["operation_id"] != first.data()["operation_id"] || again.data()["duplicate"] != true {
		t.Errorf("the same key made another operation: %v", again.body)
	}
	if n := peer.OrdersReceived() - before; n != 1 {
		t.Errorf("%d orders reached CTP for one place_order, want 1", n)
	}

	positions := api.do("POST", "/api/v1/operations/position?wait=15", map[string]any{"params": map[string]any{"symbol": "rb2501.SHFE"}})
	if !strings.Contains(mustJSON(t, positions.data()), `"yesterday_quantity":"2"`) {
		t.Errorf("positions: %v", positions.body)
	}

	for _, p := range []string{"/strategy", "/check_code", "/run_code", "/code"} {
		if n := peer.Requests(p); n != 0 {
			t.Errorf("brokerd called %s %d times", p, n)
		}
	}
	for name, secret := range ctpEnv {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %s", name)
		}
	}
}
