package ctpbee

import (
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// A day of trading touches only /login, /order_solve and /close_position:
// never the strategy and code endpoints.
func TestOnlyTheTradingEndpoints(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPosition("rb2501.SHFE", "short", 1, 1, 3600)
	h := ready(t, peer)
	c := ctx(t)
	steps := []func() error{
		func() error {
			_, err := h.term.PlaceOrder(c, limit("rb2501.SHFE", automation.SideBuy, "1", "3500"))
			return err
		},
		func() error {
			o, err := h.term.PlaceOrder(c, limit("rb2501.SHFE", automation.SideBuy, "1", "3300"))
			if err == nil {
				_, err = h.term.CancelOrder(c, automation.OrderRef{Symbol: o.Symbol, OrderID: o.OrderID})
			}
			return err
		},
		func() error {
			_, err := h.term.ClosePosition(c, automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionShort})
			return err
		},
		func() error { _, err := h.term.Positions(c, ""); return err },
		func() error { _, err := h.term.OpenOrders(c, ""); return err },
		func() error { return h.term.Reconnect(c) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	for _, p := range []string{"/strategy", "/check_code", "/run_code", "/code"} {
		if n := peer.Requests(p); n != 0 {
			t.Errorf("%d requests to %s", n, p)
		}
	}
	if got := strings.Join(peer.Paths(), " "); got != "/close_position /login /order_solve" {
		t.Errorf("paths requested: %s", got)
	}
}
