package binance

import (
	"errors"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

func TestPlaceQueryCancel(t *testing.T) {
	for _, ed := range []bool{false, true} {
		name := map[bool]string{false: "hmac", true: "ed25519"}[ed]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, setup{ed25519: ed})
			h.ready(t)
			ctx := ctxFor(t, 20*time.Second)

			req := h.limit("0.010", "40000.0")
			o, err := h.term.PlaceOrder(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != automation.StatusNew || o.ClientOrderID != req.ClientOrderID || !o.Price.Equal(d("40000")) || !o.Quantity.Equal(d("0.01")) {
				t.Fatalf("placed %+v", o)
			}
			byCID, err := h.term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", ClientOrderID: req.ClientOrderID})
			if err != nil || byCID.OrderID != o.OrderID {
				t.Fatalf("status by client id: %+v, %v", byCID, err)
			}
			byID, err := h.term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: o.OrderID})
			if err != nil || byID.ClientOrderID != req.ClientOrderID {
				t.Fatalf("status by id: %+v, %v", byID, err)
			}
			c, err := h.term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: o.OrderID})
			if err != nil || c.Status != automation.StatusCanceled {
				t.Fatalf("cancel: %+v, %v", c, err)
			}
			_, err = h.term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: o.OrderID})
			if venueCode(err) != "-2011" || automation.CodeOf(err) != automation.CodeRejected {
				t.Fatalf("second cancel: %v", err)
			}
			_, err = h.term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", ClientOrderID: "never-placed"})
			if !errors.Is(err, automation.ErrNoSuchOrder) || venueCode(err) != "-2013" {
				t.Fatalf("status of an unknown order: %v", err)
			}

			m, err := h.term.PlaceOrder(ctx, automation.PlaceOrderRequest{
				Symbol: "BTCUSDT", Side: automation.SideSell, Type: automation.TypeMarket, Quantity: d("0.004"), ClientOrderID: h.cid(),
			})
			if err != nil || m.Status != automation.StatusFilled || !m.AvgPrice.Equal(d("50000")) || !m.ExecutedQuantity.Equal(d("0.004")) {
				t.Fatalf("market: %+v, %v", m, err)
			}
			pos, err := h.term.Positions(ctx, "BTCUSDT")
			if err != nil || len(pos) != 1 || !pos[0].Quantity.Equal(d("-0.004")) || !pos[0].EntryPrice.Equal(d("50000")) || !pos[0].Leverage.Equal(d("20")) {
				t.Fatalf("positions: %+v, %v", pos, err)
			}
			assets, err := h.term.Assets(ctx)
			if err != nil || len(assets) != 1 || assets[0].Asset != "USDT" || !assets[0].Balance.Equal(d("10000")) {
				t.Fatalf("assets: %+v, %v", assets, err)
			}
			if got := len(h.peer.Received("session.logon")); (got == 1) != ed {
				t.Errorf("session.logon received %d times", got)
			}
			for _, r := range h.peer.Received("order.place") {
				if _, signed := r.Params["signature"]; signed == ed {
					t.Errorf("order.place signed=%v with ed25519=%v", signed, ed)
				}
			}
		})
	}
}

func venueCode(err error) string {
	var e *automation.Error
	if errors.As(err, &e) {
		return e.VenueCode
	}
	return ""
}

// TestOpenOrders reads the open orders over signed REST, with both keys.
func TestOpenOrders(t *testing.T) {
	for _, ed := range []bool{false, true} {
		t.Run(map[bool]string{false: "hmac", true: "ed25519"}[ed], func(t *testing.T) {
			h := newHarness(t, setup{ed25519: ed, peer: binancetest.Config{ClockOffset: 90 * time.Second}})
			h.ready(t)
			ctx := ctxFor(t, 10*time.Second)
			if !h.term.Supports(automation.OpOpenOrders) {
				t.Fatal("open_orders not supported")
			}
			a, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := h.term.PlaceOrder(ctx, h.limit("0.010", "41000.0"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: a.OrderID}); err != nil {
				t.Fatal(err)
			}
			for _, symbol := range []string{"BTCUSDT", ""} {
				open, err := h.term.OpenOrders(ctx, symbol)
				if err != nil || len(open) != 1 || open[0].OrderID != b.OrderID || !open[0].Price.Equal(d("41000")) {
					t.Fatalf("open orders of %q: %+v, %v", symbol, open, err)
				}
			}
			if _, err := h.term.OpenOrders(ctx, "btc usdt"); automation.CodeOf(err) != automation.CodeRejected {
				t.Errorf("bad symbol: %v", err)
			}
			h.peer.RevokeKey()
			if _, err := h.term.OpenOrders(ctx, "BTCUSDT"); venueCode(err) != "-2015" {
				t.Errorf("revoked key: %v", err)
			}
		})
	}
}

// TestClosePosition closes a short in part, then all of it, with
// reduce-only MARKET orders.
func TestClosePosition(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	ctx := ctxFor(t, 10*time.Second)
	if _, err := h.term.PlaceOrder(ctx, automation.PlaceOrderRequest{
		Symbol: "BTCUSDT", Side: automation.SideSell, Type: automation.TypeMarket, Quantity: d("0.005"), ClientOrderID: h.cid(),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTCUSDT", PositionSide: automation.PositionLong, ClientOrderID: h.cid()}); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("closing a long that is not there: %v", err)
	}
	if _, err := h.term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTCUSDT", PositionSide: automation.PositionShort, Quantity: d("0.006"), ClientOrderID: h.cid()}); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("closing more than the position: %v", err)
	}
	part := h.cid()
	o, err := h.term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTCUSDT", PositionSide: automation.PositionShort, Quantity: d("0.002"), ClientOrderID: part})
	if err != nil || o.Side != automation.SideBuy || !o.ReduceOnly || o.Status != automation.StatusFilled || o.ClientOrderID != part {
		t.Fatalf("partial close: %+v, %v", o, err)
	}
	if _, err := h.term.ClosePosition(ctx, automation.ClosePositionRequest{Symbol: "BTCUSDT", PositionSide: automation.PositionShort, ClientOrderID: h.cid()}); err != nil {
		t.Fatal(err)
	}
	if pos, err := h.term.Positions(ctx, "BTCUSDT"); err != nil || len(pos) != 0 {
		t.Errorf("positions after closing all: %+v, %v", pos, err)
	}
}
