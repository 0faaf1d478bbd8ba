package gateway

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// lastFrame is the last request with op the peer received, decoded.
func lastFrame(t *testing.T, peer *gatewaytest.Server, op string) map[string]json.RawMessage {
	t.Helper()
	rs := peer.Received()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Op == op {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rs[i].Frame, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s received", op)
	return nil
}

func TestLimitMarketIOCAndCancel(t *testing.T) {
	r := newRig(t)
	rec := &recorder{}
	term := r.open("huobi", "huobi", nil, rec)
	settled(t, term)
	r.peer.SetPrice("BTC/USDT", dec("100"))
	ctx := ctxT(t)

	// A LIMIT below the market rests.
	req := limit("BTC/USDT", automation.SideBuy, "0.5", "90.10")
	req.ClientOrderID = "cid-1"
	o, err := term.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != automation.StatusNew || o.OrderID == "" || o.ClientOrderID != "cid-1" || !o.Price.Equal(dec("90.1")) {
		t.Fatalf("placed: %+v", o)
	}
	f := lastFrame(t, r.peer, "place_order")
	for k, want := range map[string]string{"action": `"BUY"`, "order_type": `"LIMIT"`, "price": `90.1`, "quantity": `0.5`, "symbol": `"BTC/USDT"`} {
		if string(f[k]) != want {
			t.Errorf("place_order %s = %s, want %s", k, f[k], want)
		}
	}
	if len(f["cid"]) < 3 || len(f["token"]) < 3 {
		t.Errorf("place_order without cid or token: %s", f)
	}
	open, err := term.OpenOrders(ctx, "BTC/USDT")
	if err != nil || len(open) != 1 || open[0].OrderID != o.OrderID || open[0].ClientOrderID != "cid-1" {
		t.Fatalf("open orders: %v %v", open, err)
	}
	got, err := term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTC/USDT", ClientOrderID: "cid-1"})
	if err != nil || got.OrderID != o.OrderID || got.Status != automation.StatusNew {
		t.Fatalf("order_status by client id: %+v %v", got, err)
	}
	c, err := term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o.OrderID})
	if err != nil || c.Status != automation.StatusCanceled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if f := lastFrame(t, r.peer, "cancel_order"); string(f["order_nos"]) != `["`+o.OrderID+`"]` {
		t.Fatalf("cancel_order frame %s", f)
	}
	// A second cancel is refused per order (data[]).
	_, err = term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o.OrderID})
	if codeOf(err) != automation.CodeRejected {
		t.Fatalf("cancel of a canceled order: %v", err)
	}

	// A LIMIT above the market fills; order_status follows the notices.
	o2, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "110"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fill notice", func() bool {
		st, err := term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o2.OrderID})
		return err == nil && st.Status == automation.StatusFilled && st.ExecutedQuantity.Equal(dec("1")) && st.AvgPrice.Equal(dec("100"))
	})

	// MARKET sends price 0.
	if _, err := term.PlaceOrder(ctx, market("BTC/USDT", automation.SideSell, "0.25")); err != nil {
		t.Fatal(err)
	}
	f = lastFrame(t, r.peer, "place_order")
	if string(f["price"]) != "0" || string(f["order_type"]) != `"MARKET"` || string(f["action"]) != `"SELL"` {
		t.Fatalf("market frame %s", f)
	}
	// IOC below the market is canceled at once.
	ioc := limit("BTC/USDT", automation.SideBuy, "1", "50")
	ioc.TimeInForce = automation.IOC
	o4, err := term.PlaceOrder(ctx, ioc)
	if err != nil {
		t.Fatal(err)
	}
	if f := lastFrame(t, r.peer, "place_order"); string(f["order_type"]) != `"IOC"` {
		t.Fatalf("ioc frame %s", f)
	}
	eventually(t, "the IOC to be canceled", func() bool {
		st, err := term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o4.OrderID})
		return err == nil && st.Status == automation.StatusCanceled
	})
	// A resting order fills when the price moves through it.
	o5, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideSell, "2", "105"))
	if err != nil {
		t.Fatal(err)
	}
	r.peer.SetPrice("BTC/USDT", dec("106"))
	eventually(t, "the resting sell to fill", func() bool {
		st, _ := term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o5.OrderID})
		return st.Status == automation.StatusFilled
	})

	assets, err := term.Assets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var btc *automation.Asset
	for i := range assets {
		if assets[i].Asset == "BTC" {
			btc = &assets[i]
		}
	}
	// +1 bought, -0.25 sold at market, -2 sold at 105.
	if btc == nil || !btc.Balance.Equal(dec("-1.25")) {
		t.Fatalf("assets %v", assets)
	}
	// Every notice reached the events, with the terminal's name.
	for _, kind := range []string{"order", "fill", "asset"} {
		evs := rec.kinds(kind)
		if len(evs) == 0 {
			t.Fatalf("no %s event", kind)
		}
		if evs[0].Terminal != "huobi" {
			t.Fatalf("event of %q", evs[0].Terminal)
		}
	}
	if fl, ok := rec.kinds("fill")[0].Data.(Fill); !ok || fl.OrderID != o2.OrderID {
		t.Fatalf("fill event %+v", rec.kinds("fill")[0].Data)
	}
}

func TestRefusedOrdersSendNothing(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	ctx := ctxT(t)
	fok := limit("BTC/USDT", automation.SideBuy, "1", "90")
	fok.TimeInForce = automation.FOK
	short := limit("BTC/USDT", automation.SideSell, "1", "90")
	short.PositionSide = automation.PositionShort
	reduce := limit("BTC/USDT", automation.SideSell, "1", "90")
	reduce.ReduceOnly = true
	mkt := market("BTC/USDT", automation.SideBuy, "1")
	mkt.Price = dec("1")
	for name, req := range map[string]automation.PlaceOrderRequest{
		"fok": fok, "short on spot": short, "reduce only": reduce, "market with price": mkt,
		"no price": limit("BTC/USDT", automation.SideBuy, "1", "0"),
	} {
		if _, err := term.PlaceOrder(ctx, req); codeOf(err) != automation.CodeRejected {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := r.peer.PlaceOrders("huobi"); n != 0 {
		t.Fatalf("%d sent", n)
	}
	// The gateway's own refusal keeps its message.
	if _, err := term.PlaceOrder(ctx, limit("DOGE/USDT", automation.SideBuy, "1", "1")); codeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "not subscribed") {
		t.Fatalf("refused by the gateway: %v", err)
	}
}

func TestFuturesSignAndPositions(t *testing.T) {
	r := newRig(t)
	rec := &recorder{}
	term := r.open("hf", "huobi_future", map[string]any{"futures": true}, rec)
	settled(t, term)
	ctx := ctxT(t)
	r.peer.SetPrice("BTC/USDT", dec("100"))
	open := market("BTC/USDT", automation.SideSell, "3")
	open.PositionSide = automation.PositionShort
	if _, err := term.PlaceOrder(ctx, open); err != nil {
		t.Fatal(err)
	}
	if f := lastFrame(t, r.peer, "place_order"); string(f["quantity"]) != "-3" || string(f["action"]) != `"SELL"` {
		t.Fatalf("a short open: %s", f)
	}
	long := market("BTC/USDT", automation.SideBuy, "2")
	long.PositionSide = automation.PositionLong
	if _, err := term.PlaceOrder(ctx, long); err != nil {
		t.Fatal(err)
	}
	ps, err := term.Positions(ctx, "BTC/USDT")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].PositionSide != automation.PositionLong || !ps[0].Quantity.Equal(dec("2")) ||
		ps[1].PositionSide != automation.PositionShort || !ps[1].Quantity.Equal(dec("-3")) {
		t.Fatalf("positions %+v", ps)
	}
	// Closing more of the short than is held: the gateway's refusal (a dict repr) is kept.
	closeShort := market("BTC/USDT", automation.SideBuy, "5")
	closeShort.PositionSide = automation.PositionShort
	if _, err := term.PlaceOrder(ctx, closeShort); codeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "position-insufficient") {
		t.Fatalf("over-close: %v", err)
	}
	frac := market("BTC/USDT", automation.SideBuy, "1.5")
	if _, err := term.PlaceOrder(ctx, frac); codeOf(err) != automation.CodeRejected {
		t.Fatalf("fractional contracts: %v", err)
	}
	if n := r.peer.PlaceOrders("huobi_future"); n != 3 {
		t.Fatalf("%d place_order", n)
	}
	eventually(t, "a position event", func() bool { return len(rec.kinds("position")) > 0 })
	pn := rec.kinds("position")[0].Data.(PositionNotice)
	if pn.Symbol != "BTC/USDT" {
		t.Fatalf("position event %+v", pn)
	}
	// An order notice of a short order says SHORT.
	orders := rec.kinds("order")
	if o := orders[0].Data.(automation.ExchangeOrder); o.PositionSide != automation.PositionShort || !o.Quantity.Equal(dec("3")) {
		t.Fatalf("order event %+v", o)
	}
}

func TestSpotPositionUnsupported(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	if term.Supports(automation.OpPosition) || term.Supports(automation.OpClosePosition) || !term.Supports(automation.OpPlaceOrder) {
		t.Fatal("supports")
	}
}

func TestSymbolInfoCached(t *testing.T) {
	r := newRig(t)
	r.peer.SetSymbol("ETH/USDT", gatewaytest.SymbolRules{PriceTick: dec("0.05"), SizeTick: dec("0.01"), SizeLimit: dec("0.1"),
		ValueTick: dec("1"), ValueLimit: dec("10"), Base: "ETH", Quote: "USDT", Settlement: "USDT"})
	term := r.open("huobi", "huobi", nil, nil)
	if _, ok := term.CachedSymbol("ETH/USDT"); ok {
		t.Fatal("cached before any READY")
	}
	settled(t, term)
	info, ok := term.CachedSymbol("ETH/USDT")
	if !ok || !info.PriceTick.Equal(dec("0.05")) || !info.QuantityStep.Equal(dec("0.01")) || !info.MinQuantity.Equal(dec("0.1")) ||
		!info.MinNotional.Equal(dec("10")) || info.BaseAsset != "ETH" || info.QuoteAsset != "USDT" {
		t.Fatalf("cached %+v %v", info, ok)
	}
}

func TestAnswersOutOfOrder(t *testing.T) {
	r := newRig(t)
	r.peer.SetSymbol("ETH/USDT", gatewaytest.SymbolRules{PriceTick: dec("0.05"), Base: "ETH", Quote: "USDT"})
	r.peer.SetSymbol("BTC/USDT", gatewaytest.SymbolRules{PriceTick: dec("0.1"), Base: "BTC", Quote: "USDT"})
	huobi := r.open("huobi", "huobi", nil, nil)
	okex := r.open("okex", "okex", nil, nil)
	settled(t, huobi)
	settled(t, okex)
	r.peer.HoldAnswers(3)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	var eth, btc automation.SymbolInfo
	var assets []automation.Asset
	var e1, e2, e3 error
	wg.Go(func() { eth, e1 = huobi.SymbolInfo(ctx, "ETH/USDT") })
	eventually(t, "the first request", func() bool { return r.peer.Count("symbol_info", "huobi") == 3 })
	wg.Go(func() { btc, e2 = okex.SymbolInfo(ctx, "BTC/USDT") })
	eventually(t, "the second request", func() bool { return r.peer.Count("symbol_info", "okex") == 3 })
	wg.Go(func() { assets, e3 = huobi.Assets(ctx) })
	wg.Wait()
	if e1 != nil || e2 != nil || e3 != nil {
		t.Fatal(e1, e2, e3)
	}
	if eth.BaseAsset != "ETH" || btc.BaseAsset != "BTC" || len(assets) == 0 {
		t.Fatalf("answers crossed: %+v %+v %+v", eth, btc, assets)
	}
}

func TestStrayErrorAttributedToTheOneInFlight(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, nil)
	settled(t, term)
	ctx := ctxT(t)
	r.peer.ErrorOn("asset", "{'error': 'KeyError boom'}")
	_, err := term.Assets(ctx)
	if codeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "KeyError boom") {
		t.Fatalf("attributed error: %v (%s)", err, codeOf(err))
	}
	// Two in flight: the error cannot be told whose; both end by their own deadlines.
	r.peer.SwallowOn("symbol_info", false)
	r.peer.ErrorOn("asset", "{'error': 'whose?'}")
	var wg sync.WaitGroup
	var e1 error
	wg.Go(func() { _, e1 = term.SymbolInfo(ctx, "BTC/USDT") })
	eventually(t, "the swallowed request", func() bool { return r.peer.Count("symbol_info", "huobi") == 3 })
	_, e2 := term.Assets(ctx)
	wg.Wait()
	if codeOf(e1) != automation.CodeTimeout || codeOf(e2) != automation.CodeTimeout {
		t.Fatalf("unattributable error: %v / %v", e1, e2)
	}
	mustContain(t, r.logs.String(), "whose?")
}

func TestCancelOfOneNeverAnswered(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "200ms"}, nil)
	settled(t, term)
	ctx := ctxT(t)
	o, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "90"))
	if err != nil {
		t.Fatal(err)
	}
	r.peer.SetCancelOneUnanswered(true)
	c, err := term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o.OrderID})
	if err != nil || c.Status != automation.StatusCanceled {
		t.Fatalf("unanswered cancel, then checked: %+v %v", c, err)
	}
}

func TestLostPlaceOrderAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*gatewaytest.Server)
		code  automation.Code // "" for success
		check func(t *testing.T, err error)
	}{
		{"never answered, placed", func(p *gatewaytest.Server) { p.SwallowOn("place_order", true) }, "", nil},
		{"never answered, not placed", func(p *gatewaytest.Server) { p.SwallowOn("place_order", false) }, automation.CodeRejected,
			func(t *testing.T, err error) {
				if !errors.Is(err, automation.ErrNoSuchOrder) {
					t.Fatalf("not no such order: %v", err)
				}
			}},
		{"socket closed mid-request, placed", func(p *gatewaytest.Server) { p.DropOn("place_order", true) }, "", nil},
		{"socket closed mid-request, not placed", func(p *gatewaytest.Server) { p.DropOn("place_order", false) }, automation.CodeOutcomeUnknown,
			func(t *testing.T, err error) { mustContain(t, err.Error(), "dropped") }},
		{"op error without cid", func(p *gatewaytest.Server) { p.ErrorOn("place_order", "{'error': 'boom'}") }, automation.CodeRejected,
			func(t *testing.T, err error) {
				mustContain(t, err.Error(), "boom")
				if !errors.Is(err, automation.ErrNoSuchOrder) {
					t.Fatalf("not no such order: %v", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, nil)
			settled(t, term)
			r.peer.SetPrice("BTC/USDT", dec("100"))
			// An older order with the same terms is not a candidate.
			if _, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90")); err != nil {
				t.Fatal(err)
			}
			tc.fault(r.peer)
			o, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90"))
			if codeOf(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("got %v (%s), want %q", err, codeOf(err), tc.code)
			}
			if tc.code == "" {
				orders := r.peer.Orders("huobi")
				if len(orders) != 2 || o.OrderID != orders[1].OrderNo {
					t.Fatalf("settled on %+v; the peer has %+v", o, orders)
				}
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if n := r.peer.PlaceOrders("huobi"); n != 2 {
				t.Fatalf("place_order sent %d times for two orders", n)
			}
		})
	}
}

// placeUnanswered sends a LIMIT buy of 1 BTC/USDT at 90 whose answer the
// peer swallows, and returns once it was sent; the channel has the
// driver's result.
func placeUnanswered(t *testing.T, r *rig, term *Terminal) <-chan error {
	t.Helper()
	r.peer.SwallowOn("place_order", false)
	done := make(chan error, 1)
	go func() {
		_, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90"))
		done <- err
	}()
	eventually(t, "the send", func() bool { return r.peer.PlaceOrders("huobi") == 1 })
	return done
}

func TestLostAnswerWithTwoCandidates(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, nil)
	settled(t, term)
	done := placeUnanswered(t, r, term)
	now := time.Now().UnixMilli()
	for _, no := range []string{"777", "778"} {
		r.peer.Notify("huobi", "order", map[string]any{"symbol": "BTC/USDT", "order_no": no, "action": "BUY", "price": 90,
			"quantity": 1, "remain": 1, "status": "SUBMITTED", "order_type": "LIMIT", "ctime": now, "utime": now})
	}
	err := <-done
	if codeOf(err) != automation.CodeOutcomeUnknown || !strings.Contains(err.Error(), "777") || !strings.Contains(err.Error(), "778") {
		t.Fatalf("two candidates: %v", err)
	}
	var cl interface {
		Candidates() []automation.ExchangeOrder
	}
	if !errors.As(err, &cl) || len(cl.Candidates()) != 2 {
		t.Fatalf("the candidates are not on the error: %#v", err)
	}
}

func TestLateAnswerSettles(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "100ms"}, nil)
	settled(t, term)
	// The answer is held back past the request's deadline, then released
	// by the next answer (the settlement's open_orders).
	r.peer.HoldAnswers(2)
	o, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90"))
	if err != nil || o.OrderID == "" {
		t.Fatalf("late answer: %+v %v", o, err)
	}
	if n := r.peer.PlaceOrders("huobi"); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

func TestClosePositionAndCachedPositions(t *testing.T) {
	r := newRig(t)
	term := r.open("hf", "huobi_future", map[string]any{"futures": true}, nil)
	settled(t, term)
	if _, ok := term.CachedPosition("BTC/USDT", automation.PositionLong); !ok {
		t.Fatal("positions not read at READY")
	}
	ctx := ctxT(t)
	r.peer.SetPrice("BTC/USDT", dec("100"))
	long := market("BTC/USDT", automation.SideBuy, "5")
	long.PositionSide = automation.PositionLong
	if _, err := term.PlaceOrder(ctx, long); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the position notice", func() bool {
		q, ok := term.CachedPosition("BTC/USDT", automation.PositionLong)
		return ok && q.Equal(dec("5"))
	})
	o, err := term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTC/USDT", PositionSide: automation.PositionLong, Quantity: dec("2")})
	if err != nil || o.Side != automation.SideSell || !o.Quantity.Equal(dec("2")) {
		t.Fatalf("close 2: %+v %v", o, err)
	}
	if f := lastFrame(t, r.peer, "place_order"); string(f["quantity"]) != "2" || string(f["action"]) != `"SELL"` || string(f["order_type"]) != `"MARKET"` {
		t.Fatalf("close frame %s", f)
	}
	// The rest: quantity zero closes what the gateway says is held.
	if _, err := term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTC/USDT", PositionSide: automation.PositionLong}); err != nil {
		t.Fatal(err)
	}
	if f := lastFrame(t, r.peer, "place_order"); string(f["quantity"]) != "3" {
		t.Fatalf("close all frame %s", f)
	}
	eventually(t, "the flat position", func() bool {
		q, ok := term.CachedPosition("BTC/USDT", automation.PositionLong)
		return ok && q.IsZero()
	})
	if _, err := term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTC/USDT", PositionSide: automation.PositionShort}); codeOf(err) != automation.CodeRejected {
		t.Fatalf("closing a side not held: %v", err)
	}
	if !term.Supports(automation.OpClosePosition) {
		t.Fatal("futures terminal without close_position")
	}
}
