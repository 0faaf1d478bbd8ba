package ctpbee

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

func TestPositions(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPosition("rb2501.SHFE", "long", 2, 3, 3400)
	peer.SetPosition("rb2501.SHFE", "short", 0, 1, 3600)
	peer.SetPosition("m2505.DCE", "long", 1, 0, 2900)
	h := ready(t, peer)
	all, err := h.term.Positions(ctx(t), "")
	if err != nil || len(all) != 3 {
		t.Fatalf("Positions: %v %v", all, err)
	}
	got := map[string]automation.ExchangePosition{}
	for _, p := range all {
		got[p.Symbol+" "+string(p.PositionSide)] = p
	}
	tests := []struct {
		key, qty, today, yesterday, entry, pnl string
	}{
		{"rb2501.SHFE LONG", "5", "2", "3", "3400", "500"},
		{"rb2501.SHFE SHORT", "-1", "0", "1", "3600", "100"},
		{"m2505.DCE LONG", "1", "1", "0", "2900", "0"},
	}
	for _, tt := range tests {
		p, ok := got[tt.key]
		if !ok {
			t.Errorf("no %s in %v", tt.key, all)
			continue
		}
		if !p.Quantity.Equal(dec(tt.qty)) || !p.TodayQuantity.Equal(dec(tt.today)) || !p.YesterdayQuantity.Equal(dec(tt.yesterday)) ||
			!p.EntryPrice.Equal(dec(tt.entry)) || !p.UnrealizedPnL.Equal(dec(tt.pnl)) {
			t.Errorf("%s: qty %s today %s yesterday %s entry %s pnl %s, want %v", tt.key, p.Quantity, p.TodayQuantity, p.YesterdayQuantity, p.EntryPrice, p.UnrealizedPnL, tt)
		}
	}
	one, err := h.term.Positions(ctx(t), "m2505.DCE")
	if err != nil || len(one) != 1 {
		t.Errorf("Positions(m2505.DCE): %v %v", one, err)
	}
}

func TestClosePosition(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*ctpbeetest.Server)
		req     automation.ClosePositionRequest
		want    string // the answered order, or the error code
		orders  []string
		left    ctpbeetest.Position
		closes  int
		errText string
	}{
		{
			name: "close all of a long on DCE",
			setup: func(p *ctpbeetest.Server) {
				p.SetPrice("m2505.DCE", 2900)
				p.SetPosition("m2505.DCE", "long", 1, 2, 2800)
			},
			req:    automation.ClosePositionRequest{Symbol: "m2505.DCE", PositionSide: automation.PositionLong},
			want:   "m2505.DCE SELL CLOSE FILLED 3/3@2900",
			orders: []string{"short close 3 全部成交"}, left: ctpbeetest.Position{}, closes: 1,
		},
		{
			name:   "close today's lots of a short on SHFE",
			setup:  func(p *ctpbeetest.Server) { p.SetPosition("rb2501.SHFE", "short", 2, 3, 3600) },
			req:    automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionShort, Quantity: dec("2")},
			want:   "rb2501.SHFE BUY CLOSE_TODAY FILLED 2/2@3500",
			orders: []string{"long closetoday 2 全部成交"}, left: ctpbeetest.Position{Today: 0, Yesterday: 3}, closes: 1,
		},
		{
			name:   "today's and yesterday's lots on SHFE are two orders",
			setup:  func(p *ctpbeetest.Server) { p.SetPosition("rb2501.SHFE", "long", 2, 3, 3400) },
			req:    automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionLong, Quantity: dec("4")},
			want:   "rb2501.SHFE SELL CLOSE_TODAY FILLED 2/2@3500",
			orders: []string{"short closetoday 2 全部成交", "short closeyesterday 2 全部成交"}, left: ctpbeetest.Position{Today: 0, Yesterday: 1}, closes: 1,
		},
		{
			name: "no holding: nothing sent",
			req:  automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionLong},
			want: "rejected", errText: "no LONG position",
		},
		{
			name:  "more than held: nothing sent",
			setup: func(p *ctpbeetest.Server) { p.SetPosition("rb2501.SHFE", "long", 1, 0, 3400) },
			req:   automation.ClosePositionRequest{Symbol: "rb2501.SHFE", PositionSide: automation.PositionLong, Quantity: dec("2")},
			want:  "rejected", errText: "more than the LONG position", left: ctpbeetest.Position{Today: 1},
		},
		{
			name:  "no last price: the backend's 500, nothing sent",
			setup: func(p *ctpbeetest.Server) { p.SetPosition("cu2501.SHFE", "long", 1, 0, 70000) },
			req:   automation.ClosePositionRequest{Symbol: "cu2501.SHFE", PositionSide: automation.PositionLong},
			want:  "rejected", errText: "HTTP 500", left: ctpbeetest.Position{Today: 1},
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
			o, err := h.term.ClosePosition(ctx(t), tt.req)
			got := string(code(err))
			if err == nil {
				got = orderString(o)
			}
			if got != tt.want || (tt.errText != "" && !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("ClosePosition: %s %v, want %s %s", got, err, tt.want, tt.errText)
			}
			var orders []string
			for _, o := range peer.Orders() {
				orders = append(orders, strings.Join([]string{o.Direction, o.Offset, strconv.Itoa(o.Volume), o.Status}, " "))
			}
			if strings.Join(orders, "; ") != strings.Join(tt.orders, "; ") {
				t.Errorf("orders %v, want %v", orders, tt.orders)
			}
			side := "long"
			if tt.req.PositionSide == automation.PositionShort {
				side = "short"
			}
			if left := peer.PositionOf(tt.req.Symbol, side); left != tt.left {
				t.Errorf("left %+v, want %+v", left, tt.left)
			}
			if peer.ClosesReceived() != tt.closes && tt.errText != "HTTP 500" {
				t.Errorf("%d closes received, want %d", peer.ClosesReceived(), tt.closes)
			}
			if tt.errText == "HTTP 500" && !errors.Is(err, automation.ErrNoSuchOrder) {
				t.Errorf("want a confirmed absence: %v", err)
			}
		})
	}
}

func TestCachedRules(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	peer.SetPosition("rb2501.SHFE", "long", 2, 3, 3400)
	h := ready(t, peer)
	if _, err := h.term.Positions(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
	if q, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionLong); !ok || !q.Equal(dec("5")) {
		t.Errorf("long: %s %v, want 5 known", q, ok)
	}
	if q, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionShort); !ok || !q.IsZero() {
		t.Errorf("short: %s %v, want 0 known", q, ok)
	}
	// A resting buy could add to the long side: unknown until it ends.
	o, err := h.term.PlaceOrder(ctx(t), limit("rb2501.SHFE", automation.SideBuy, "1", "3400"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionLong); ok {
		t.Error("long known with an open buy resting")
	}
	if _, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionShort); !ok {
		t.Error("short unknown: a resting buy cannot add to it")
	}
	if _, err := h.term.CancelOrder(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", OrderID: o.OrderID}); err != nil {
		t.Fatal(err)
	}
	if q, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionLong); !ok || !q.Equal(dec("5")) {
		t.Errorf("long after the cancel: %s %v, want 5 known", q, ok)
	}
	h.term.markSent("rb2501.SHFE")
	if _, ok := h.term.CachedPosition("rb2501.SHFE", automation.PositionLong); ok {
		t.Error("long known after an order was sent, before the book was read")
	}

	for _, tt := range []struct {
		symbol   string
		ok, dist bool
	}{
		{"rb2501.SHFE", true, true}, {"sc2503.INE", true, true}, {"m2505.DCE", true, false},
		{"IF2501.CFFEX", true, false}, {"SR501.CZCE", true, false}, {"rb2501", false, false}, {"600000.SSE", false, false},
	} {
		info, ok := h.term.CachedSymbol(tt.symbol)
		if ok != tt.ok || info.CloseTodayDistinct != tt.dist || (ok && (!info.QuantityStep.Equal(dec("1")) || !info.PriceTick.IsZero())) {
			t.Errorf("CachedSymbol(%s): %+v %v", tt.symbol, info, ok)
		}
	}
}
