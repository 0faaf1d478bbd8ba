package ctpbee

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// A book as ctpbee writes it, with what its versions really do: the short
// side's misspelt local_symbol key, a NaN profit, padded trade ids.
const bookFixture = `{"success": true, "msg": "", "data": {"position_list": [` +
	`{"exchange": "SHFE", "direction": "long", "position_profit": 500.0, "symbol": "rb2501", "local_symbol": "rb2501.SHFE", "price": 3400.0, "volume": 5, "yd_volume": 3, "stare_position_profit": 500.0, "position_date": 1}, ` +
	`{"exchange": "SHFE", "direction": "short", "position_profit": NaN, "symbol": "rb2501", "locpositionsal_symbol": "rb2501.SHFE", "price": 3600.0, "volume": 1.0, "yd_volume": 1.0, "stare_position_profit": -Infinity, "position_date": 2}], ` +
	`"active_order_list": [], "trade_list": [` +
	`{"direction": "\u591a", "order_id": "1_-1139861502_7", "price": 3499.0, "tradeid": "          12", "volume": 1}, ` +
	`{"direction": "\u591a", "order_id": "1_-1139861502_7", "price": 3502.0, "tradeid": "          13", "volume": 2}], ` +
	`"order_list": [{"direction": "\u591a", "exchange": "SHFE", "gateway_name": "ctp", "iterable_count": 0, "local_order_id": "ctp.1_-1139861502_7", "local_symbol": "rb2501.SHFE", "offset": "\u5e73\u4eca", "order_id": "1_-1139861502_7", "price": 3502.0, "status": "\u5168\u90e8\u6210\u4ea4", "symbol": "rb2501", "time": "21:05:09", "traded": 3, "type": "FAK", "volume": 3}], ` +
	`"log_history": [{"message": "NaN Infinity \"quoted\""}]}}`

func TestDecodeTheBackendsBook(t *testing.T) {
	a, err := decodeAnswer(200, []byte(bookFixture))
	if err != nil || !a.Success {
		t.Fatalf("decodeAnswer: %v %+v", err, a)
	}
	b, err := decodeBook(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	ps := b.positions()
	if len(ps) != 2 || ps[1].symbol != "rb2501.SHFE" || !ps[1].profit.IsZero() || !ps[0].yesterday.Equal(dec("3")) {
		t.Fatalf("positions %+v", ps)
	}
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC) // 09:00 in China
	o := toOrder(b.Orders[0], avgPrices(b.Trades)["1_-1139861502_7"], now)
	want := automation.ExchangeOrder{
		OrderID: "1_-1139861502_7", Symbol: "rb2501.SHFE", Side: automation.SideBuy, Type: automation.TypeLimit,
		Status: automation.StatusFilled, Price: dec("3502"), AvgPrice: dec("3501"), Quantity: dec("3"), ExecutedQuantity: dec("3"),
		TimeInForce: automation.IOC, ReduceOnly: true, PositionSide: automation.PositionShort, Offset: automation.OffsetCloseToday,
		// The night session's 21:05:09, seen the next morning.
		UpdatedAt: time.Date(2026, 12, 1, 13, 5, 9, 0, time.UTC),
	}
	if got, _ := json.Marshal(o); !bytes.Equal(got, mustJSON(want)) {
		t.Errorf("order\n got %s\nwant %s", got, mustJSON(want))
	}
}

func TestDecodeAnswerFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"Flask's 500", 500, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>", "HTTP 500 (500 Internal Server Error)"},
		{"a proxy's 502", 502, "bad gateway", "HTTP 502"},
		{"not JSON", 200, "<html>", "not its JSON envelope"},
		{"no success", 200, `{"msg": ""}`, "no success field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAnswer(tt.status, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v, want %q", err, tt.want)
			}
		})
	}
	if a, _ := decodeAnswer(200, []byte(`{"success": false, "msg": "token error", "data": ""}`)); !a.tokenRefused() {
		t.Error("token error not seen as a refused token")
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Whatever the backend answers, decoding never panics, and a decoded
// book maps onto orders and positions of the exchange set.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(bookFixture))
	f.Add([]byte(`{"success": true, "msg": "\u6210\u529f\u4e0b\u5355", "data": ""}`))
	f.Add([]byte(`{"success": true, "msg": "", "data": {"order_list": [{"order_id": 12, "price": "1e3", "volume": null}]}}`))
	f.Add([]byte(`{"success": false, "msg": {"x": 1}, "data": null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeAnswer(200, body)
		if err != nil {
			return
		}
		b, err := decodeBook(a.Data)
		if err != nil {
			return
		}
		avg := avgPrices(b.Trades)
		for _, o := range b.allOrders() {
			got := toOrder(o, avg[string(o.OrderID)], time.Unix(0, 0))
			switch got.Status {
			case automation.StatusNew, automation.StatusPartiallyFilled, automation.StatusFilled, automation.StatusCanceled, automation.StatusRejected:
			default:
				t.Fatalf("status %q", got.Status)
			}
		}
		for _, p := range b.positions() {
			pos := p.toPosition()
			if pos.PositionSide != automation.PositionLong && pos.PositionSide != automation.PositionShort {
				t.Fatalf("position side %q", pos.PositionSide)
			}
		}
	})
}

// nullNonFinite leaves JSON without Python's non-finite floats as it is,
// and never turns valid JSON invalid.
func FuzzNullNonFinite(f *testing.F) {
	f.Add([]byte(`{"a": NaN, "b": "NaN", "c": [-Infinity, Infinity]}`))
	f.Add([]byte(`"\\"NaN`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := nullNonFinite(b)
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("%q became invalid: %q", b, out)
		}
		if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) && !bytes.Equal(b, out) {
			t.Fatalf("%q changed to %q", b, out)
		}
	})
}
