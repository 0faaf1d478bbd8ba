package binancetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const (
	vectorKey    = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
	vectorSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
)

// send writes one frame as given and reads the answer.
func send(t *testing.T, ws *websocket.Conn, frame string) (status, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Status int `json:"status"`
		Error  struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a.Status, a.Error.Code
}

// TestPeerVerifiesThePublishedVectors: requests signed with REFERENCE.md's
// HMAC vectors pass the peer's signature check (its clock set to the
// vectors' time); a changed value or signature does not.
func TestPeerVerifiesThePublishedVectors(t *testing.T) {
	const ts = 1645423376532
	s := New(Config{APIKey: vectorKey, Secret: vectorSecret})
	defer s.Close()
	ws, _, err := websocket.Dial(context.Background(), s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	at := func() { s.SetClockOffset(time.Until(time.UnixMilli(ts + 20))) } // recvWindow is 100 ms in the first vector

	tests := []struct {
		name         string
		frame        string
		status, code int
	}{
		{"limit order vector", `{"id":1,"method":"order.place","params":{"apiKey":"` + vectorKey + `","price":"52000.00","quantity":"0.01000000","recvWindow":100,"side":"SELL","symbol":"BTCUSDT","timeInForce":"GTC","timestamp":1645423376532,"type":"LIMIT","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}`, 200, 0},
		{"full-width symbol vector: signature good, symbol unknown", `{"id":2,"method":"order.place","params":{"apiKey":"` + vectorKey + `","price":"0.10000000","quantity":"1.00000000","recvWindow":5000,"side":"BUY","symbol":"１２３４５６","timeInForce":"GTC","timestamp":1645423376532,"type":"LIMIT","signature":"b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"}}`, 400, -1121},
		{"a changed value", `{"id":3,"method":"order.place","params":{"apiKey":"` + vectorKey + `","price":"52000.10","quantity":"0.01000000","recvWindow":100,"side":"SELL","symbol":"BTCUSDT","timeInForce":"GTC","timestamp":1645423376532,"type":"LIMIT","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}`, 400, -1022},
		// Signed as its JSON text, but a DECIMAL must be a string.
		{"a DECIMAL sent as a number", `{"id":4,"method":"order.place","params":{"apiKey":"` + vectorKey + `","price":52000.00,"quantity":"0.01000000","recvWindow":100,"side":"SELL","symbol":"BTCUSDT","timeInForce":"GTC","timestamp":1645423376532,"type":"LIMIT","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}`, 400, -1102},
		{"no signature", `{"id":5,"method":"order.status","params":{"apiKey":"` + vectorKey + `","symbol":"BTCUSDT","orderId":1,"timestamp":1645423376532}}`, 400, -1102},
		{"another key", `{"id":6,"method":"order.status","params":{"apiKey":"someone-else","symbol":"BTCUSDT","orderId":1,"timestamp":1645423376532,"signature":"00"}}`, 401, -2015},
	}
	for _, tt := range tests {
		at()
		if status, code := send(t, ws, tt.frame); status != tt.status || code != tt.code {
			t.Errorf("%s: status %d code %d, want %d %d", tt.name, status, code, tt.status, tt.code)
		}
	}
	// The same valid request 2 s later is outside its 100 ms recvWindow;
	// one 2 s early is ahead of the server.
	for _, skew := range []time.Duration{2 * time.Second, -2 * time.Second} {
		s.SetClockOffset(time.Until(time.UnixMilli(ts)) + skew)
		if status, code := send(t, ws, tests[0].frame); status != 400 || code != -1021 {
			t.Errorf("clock %s off: status %d code %d, want -1021", skew, status, code)
		}
	}
	orders := s.Orders()
	if len(orders) != 1 || orders[0].Status != "NEW" || orders[0].Side != "SELL" {
		t.Errorf("orders %+v, want the vector's SELL resting above the price", orders)
	}
}
