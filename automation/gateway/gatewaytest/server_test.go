package gatewaytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// raw is a bare client: frames in and out as the seed writes them.
type raw struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *Server) *raw {
	t.Helper()
	ws, _, err := websocket.Dial(context.Background(), s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &raw{t: t, ws: ws}
}

func (r *raw) send(frame string) {
	r.t.Helper()
	if err := r.ws.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		r.t.Fatal(err)
	}
}

// next reads the next frame, or fails after a guard timeout.
func (r *raw) next() map[string]any {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := r.ws.Read(ctx)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("%s: %v", b, err)
	}
	return m
}

// until reads frames until one with op (and cid when given).
func (r *raw) until(op string) map[string]any {
	r.t.Helper()
	for {
		if m := r.next(); m["op"] == op {
			return m
		}
	}
}

func login(r *raw, platform, access string) string {
	r.send(`{"op":"login","cid":"l1","platform":"` + platform + `","symbols":["BTC/USDT","ETH/USDT"],"access_key":"` + access + `","secret_key":"s"}`)
	m := r.until("login")
	if m["cid"] != "l1" || m["result"] != true || m["error_message"] != "" {
		r.t.Fatalf("login answer %v", m)
	}
	tok, _ := m["token"].(string)
	return tok
}

func TestSeedFrames(t *testing.T) {
	s := New(Config{})
	t.Cleanup(s.Close)
	c := dial(t, s)

	// ping → pong with the same ts.
	c.send(`{"op":"ping","ts":1530604762311}`)
	if m := c.next(); m["op"] != "pong" || m["ts"] != float64(1530604762311) {
		t.Fatalf("pong %v", m)
	}
	tok := login(c, "huobi", "a1")
	// READY comes after the answer: state 2, then 6, with the token.
	for _, code := range []float64{StateConnectSuccess, StateReady} {
		if m := c.until("state"); m["token"] != tok || m["code"] != code {
			t.Fatalf("state %v, want code %v", m, code)
		}
	}
	c.send(`{"op":"place_order","cid":"p1","token":"` + tok + `","symbol":"ETH/USDT","action":"SELL","price":219.24,"quantity":5.6,"order_type":"LIMIT"}`)
	p := c.until("place_order")
	no, _ := p["order_no"].(string)
	if p["cid"] != "p1" || p["result"] != true || no == "" {
		t.Fatalf("place_order answer %v", p)
	}
	if n := c.until("notify"); n["topic"] != "order" || n["token"] != tok || n["data"].(map[string]any)["status"] != "SUBMITTED" {
		t.Fatalf("order notice %v", n)
	}
	c.send(`{"op":"open_orders","cid":"o1","token":"` + tok + `","symbol":"ETH/USDT"}`)
	o := c.until("open_orders")
	rows := o["data"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["order_no"] != no || rows[0].(map[string]any)["price"] != 219.24 {
		t.Fatalf("open_orders %v", o)
	}
	c.send(`{"op":"cancel_order","cid":"c1","token":"` + tok + `","symbol":"ETH/USDT","order_nos":["` + no + `","nope"]}`)
	x := c.until("cancel_order")
	lines := x["data"].([]any)
	if x["result"] != true || len(lines) != 2 || lines[0].(map[string]any)["result"] != true || lines[1].(map[string]any)["result"] != false {
		t.Fatalf("cancel_order %v", x)
	}
	c.send(`{"op":"symbol_info","cid":"s1","token":"` + tok + `","symbol":"ETH/USDT"}`)
	if si := c.until("symbol_info"); si["data"].(map[string]any)["base_currency"] != "ETH" {
		t.Fatalf("symbol_info %v", si)
	}
	c.send(`{"op":"asset","cid":"a1","token":"` + tok + `"}`)
	if a := c.until("asset"); a["data"].(map[string]any)["USDT"] == nil {
		t.Fatalf("asset %v", a)
	}
	// Unknown ops are ignored; a bad token is an error without a cid.
	c.send(`{"op":"frobnicate","cid":"f1"}`)
	c.send(`{"op":"asset","cid":"a2","token":"bogus"}`)
	if e := c.next(); e["op"] != "error" || e["cid"] != nil || !strings.Contains(e["error_message"].(string), "bogus") {
		t.Fatalf("error frame %v", e)
	}
	c.send(`{"op":"logout","cid":"lo","token":"` + tok + `"}`)
	if l := c.until("logout"); l["result"] != true || l["cid"] != "lo" {
		t.Fatalf("logout %v", l)
	}
	if n := s.PlaceOrders("huobi"); n != 1 {
		t.Fatalf("counted %d", n)
	}
}

func TestRepeatedLoginRefusedOnAnySocket(t *testing.T) {
	s := New(Config{})
	t.Cleanup(s.Close)
	a, b := dial(t, s), dial(t, s)
	login(a, "okex", "k")
	b.send(`{"op":"login","cid":"l2","platform":"okex","symbols":["BTC/USDT"],"access_key":"k","secret_key":"s"}`)
	if m := b.until("login"); m["result"] != false || m["error_message"] == "" {
		t.Fatalf("repeated login %v", m)
	}
	// When the first socket goes, the account is free again.
	a.ws.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for s.Sessions("okex") != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if tok := login(b, "okex", "k"); tok == "" {
		t.Fatal("no token")
	}
}

func TestUnknownPlatformStateFirst(t *testing.T) {
	s := New(Config{})
	t.Cleanup(s.Close)
	c := dial(t, s)
	c.send(`{"op":"login","cid":"l1","platform":"mars","symbols":["BTC/USDT"],"access_key":"k","secret_key":"s"}`)
	st := c.next()
	lg := c.next()
	if st["op"] != "state" || st["code"] != float64(StateParamMiss) || lg["op"] != "login" || lg["result"] != true || lg["token"] != st["token"] {
		t.Fatalf("unknown platform: %v then %v", st, lg)
	}
}

func TestIdleSocketClosed(t *testing.T) {
	s := New(Config{IdleTimeout: 100 * time.Millisecond})
	t.Cleanup(s.Close)
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.ws.Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("a silent socket stayed open: %v", err)
	}
}

func TestHoldAnswersReverses(t *testing.T) {
	s := New(Config{})
	t.Cleanup(s.Close)
	c := dial(t, s)
	tok := login(c, "huobi", "k")
	c.until("state")
	c.until("state")
	s.HoldAnswers(2)
	c.send(`{"op":"asset","cid":"first","token":"` + tok + `"}`)
	c.send(`{"op":"symbol_info","cid":"second","token":"` + tok + `","symbol":"BTC/USDT"}`)
	if m := c.next(); m["cid"] != "second" {
		t.Fatalf("first out: %v", m)
	}
	if m := c.next(); m["cid"] != "first" {
		t.Fatalf("second out: %v", m)
	}
}
