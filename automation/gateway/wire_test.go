package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

func TestOrderStatusMapping(t *testing.T) {
	for in, want := range map[string]automation.OrderStatus{
		"NONE": automation.StatusNew, "SUBMITTED": automation.StatusNew, "PARTIAL-FILLED": automation.StatusPartiallyFilled,
		"FILLED": automation.StatusFilled, "CANCELED": automation.StatusCanceled, "FAILED": automation.StatusRejected,
	} {
		got, err := orderStatus(in)
		if err != nil || got != want {
			t.Errorf("%s → %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := orderStatus("LOST"); err == nil {
		t.Error("an unknown status was guessed")
	}
}

// The seed's own examples decode to what they say.
func TestSeedExamples(t *testing.T) {
	var openOrders = `{"op":"open_orders","cid":"xxxxx","result":true,"error_message":"","data":[
{"order_no":"2510832677225473","action":"BUY","price":2289.6,"quantity":23,"remain":11,"status":"PARTIAL-FILLED","order_type":"LIMIT","ctime":1530604762277,"utime":1530604762278},
{"order_no":"2510832677225474","action":"SELL","price":2189.6,"quantity":24.6,"remain":0,"status":"SUBMITTED","order_type":"LIMIT","ctime":1530604762222,"utime":1530604762311}]}`
	f, err := decodeFrame([]byte(openOrders))
	if err != nil || !f.ok() || f.Cid != "xxxxx" {
		t.Fatal(f, err)
	}
	var ws []wireOrder
	if err := json.Unmarshal(f.Data, &ws); err != nil {
		t.Fatal(err)
	}
	o, err := ws[0].exchangeOrder("ETH/USDT", false)
	if err != nil || o.Status != automation.StatusPartiallyFilled || !o.ExecutedQuantity.Equal(decimal.RequireFromString("12")) ||
		!o.Price.Equal(decimal.RequireFromString("2289.6")) || o.Symbol != "ETH/USDT" || o.UpdatedAt.UnixMilli() != 1530604762278 {
		t.Fatalf("%+v %v", o, err)
	}
	assets, err := decodeAssets(json.RawMessage(`{"BTC":{"free":1.1,"locked":2.2,"total":3.3},"ETH":{"free":1.1,"locked":2.2,"total":3.3}}`))
	if err != nil || len(assets) != 2 || assets[0].Asset != "BTC" || !assets[0].Balance.Equal(decimal.RequireFromString("3.3")) || !assets[0].Available.Equal(decimal.RequireFromString("1.1")) {
		t.Fatalf("%+v %v", assets, err)
	}
	st, _ := decodeFrame([]byte(`{"op":"state","token":"xxxxxxxxxxx","code":5,"msg":"xxxxxx"}`))
	if st.code() != stateReconnecting || st.Token != "xxxxxxxxxxx" {
		t.Fatalf("%+v", st)
	}
	// A Python dict repr as error_message, and as an object.
	for _, b := range []string{`{"op":"error","error_message":"{'code': 1}"}`, `{"op":"error","error_message":{"code":1}}`} {
		e, err := decodeFrame([]byte(b))
		if err != nil || !strings.Contains(string(e.ErrorMessage), "code") || e.Cid != "" {
			t.Fatalf("%s: %+v %v", b, e, err)
		}
	}
}

func TestNumbersGoOutAsJSONNumbers(t *testing.T) {
	b, _ := json.Marshal(request{Op: "place_order", Price: num(decimal.RequireFromString("219.240")), Quantity: num(decimal.RequireFromString("-5.6"))})
	if !strings.Contains(string(b), `"price":219.24`) || !strings.Contains(string(b), `"quantity":-5.6`) {
		t.Fatal(string(b))
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"op":"login","cid":"xxxxx","result":true,"error_message":"","token":"xxxxxxxxxxx"}`,
		`{"op":"place_order","cid":"xxxxx","result":true,"error_message":"","order_no":"xxxxxxxxxx"}`,
		`{"op":"cancel_order","cid":"c","result":true,"error_message":"","data":[{"result":true,"error_message":"","order_no":"2510832677225473"}]}`,
		`{"op":"open_orders","cid":"c","result":true,"data":[{"order_no":"1","action":"BUY","price":2289.6,"quantity":-23,"remain":11,"status":"PARTIAL-FILLED","order_type":"IOC","ctime":1530604762277,"utime":1e3}]}`,
		`{"op":"notify","topic":"fill","token":"t","data":{"symbol":"ETH/USDT","order_no":"2510832677225474","fill_no":"9302836","price":2189.6,"quantity":24.6,"side":"SELL","liquidity":"TAKER","ctime":1530604762311}}`,
		`{"op":"notify","topic":"position","token":"t","data":{"symbol":"ETH/USDT","margin_mode":"crossed","long_quantity":"3","short_quantity":-2,"utime":1530604762311}}`,
		`{"op":"symbol_info","cid":"c","result":true,"data":{"price_tick":0.01,"size_tick":1,"size_limit":10,"value_tick":1,"value_limit":10,"base_currency":"ETH","quote_currency":"USDT"}}`,
		`{"op":"asset","cid":"c","result":true,"data":{"BTC":{"free":1.1,"locked":2.2,"total":3.3}}}`,
		`{"op":"state","token":"t","code":6,"msg":null}`,
		`{"op":"pong","ts":1530604762311}`,
		`{"op":"error","error_message":{"a":[1,2]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		_ = fr.code()
		var ws []wireOrder
		if json.Unmarshal(fr.Data, &ws) == nil {
			for _, w := range ws {
				for _, futures := range []bool{false, true} {
					o, err := w.exchangeOrder("X/Y", futures)
					if err != nil {
						continue
					}
					if o.Quantity.IsNegative() || o.ExecutedQuantity.IsNegative() || o.ExecutedQuantity.GreaterThan(o.Quantity) {
						t.Fatalf("quantities %s executed %s", o.Quantity, o.ExecutedQuantity)
					}
					switch o.Status {
					case automation.StatusNew, automation.StatusPartiallyFilled, automation.StatusFilled, automation.StatusCanceled, automation.StatusRejected:
					default:
						t.Fatalf("status %q", o.Status)
					}
				}
			}
		}
		var w wireOrder
		if json.Unmarshal(fr.Data, &w) == nil {
			w.exchangeOrder("", true)
		}
		var p wirePosition
		if json.Unmarshal(fr.Data, &p) == nil {
			for _, ps := range p.positions("X/Y") {
				if (ps.PositionSide == automation.PositionLong) != ps.Quantity.IsPositive() {
					t.Fatalf("position %+v", ps)
				}
			}
		}
		decodeAssets(fr.Data)
		var fl wireFill
		if json.Unmarshal(fr.Data, &fl) == nil {
			fl.fill()
		}
		var sy wireSymbol
		if json.Unmarshal(fr.Data, &sy) == nil {
			sy.symbolInfo("X/Y")
		}
		// An amount goes back out as the same number.
		var a amount
		if a.UnmarshalJSON(fr.Data) == nil {
			out, _ := number(a.Decimal).MarshalJSON()
			var back amount
			if err := back.UnmarshalJSON(out); err != nil || !back.Equal(a.Decimal) {
				t.Fatalf("%s → %s → %v %v", fr.Data, out, back, err)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	base := func() tomlOptions {
		return tomlOptions{"url": "ws://127.0.0.1:9878/ws/v1", "platform": "huobi", "symbols": []string{"BTC/USDT"},
			"access_key_env": "A", "secret_key_env": "S"}
	}
	env := automation.Env{Getenv: func(k string) string { return map[string]string{"A": "ak-value", "S": "sk-value"}[k] }}
	for _, tc := range []struct {
		name string
		edit func(tomlOptions)
		want string
	}{
		{"unknown key", func(o tomlOptions) { o["secret_key"] = "x" }, "strict"}, // brokerd names the key
		{"http url", func(o tomlOptions) { o["url"] = "http://x/ws" }, "url"},
		{"no platform", func(o tomlOptions) { delete(o, "platform") }, "platform"},
		{"no symbols", func(o tomlOptions) { o["symbols"] = []string{} }, "symbols"},
		{"no access env", func(o tomlOptions) { delete(o, "access_key_env") }, "access_key_env"},
		{"unset variable", func(o tomlOptions) { o["secret_key_env"] = "NOPE" }, "NOPE"},
		{"bad duration", func(o tomlOptions) { o["login_timeout"] = "soon" }, "soon"},
		{"pong before ping", func(o tomlOptions) { o["pong_timeout"] = "1s" }, "pong_timeout"},
		{"negative", func(o tomlOptions) { o["request_timeout"] = "-1s" }, "request_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.edit(o)
			_, err := (&Hub{}).Open(t.Context(), "x", o, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "sk-value") || strings.Contains(err.Error(), "ak-value") {
				t.Fatal("a key in the error")
			}
		})
	}
	d := DefaultOptions()
	if d.LoginTimeout.Value().String() != "30s" || d.PingEvery.Value().String() != "5s" || d.PongTimeout.Value().String() != "15s" {
		t.Fatalf("defaults %+v", d)
	}
}

func TestBackoffDoublesWithJitterWithinBounds(t *testing.T) {
	c := &conn{cfg: socketConfig{reconnectMin: 100 * time.Millisecond, reconnect: time.Second}}
	for attempt, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		ceiling *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.backoff(attempt)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, ceiling/2, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Fatalf("attempt %d: no jitter (%d distinct waits)", attempt, len(seen))
		}
	}
}
