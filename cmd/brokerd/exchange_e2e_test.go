package main

import (
	"strings"
	"testing"
)

// exchangeConfig is e2eConfig with a paper exchange beside the sim.
func exchangeConfig(dir string) string {
	return e2eConfig(dir) + `
[[terminals]]
name = "paper"
driver = "paper"
[terminals.options]
quotes = { BTCUSDT = "65000.00" }
balances = { USDT = "10000" }
`
}

// The exchange family through the REST API on the paper exchange: exact
// decimals in and out, rules checked at submit against the symbol, the two
// families kept apart, idempotent orders, a resting order filled by a price
// move, cancel by client order id, and all of it found again after a
// restart.
func TestEndToEndExchange(t *testing.T) {
	dir := t.TempDir() // the journal, shared by both runs
	config := func(string) string { return exchangeConfig(dir) }
	base, _, stop := startBrokerdWith(t, config)
	api := client{t: t, base: base, key: e2eKey}
	submit := func(name string, body map[string]any) answer {
		t.Helper()
		return api.do("POST", "/api/v1/operations/"+name+"?wait=10", body)
	}
	result := func(a answer) map[string]any {
		t.Helper()
		r, _ := a.data()["result"].(map[string]any)
		d, _ := r["data"].(map[string]any)
		if a.status != 200 || d == nil {
			t.Fatalf("no result: %d %v", a.status, a.body)
		}
		return d
	}

	// A limit buy at the quote fills at once; the decimals come back as
	// strings, exact.
	buy := submit("place_order", map[string]any{"terminal": "paper", "client_id": "e2e-buy-1",
		"params": map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.010", "price": "65000.0"}})
	order := result(buy)
	if buy.body["success"] != true || order["status"] != "FILLED" || order["quantity"] != "0.01" ||
		order["avg_price"] != "65000" || order["client_order_id"] != "e2e-buy-1" || order["time_in_force"] != "GTC" {
		t.Fatalf("buy: %v", buy.body)
	}
	again := submit("place_order", map[string]any{"terminal": "paper", "client_id": "e2e-buy-1",
		"params": map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.010", "price": "65000.0"}})
	if again.data()["duplicate"] != true || again.data()["operation_id"] != buy.data()["operation_id"] {
		t.Errorf("the same key placed a second order: %v", again.body)
	}

	// Refused at submit, naming each field: off the tick, a MARKET with
	// a price, an A-share operation on the exchange and the reverse.
	for _, tc := range []struct {
		name, terminal, op string
		params             map[string]any
		code, field        string
	}{
		{"off the tick", "paper", "place_order", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "65000.05"}, "invalid_params", "params.price"},
		{"market with a price", "paper", "place_order", map[string]any{"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.01", "price": "1"}, "invalid_params", "params.price"},
		{"under the minimum notional", "paper", "place_order", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": "1000"}, "invalid_params", "params.quantity"},
		{"a buy on the exchange", "paper", "buy", map[string]any{"stock_code": "600000", "price": 10.5, "quantity": 100}, "unsupported", ""},
		{"place_order on the sim", "sim", "place_order", map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "65000"}, "unsupported", ""},
	} {
		a := api.do("POST", "/api/v1/operations/"+tc.op, map[string]any{"terminal": tc.terminal, "params": tc.params})
		if a.status != 422 || a.body["error_code"] != tc.code || !strings.Contains(mustJSON(t, a.body), tc.field) {
			t.Errorf("%s: %d %v", tc.name, a.status, a.body)
		}
		if tc.code == "unsupported" && !strings.Contains(mustJSON(t, a.body["message"]), `terminal \"`+tc.terminal+`\"`) {
			t.Errorf("%s: the refusal does not name the terminal: %v", tc.name, a.body["message"])
		}
	}

	// A resting sell fills when the price moves through it.
	rest := result(submit("place_order", map[string]any{"terminal": "paper", "client_id": "e2e-sell-1",
		"params": map[string]any{"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.004", "price": "66000"}}))
	if rest["status"] != "NEW" {
		t.Fatalf("resting sell: %v", rest)
	}
	open := result(submit("open_orders", map[string]any{"terminal": "paper", "params": map[string]any{"symbol": "BTCUSDT"}}))
	if open["count"] != float64(1) {
		t.Errorf("open orders: %v", open)
	}
	if q := api.do("POST", "/api/v1/sim/quote", map[string]any{"terminal": "paper", "symbol": "BTCUSDT", "price": "66500.5"}); q.status != 200 || q.data()["price"] != "66500.5" {
		t.Fatalf("set the paper quote: %d %v", q.status, q.body)
	}
	filled := result(submit("order_status", map[string]any{"terminal": "paper", "params": map[string]any{"symbol": "BTCUSDT", "client_order_id": "e2e-sell-1"}}))
	if filled["status"] != "FILLED" || filled["executed_quantity"] != "0.004" {
		t.Errorf("the resting sell did not fill on the move: %v", filled)
	}
	positions := result(submit("position", map[string]any{"terminal": "paper", "params": map[string]any{}}))
	if !strings.Contains(mustJSON(t, positions), `"quantity":"0.006"`) {
		t.Errorf("position after 0.010 bought and 0.004 sold: %v", positions)
	}

	// Cancel by client order id; a second cancel is the venue's refusal.
	result(submit("place_order", map[string]any{"terminal": "paper", "client_id": "e2e-buy-2",
		"params": map[string]any{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.002", "price": "60000"}}))
	cancelled := result(submit("cancel_order", map[string]any{"terminal": "paper", "params": map[string]any{"symbol": "BTCUSDT", "client_order_id": "e2e-buy-2"}}))
	if cancelled["status"] != "CANCELED" {
		t.Errorf("cancel: %v", cancelled)
	}
	twice := submit("cancel_order", map[string]any{"terminal": "paper", "params": map[string]any{"symbol": "BTCUSDT", "client_order_id": "e2e-buy-2"}})
	if twice.body["success"] != false || twice.body["error_code"] != "rejected" {
		t.Errorf("second cancel: %v", twice.body)
	}

	// After a restart the journal and the paper account are as they were.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, _ = startBrokerdWith(t, config)
	api.base = base
	st := api.do("GET", "/api/v1/operations/"+buy.data()["operation_id"].(string)+"/status", nil)
	if st.data()["status"] != "success" || !strings.Contains(mustJSON(t, st.data()["result"]), `"client_order_id":"e2e-buy-1"`) {
		t.Errorf("the buy after a restart: %v", st.body)
	}
	after := result(submit("position", map[string]any{"terminal": "paper", "params": map[string]any{"symbol": "BTCUSDT"}}))
	if !strings.Contains(mustJSON(t, after), `"quantity":"0.006"`) {
		t.Errorf("position after a restart: %v", after)
	}
}
