package binance

import (
	"errors"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
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
