package ctpbee

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

func limit(symbol string, side automation.OrderSide, qty, price string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{Symbol: symbol, Side: side, Type: automation.TypeLimit,
		Quantity: dec(qty), Price: dec(price), TimeInForce: automation.GTC, PositionSide: automation.PositionBoth}
}

func TestPlaceOrder(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*ctpbeetest.Server)
		req   func() automation.PlaceOrderRequest
		// want is the order as the driver answers it; sent is the order
		// as the peer's CTP account holds it.
		want, sent string
		avg        string
	}{
		{
			name: "a limit buy below the price rests",
			req:  func() automation.PlaceOrderRequest { return limit("rb2501.SHFE", automation.SideBuy, "2", "3400") },
			want: "rb2501.SHFE BUY OPEN NEW 0/2@3400", sent: "long open limit 未成交",
		},
		{
			name: "a marketable buy fills and opens long",
			req:  func() automation.PlaceOrderRequest { return limit("rb2501.SHFE", automation.SideBuy, "1", "3510") },
			want: "rb2501.SHFE BUY OPEN FILLED 1/1@3510", sent: "long open limit 全部成交", avg: "3500",
		},
		{
			name: "a sell with position_side SHORT opens short",
			req: func() automation.PlaceOrderRequest {
				r := limit("rb2501.SHFE", automation.SideSell, "1", "3490")
				r.PositionSide = automation.PositionShort
				return r
			},
			want: "rb2501.SHFE SELL OPEN FILLED 1/1@3490", sent: "short open limit 全部成交",
		},
		{
			name:  "a sell with position_side LONG closes the long",
			setup: func(p *ctpbeetest.Server) { p.SetPosition("rb2501.SHFE", "long", 0, 3, 3300) },
			req: func() automation.PlaceOrderRequest {
				r := limit("rb2501.SHFE", automation.SideSell, "2", "3500")
				r.PositionSide = automation.PositionLong
				return r
			},
			want: "rb2501.SHFE SELL CLOSE FILLED 2/2@3500", sent: "short close limit 全部成交",
		},
		{
			name:  "close today on SHFE",
			setup: func(p *ctpbeetest.Server) { p.SetPosition("rb2501.SHFE", "long", 2, 0, 3300) },
			req: func() automation.PlaceOrderRequest {
				r := limit("rb2501.SHFE", automation.SideSell, "2", "3500")
				r.Offset = automation.OffsetCloseToday
				return r
			},
			want: "rb2501.SHFE SELL CLOSE_TODAY FILLED 2/2@3500", sent: "short closetoday limit 全部成交",
		},
		{
			name: "a buy with reduce_only closes the short on DCE",
			setup: func(p *ctpbeetest.Server) {
				p.SetPrice("m2505.DCE", 2900)
				p.SetPosition("m2505.DCE", "short", 1, 1, 3000)
			},
			req: func() automation.PlaceOrderRequest {
				r := limit("m2505.DCE", automation.SideBuy, "2", "2900")
				r.ReduceOnly = true
				return r
			},
			want: "m2505.DCE BUY CLOSE FILLED 2/2@2900", sent: "long close limit 全部成交",
		},
		{
			name: "IOC is FAK: not marketable, cancelled",
			req: func() automation.PlaceOrderRequest {
				r := limit("rb2501.SHFE", automation.SideBuy, "1", "3400")
				r.TimeInForce = automation.IOC
				return r
			},
			want: "rb2501.SHFE BUY OPEN CANCELED 0/1@3400", sent: "long open fak 已撤销",
		},
		{
			name: "a market order fills at the price",
			req: func() automation.PlaceOrderRequest {
				return automation.PlaceOrderRequest{Symbol: "rb2501.SHFE", Side: automation.SideBuy, Type: automation.TypeMarket, Quantity: dec("1")}
			},
			want: "rb2501.SHFE BUY OPEN FILLED 1/1@0", sent: "long open market 全部成交", avg: "3500",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newPeer(t)
			peer.SetPrice("rb2501.SHFE", 3500)
			if tt.setup != nil {
				tt.setup(peer)
			}
			h := ready(t, peer)
			req := tt.req()
			req.ClientOrderID = "cid-1"
			o, err := h.term.PlaceOrder(ctx(t), req)
			if err != nil {
				t.Fatalf("PlaceOrder: %v", err)
			}
			if got := orderString(o); got != tt.want {
				t.Errorf("order %s, want %s", got, tt.want)
			}
			if tt.avg != "" && !o.AvgPrice.Equal(dec(tt.avg)) {
				t.Errorf("avg_price %s, want %s", o.AvgPrice, tt.avg)
			}
			orders := peer.Orders()
			if len(orders) != 1 || peer.OrdersReceived() != 1 {
				t.Fatalf("the account holds %v, %d received", orders, peer.OrdersReceived())
			}
			if got := orders[0].Direction + " " + orders[0].Offset + " " + orders[0].Type + " " + orders[0].Status; got != tt.sent {
				t.Errorf("sent %s, want %s", got, tt.sent)
			}
			if o.OrderID != orders[0].OrderID || o.ClientOrderID != "cid-1" {
				t.Errorf("ids %q/%q, want %q/cid-1", o.OrderID, o.ClientOrderID, orders[0].OrderID)
			}
			byCID, err := h.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: req.Symbol, ClientOrderID: "cid-1"})
			if err != nil || byCID.OrderID != o.OrderID {
				t.Errorf("OrderStatus by client order id: %v %v", byCID, err)
			}
		})
	}
}

func TestPlaceOrderRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		edit func(*automation.PlaceOrderRequest)
		want string
	}{
		{"a fraction of a lot", func(r *automation.PlaceOrderRequest) { r.Quantity = dec("1.5") }, "whole number of lots"},
		{"no lots", func(r *automation.PlaceOrderRequest) { r.Quantity = dec("0") }, "whole number of lots"},
		{"no exchange", func(r *automation.PlaceOrderRequest) { r.Symbol = "rb2501" }, "code.EXCHANGE"},
		{"lower-case exchange", func(r *automation.PlaceOrderRequest) { r.Symbol = "rb2501.shfe" }, "capitals"},
		{"close today on DCE", func(r *automation.PlaceOrderRequest) {
			r.Symbol, r.Offset = "m2505.DCE", automation.OffsetCloseToday
		}, "only for SHFE and INE"},
		{"post only", func(r *automation.PlaceOrderRequest) { r.TimeInForce = automation.GTX }, "not available on CTP"},
		{"a market order with a price", func(r *automation.PlaceOrderRequest) { r.Type = automation.TypeMarket }, "takes no price"},
		{"reduce_only opening", func(r *automation.PlaceOrderRequest) {
			r.ReduceOnly, r.Offset = true, automation.OffsetOpen
		}, "contradicts"},
		{"a buy opening a short", func(r *automation.PlaceOrderRequest) {
			r.PositionSide, r.Offset = automation.PositionShort, automation.OffsetOpen
		}, "acts on the LONG position"},
		{"an unknown offset", func(r *automation.PlaceOrderRequest) { r.Offset = "CLOSE_ALL" }, "offset must be"},
	}
	peer := newPeer(t)
	h := ready(t, peer)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := limit("rb2501.SHFE", automation.SideBuy, "1", "3500")
			tt.edit(&req)
			_, err := h.term.PlaceOrder(ctx(t), req)
			if code(err) != automation.CodeRejected || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("PlaceOrder: %v, want rejected with %q", err, tt.want)
			}
		})
	}
	if n := peer.Requests("/order_solve"); peer.OrdersReceived() != 0 || n > 1 {
		t.Errorf("%d orders received, %d /order_solve requests: nothing should have been sent", peer.OrdersReceived(), n)
	}
}

// Every outcome of a sent order, settled from the book; never sent twice.
func TestPlaceOrderSettled(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(*ctpbeetest.Server)
		timeout string
		// want is the code; with ok, the order's status.
		want, status string
		msg          string
		received     int
	}{
		{"an early rejection", func(p *ctpbeetest.Server) { p.RejectNext("CTP:资金不足") }, "", "rejected", "", "CTP:资金不足", 1},
		{"a late rejection answered 成功下单", (*ctpbeetest.Server).RejectNextLate, "", "rejected", "", "after the backend had answered", 1},
		{"a dropped connection after the order was taken", (*ctpbeetest.Server).DropNextAnswer, "", "ok", "NEW", "", 1},
		{"a dropped connection before it was sent", (*ctpbeetest.Server).DropNextUnsent, "", "rejected", "", "no such order", 0},
		{"an answer slower than request_timeout", func(p *ctpbeetest.Server) { p.SetDelay("POST /order_solve", 4*time.Second) }, "1s", "ok", "NEW", "", 1},
		{"another client's identical order", func(p *ctpbeetest.Server) { p.DuplicateNext(1) }, "", "outcome_unknown", "", "2 orders", 1},
		{"a lost answer and another client's identical order", func(p *ctpbeetest.Server) {
			p.DuplicateNext(1)
			p.DropNextAnswer()
		}, "", "outcome_unknown", "", "1_-1139861502_1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newPeer(t)
			peer.SetPrice("rb2501.SHFE", 3500)
			opts := peerOptions(peer)
			if tt.timeout != "" {
				opts["request_timeout"] = tt.timeout
			}
			h := open(t, peer, opts)
			h.waitState(automation.StateReady)
			tt.fault(peer)
			o, err := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3400"))
			if got := string(code(err)); got != tt.want {
				t.Fatalf("PlaceOrder: %v (%s), want %s", err, got, tt.want)
			}
			if err == nil && string(o.Status) != tt.status {
				t.Errorf("status %s, want %s", o.Status, tt.status)
			}
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want %q in it", err, tt.msg)
			}
			if tt.want == "rejected" && tt.received == 0 && !errors.Is(err, automation.ErrNoSuchOrder) {
				t.Errorf("want ErrNoSuchOrder for an order the backend confirms it has not: %v", err)
			}
			if n := peer.OrdersReceived(); n != tt.received {
				t.Errorf("%d orders received, want %d", n, tt.received)
			}
		})
	}
}

// A deadline too short to read the book after a lost answer leaves the
// order outcome_unknown, still not resent.
func TestPlaceOrderUnsettledInTime(t *testing.T) {
	peer := newPeer(t)
	h := ready(t, peer)
	peer.DropNextAnswer()
	// The book read before the send is quick; the ones after it are not.
	peer.DelayAfterNextOrder("GET /order_solve", 10*time.Second)
	c, cancel := context.WithTimeout(ctx(t), 3*time.Second)
	defer cancel()
	req := limit("rb2501.SHFE", automation.SideBuy, "1", "3400")
	req.ClientOrderID = "cid-unsettled"
	_, err := h.term.PlaceOrder(c, req)
	if code(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("PlaceOrder: %v, want outcome_unknown", err)
	}
	// The backend answers again: brokerd's settler asks by the client
	// order id, and the book settles it.
	peer.SetDelay("GET /order_solve", 0)
	o, err := h.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "cid-unsettled"})
	if err != nil || o.OrderID != peer.Orders()[0].OrderID || o.ClientOrderID != "cid-unsettled" {
		t.Fatalf("OrderStatus by client order id: %+v %v", o, err)
	}
	if peer.OrdersReceived() != 1 {
		t.Errorf("%d orders received", peer.OrdersReceived())
	}
}

func TestCancelOrder(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	h := ready(t, peer)
	resting, err := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3400"))
	if err != nil {
		t.Fatal(err)
	}
	filled, err := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3500"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  automation.OrderRef
		want string
	}{
		{"a resting order", automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: resting.OrderID}, "CANCELED"},
		{"again", automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: resting.OrderID}, "rejected"},
		{"a filled order", automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: filled.OrderID}, "rejected"},
		{"an unknown id", automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: "1_2_999"}, "no such order"},
		{"another symbol", automation.OrderRef{Symbol: "hc2501.SHFE", OrderID: resting.OrderID}, "no such order"},
		{"an unknown client order id", automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "x"}, "outcome_unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := peer.Requests("/order_solve")
			o, err := h.term.CancelOrder(ctx(t), tt.ref)
			got := string(code(err))
			switch {
			case err == nil:
				got = string(o.Status)
			case errors.Is(err, automation.ErrNoSuchOrder):
				got = "no such order"
			}
			if got != tt.want {
				t.Fatalf("CancelOrder: %v %v, want %s", orderString(o), err, tt.want)
			}
			if err != nil && peer.Requests("/order_solve") != before+1 {
				t.Error("a refused cancel sent a DELETE")
			}
		})
	}
	if open, err := h.term.OpenOrders(ctx(t), "rb2501.SHFE"); err != nil || len(open) != 0 {
		t.Errorf("open orders %v %v", open, err)
	}
}

func TestOpenOrdersAndStatus(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPrice("m2505.DCE", 2900)
	h := ready(t, peer)
	a, _ := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3400"))
	h.term.PlaceOrder(ctx(t), limit("m2505.DCE", automation.SideSell, "3", "3000"))
	all, err := h.term.OpenOrders(ctx(t), "")
	if err != nil || len(all) != 2 {
		t.Fatalf("OpenOrders: %v %v", all, err)
	}
	one, err := h.term.OpenOrders(ctx(t), "rb2501.SHFE")
	if err != nil || len(one) != 1 || one[0].OrderID != a.OrderID {
		t.Fatalf("OpenOrders(rb2501.SHFE): %v %v", one, err)
	}
	// The price moves through the resting buy: it fills, and the next
	// book read reports it as a venue event.
	peer.SetPrice("rb2501.SHFE", 3390)
	o, err := h.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: a.OrderID})
	if err != nil || o.Status != automation.StatusFilled || !o.AvgPrice.Equal(dec("3400")) {
		t.Fatalf("OrderStatus: %s avg %s, %v", orderString(o), o.AvgPrice, err)
	}
	var saw bool
	for _, ev := range h.Events() {
		if eo, ok := ev.Data.(automation.ExchangeOrder); ok && ev.Kind == "order" && eo.OrderID == a.OrderID && eo.Status == automation.StatusFilled {
			saw = true
		}
	}
	if !saw {
		t.Errorf("no venue event for the fill: %v", h.Events())
	}
}

// A cancel and a close whose answers were lost are confirmed from the
// book, not sent again.
func TestLostAnswersOfCancelAndClose(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPosition("rb2501.SHFE", "short", 1, 0, 3600)
	h := ready(t, peer)
	o, err := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3400"))
	if err != nil {
		t.Fatal(err)
	}
	peer.DropNext("DELETE /order_solve")
	c, err := h.term.CancelOrder(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: o.OrderID})
	if err != nil || c.Status != automation.StatusCanceled {
		t.Fatalf("CancelOrder: %s %v", orderString(c), err)
	}
	peer.DropNext("POST /close_position")
	closed, err := h.term.ClosePosition(ctx(t), automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionShort})
	if err != nil || closed.Offset != automation.OffsetCloseToday || closed.Status != automation.StatusFilled {
		t.Fatalf("ClosePosition: %s %v", orderString(closed), err)
	}
	if peer.Requests("/close_position") != 1 || peer.ClosesReceived() != 1 {
		t.Errorf("%d closes", peer.Requests("/close_position"))
	}
}
