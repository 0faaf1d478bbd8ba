package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

// rawClient is a plain WebSocket client of the peer signing with the HMAC
// key: another program using the same IP's limits (and the benchmark's
// direct client).
type rawClient struct {
	ws     *websocket.Conn
	offset time.Duration
	n      int
}

func dialRaw(t testing.TB, peer *binancetest.Server) *rawClient {
	t.Helper()
	ws, _, err := websocket.Dial(context.Background(), peer.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	r := rest{base: peer.RESTURL(), client: httpClient, now: time.Now}
	off, err := r.serverOffset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &rawClient{ws: ws, offset: off}
}

// call sends one signed request and reads its answer.
func (c *rawClient) call(ctx context.Context, method string, p params) (answer, error) {
	c.n++
	p["apiKey"] = testKey
	p["timestamp"] = time.Now().Add(c.offset).UnixMilli()
	p["signature"] = hmacSigner{secret: []byte(testSecret)}.sign(payload(p))
	b, _ := json.Marshal(map[string]any{"id": fmt.Sprint(c.n), "method": method, "params": p})
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return answer{}, err
	}
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return answer{}, err
	}
	return decodeAnswer(b)
}

func (c *rawClient) place(ctx context.Context, cid string) (answer, error) {
	return c.call(ctx, "order.place", params{
		"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0",
		"timeInForce": "GTC", "newClientOrderId": cid, "newOrderRespType": "RESULT",
	})
}

// tenSeconds is an ORDERS limit of 3 per 10 s: long enough that a test
// cannot cross a window by accident.
var tenSeconds = []binancetest.RateLimit{
	{Type: "REQUEST_WEIGHT", Interval: "MINUTE", IntervalNum: 1, Limit: 2400},
	{Type: "ORDERS", Interval: "SECOND", IntervalNum: 10, Limit: 3},
}

// startOfWindow waits until a 10 s window has at least 6 s left.
func startOfWindow(t *testing.T, h *harness) {
	for h.term.serverNow().Sub(h.term.serverNow().Truncate(10*time.Second)) > 4*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRefusesLocallyBeforeBinanceWould: the limit read from exchangeInfo
// and the answers' rateLimits holds the fourth order back (rate_limited
// with Retry-After) without sending it.
func TestRefusesLocallyBeforeBinanceWould(t *testing.T) {
	h := newHarness(t, setup{peer: binancetest.Config{RateLimits: tenSeconds}})
	h.ready(t)
	startOfWindow(t, h)
	ctx := ctxFor(t, 10*time.Second)
	for i := range 3 {
		if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
			t.Fatalf("order %d: %v", i+1, err)
		}
	}
	if wait, ok := h.term.Throttled(); !ok || wait <= 0 || wait > 10*time.Second {
		t.Errorf("Throttled() = %s, %v after the limit was used up", wait, ok)
	}
	req := h.limit("0.010", "40000.0")
	_, err := h.term.PlaceOrder(ctx, req)
	var coded *automation.Error
	if !errors.As(err, &coded) || coded.Code != automation.CodeRateLimited || coded.RetryAfter <= 0 || coded.RetryAfter > 10*time.Second {
		t.Fatalf("fourth order: %v", err)
	}
	if n := h.peer.PlaceCount(req.ClientOrderID); n != 0 {
		t.Errorf("the held-back order reached the peer %d times", n)
	}
	if s := h.peer.Stats(); s.Answered429 != 0 || s.Answered418 != 0 {
		t.Errorf("peer answered %d 429s and %d 418s", s.Answered429, s.Answered418)
	}
	// Queries spend no orders: they still go.
	if _, err := h.term.Assets(ctx); err != nil {
		t.Errorf("assets while orders are held back: %v", err)
	}
}

// TestAfter429HoldsUntilTheWindowResets: another client on the same IP
// spends the orders the driver did not see; its order earns a 429, and
// nothing more is sent until the window resets — never a 418.
func TestAfter429HoldsUntilTheWindowResets(t *testing.T) {
	h := newHarness(t, setup{peer: binancetest.Config{RateLimits: tenSeconds}})
	h.ready(t)
	startOfWindow(t, h)
	ctx := ctxFor(t, 30*time.Second)
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatal(err)
	}
	other := dialRaw(t, h.peer)
	for i := range 2 {
		if a, err := other.place(ctx, fmt.Sprint("other-", i)); err != nil || a.Error != nil {
			t.Fatalf("other client: %+v %v", a.Error, err)
		}
	}
	req := h.limit("0.010", "40000.0")
	_, err := h.term.PlaceOrder(ctx, req)
	var coded *automation.Error
	if !errors.As(err, &coded) || coded.Code != automation.CodeRateLimited || coded.VenueCode != "-1003" {
		t.Fatalf("order over the limit: %v", err)
	}
	if h.peer.Stats().Answered429 != 1 {
		t.Fatalf("peer stats %+v", h.peer.Stats())
	}
	wait, ok := h.term.Throttled()
	if !ok || wait <= 0 {
		t.Fatalf("not throttled after a 429")
	}
	// Everything is held, queries too: continuing would earn a 418.
	for range 3 {
		if _, err := h.term.Assets(ctx); automation.CodeOf(err) != automation.CodeRateLimited {
			t.Fatalf("assets during the hold: %v", err)
		}
		if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); automation.CodeOf(err) != automation.CodeRateLimited {
			t.Fatalf("order during the hold: %v", err)
		}
	}
	time.Sleep(wait + 100*time.Millisecond)
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatalf("order after the window reset: %v", err)
	}
	if n := h.peer.Stats().Answered418; n != 0 {
		t.Errorf("the driver earned %d 418s", n)
	}
}

// TestPeerBansAClientThatGoesOnAfter429 checks the peer itself: a client
// that ignores the 429 gets the 418.
func TestPeerBansAClientThatGoesOnAfter429(t *testing.T) {
	peer := binancetest.New(binancetest.Config{APIKey: testKey, Secret: testSecret, RateLimits: tenSeconds})
	defer peer.Close()
	c := dialRaw(t, peer)
	ctx := ctxFor(t, 10*time.Second)
	var statuses []int
	for i := range 5 {
		a, err := c.place(ctx, fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, a.Status)
		if len(a.RateLimits) == 0 && a.Status == 200 {
			t.Error("an answer without rateLimits")
		}
	}
	// Three fit unless the window turned between them; then one 429,
	// then 418.
	last := statuses[len(statuses)-2:]
	if last[0] != 429 && last[0] != 418 || last[1] != 418 {
		t.Errorf("statuses %v, want …429, 418", statuses)
	}
}
