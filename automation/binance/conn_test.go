package binance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

// TestAnswersPingsWithTheSamePayload: the peer pings often and drops a
// connection whose pong does not echo its ping; the driver's stays.
func TestAnswersPingsWithTheSamePayload(t *testing.T) {
	h := newHarness(t, setup{peer: binancetest.Config{PingEvery: 20 * time.Millisecond, PongTimeout: 2 * time.Second}})
	h.ready(t)
	waitFor(t, "five pongs", func() bool { return h.peer.Stats().Pongs >= 5 })
	if s := h.peer.Stats(); s.NoPongDrops != 0 || s.Accepted != 1 {
		t.Errorf("peer stats %+v", s)
	}
	if _, err := h.term.Assets(ctxFor(t, 5*time.Second)); err != nil {
		t.Error(err)
	}
}

// TestPeerDropsAClientThatDoesNotPong checks the peer itself.
func TestPeerDropsAClientThatDoesNotPong(t *testing.T) {
	peer := binancetest.New(binancetest.Config{PingEvery: 20 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	defer peer.Close()
	ws, _, err := websocket.Dial(context.Background(), peer.URL(), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { return false }, // no pong
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	go func() {
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	waitFor(t, "the silent client dropped", func() bool { return peer.Stats().NoPongDrops == 1 })
}

// TestReplacesTheConnectionBeforeItsAge: max_connection_age ahead of the
// peer's limit: the driver switches to a new connection (logging on
// again) before the peer closes the old one, and requests go on.
func TestReplacesTheConnectionBeforeItsAge(t *testing.T) {
	h := newHarness(t, setup{
		ed25519: true,
		peer:    binancetest.Config{MaxConnectionAge: 4 * time.Second},
		opts:    func(o *Options) { o.MaxConnectionAge = Duration(time.Second) },
	})
	h.ready(t)
	ctx := ctxFor(t, 20*time.Second)
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
			t.Fatalf("place during the switch: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := h.peer.Stats()
	if s.Accepted < 3 || s.AgeCloses != 0 {
		t.Errorf("peer stats %+v: want ≥ 3 connections, none closed by age", s)
	}
	if logons := len(h.peer.Received("session.logon")); logons != s.Accepted {
		t.Errorf("%d logons for %d connections", logons, s.Accepted)
	}
}

// TestReconnectsWhenThePeerCloses: the peer's age limit comes first; the
// driver reconnects (state reconnecting meanwhile) and goes on.
func TestReconnectsWhenThePeerCloses(t *testing.T) {
	h := newHarness(t, setup{peer: binancetest.Config{MaxConnectionAge: 300 * time.Millisecond}})
	h.ready(t)
	var mu sync.Mutex
	seen := map[automation.State]bool{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			seen[h.term.State()] = true
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	waitFor(t, "three connections", func() bool { return h.peer.Stats().Accepted >= 3 })
	close(stop)
	<-done
	if !seen[automation.StateReconnecting] {
		t.Errorf("states seen %v, want reconnecting among them", seen)
	}
	h.ready(t)
	if _, err := h.term.Assets(ctxFor(t, 10*time.Second)); err != nil {
		t.Error(err)
	}
}

// TestManyInFlightAcrossReconnects: many orders in flight at once on one
// connection while the peer drops it again and again. Every order ends
// placed or confirmed absent, none is sent twice, and the driver's answer
// agrees with the peer's book.
func TestManyInFlightAcrossReconnects(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	const n = 40
	stop := make(chan struct{})
	var dropper sync.WaitGroup
	dropper.Add(1)
	go func() {
		defer dropper.Done()
		for range 5 {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
				h.peer.DropConnections()
			}
		}
	}()
	type result struct {
		cid string
		o   automation.ExchangeOrder
		err error
	}
	const each = 4
	results := make(chan result, n*each)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				req := h.limit("0.003", fmt.Sprintf("%d.0", 40000+i*each+j))
				o, err := h.term.PlaceOrder(ctxFor(t, 30*time.Second), req)
				results <- result{req.ClientOrderID, o, err}
			}
		}()
	}
	wg.Wait()
	close(stop)
	dropper.Wait()
	close(results)
	placed, absent, notSent := 0, 0, 0
	for r := range results {
		if c := h.peer.PlaceCount(r.cid); c > 1 {
			t.Errorf("%s sent %d times", r.cid, c)
		}
		_, atPeer := h.peer.Order("BTCUSDT", r.cid)
		switch {
		case r.err == nil:
			placed++
			if !atPeer || r.o.ClientOrderID != r.cid {
				t.Errorf("%s: the driver says placed (%+v), the peer has it: %v", r.cid, r.o, atPeer)
			}
		case errors.Is(r.err, automation.ErrNoSuchOrder):
			absent++
			if atPeer {
				t.Errorf("%s: the driver says absent, the peer has it", r.cid)
			}
		case automation.CodeOf(r.err) == automation.CodeNotConnected:
			notSent++
			if h.peer.PlaceCount(r.cid) != 0 || atPeer {
				t.Errorf("%s: not_connected but the peer got it", r.cid)
			}
		default:
			t.Errorf("%s: %v (%s)", r.cid, r.err, automation.CodeOf(r.err))
		}
	}
	t.Logf("%d placed, %d confirmed absent, %d not sent; %d connections", placed, absent, notSent, h.peer.Stats().Accepted)
	if placed == 0 {
		t.Error("no order was placed at all")
	}
}

// TestNoSecretInLogs runs a whole session — connect, orders, a lost answer
// settled, a drop and reconnect, the user data stream, a -1022 — with the
// log at debug, then greps it for the secret, the API key, every
// signature the peer received and every listen key.
func TestNoSecretInLogs(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	ctx := ctxFor(t, 30*time.Second)
	waitFor(t, "the user data stream", func() bool { return h.peer.Stats().Streams == 1 })
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatal(err)
	}
	h.peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropAfter})
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatal(err)
	}
	h.peer.Inject(binancetest.Fault{Method: "order.place", Code: -1022, Msg: "Signature for this request is not valid."})
	h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0"))
	h.ready(t)
	h.term.Assets(ctx)
	h.term.Positions(ctx, "")
	if _, err := h.term.OpenOrders(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream after the reconnect", func() bool { return h.peer.Stats().Streams == 1 && len(h.peer.ListenKeys()) > 0 })
	h.term.Close()

	logs := h.logs.String()
	if !strings.Contains(logs, "binance connected") {
		t.Fatalf("the log is not the session's:\n%s", logs)
	}
	secrets := map[string]string{"secret": testSecret, "api key": testKey}
	for i, s := range h.peer.Signatures() {
		secrets[fmt.Sprint("signature ", i)] = s
	}
	for i, k := range h.peer.ListenKeys() {
		secrets[fmt.Sprint("listen key ", i)] = k
	}
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s", what)
		}
	}
}

// TestOrderUpdatesBecomeVenueEvents: ORDER_TRADE_UPDATE from the user data
// stream reach env.Publish as kind "order", without the listen key.
func TestOrderUpdatesBecomeVenueEvents(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	waitFor(t, "the user data stream", func() bool { return h.peer.Stats().Streams == 1 })
	ctx := ctxFor(t, 10*time.Second)
	req := h.limit("0.010", "49000.0")
	o, err := h.term.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	h.peer.SetPrice("BTCUSDT", d("48999.9"))
	var statuses []automation.OrderStatus
	for len(statuses) < 2 {
		select {
		case ev := <-h.events:
			u, ok := ev.Data.(OrderUpdate)
			if ev.Kind != "order" || ev.Terminal != "binance" || !ok || u.ClientOrderID != req.ClientOrderID || u.OrderID != o.OrderID {
				t.Fatalf("event %+v", ev)
			}
			for _, k := range h.peer.ListenKeys() {
				if strings.Contains(fmt.Sprintf("%+v", ev), k) {
					t.Error("the event holds the listen key")
				}
			}
			statuses = append(statuses, u.Status)
			if u.Status == automation.StatusFilled && (u.ExecutionType != "TRADE" || !u.LastPrice.Equal(d("49000"))) {
				t.Errorf("fill event %+v", u)
			}
		case <-ctx.Done():
			t.Fatalf("events so far: %v", statuses)
		}
	}
	if statuses[0] != automation.StatusNew || statuses[1] != automation.StatusFilled {
		t.Errorf("statuses %v", statuses)
	}
}

func TestSymbolRules(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	si, ok := h.term.CachedSymbol("BTCUSDT")
	if !ok || !si.PriceTick.Equal(d("0.1")) || !si.QuantityStep.Equal(d("0.001")) || !si.MinQuantity.Equal(d("0.001")) ||
		!si.MinNotional.Equal(d("100")) || si.Status != "TRADING" || si.BaseAsset != "BTC" || si.QuoteAsset != "USDT" {
		t.Fatalf("CachedSymbol = %+v, %v", si, ok)
	}
	if _, ok := h.term.CachedSymbol("ETHUSDT"); ok {
		t.Error("ETHUSDT known")
	}
	got, err := h.term.SymbolInfo(ctxFor(t, 5*time.Second), "BTCUSDT")
	if err != nil || got != si {
		t.Errorf("SymbolInfo = %+v, %v", got, err)
	}
	if _, err := h.term.SymbolInfo(ctxFor(t, 5*time.Second), "NOPE"); venueCode(err) != "-1121" {
		t.Errorf("unknown symbol: %v", err)
	}
}

// TestCloseEndsEveryGoroutine: a session with the stream, a drop and a
// settled lost answer, then Close: the goroutines go back to what they
// were.
func TestCloseEndsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		h := newHarness(t, setup{})
		h.ready(t)
		waitFor(t, "the user data stream", func() bool { return h.peer.Stats().Streams == 1 })
		h.peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropAfter})
		if _, err := h.term.PlaceOrder(ctxFor(t, 10*time.Second), h.limit("0.010", "40000.0")); err != nil {
			t.Fatal(err)
		}
		h.term.Close()
		h.peer.Close()
	}()
	http.DefaultClient.CloseIdleConnections()
	httpClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestARetiredConnectionAnswersWhatItHasAndTakesNothingNew: at the age
// switch the old connection still answers the requests in flight, and a
// request that reaches it afterwards is refused unsent (so sendCurrent
// can put it on the new connection) rather than written to a socket
// about to close.
func TestARetiredConnectionAnswersWhatItHasAndTakesNothingNew(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	ctx := ctxFor(t, 5*time.Second)
	h.term.mu.Lock()
	c := h.term.cur
	h.term.mu.Unlock()
	inFlight, err := c.send(ctx, "session.status", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.retire()
	if c.usable() {
		t.Error("a retired connection still says it is usable")
	}
	if _, err := c.send(ctx, "session.status", nil); !isNotSent(err) {
		t.Errorf("send on a retired connection: %v, want not sent", err)
	}
	// Answered at all is what counts here, whatever the answer says.
	if a, err := c.wait(ctx, inFlight, 5*time.Second); err != nil || a.ID == nil || *a.ID != inFlight.id {
		t.Errorf("the request in flight before the retirement: %+v, %v", a, err)
	}
}
