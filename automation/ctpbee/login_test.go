package ctpbee

import (
	"context"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

func TestOpenRefusesBadOptions(t *testing.T) {
	peer := newPeer(t)
	tests := []struct {
		name string
		edit func(tomlOptions)
		want string
	}{
		{"no url", func(o tomlOptions) { delete(o, "url") }, "url is required"},
		{"not http", func(o tomlOptions) { o["url"] = "ftp://x" }, "http:// or https://"},
		{"credentials in the url", func(o tomlOptions) { o["url"] = "http://u:p@127.0.0.1:1" }, "must not carry credentials"},
		{"no password_env", func(o tomlOptions) { delete(o, "password_env") }, "password_env is required"},
		{"unset variable", func(o tomlOptions) { o["userid_env"] = "NOT_SET" }, "NOT_SET is not set"},
		{"unknown key", func(o tomlOptions) { o["secret"] = "x" }, "missing in the target"},
		{"bad timeout", func(o tomlOptions) { o["request_timeout"] = "soon" }, "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := peerOptions(peer)
			tt.edit(opts)
			_, err := Open(context.Background(), "ctp", opts, automation.Env{Getenv: func(k string) string { return testEnv[k] }})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error with %q", err, tt.want)
			}
			noSecret(t, err)
		})
	}
}

func TestOpenLogsInInTheBackground(t *testing.T) {
	peer := newPeer(t)
	h := ready(t, peer)
	if _, err := h.term.OpenOrders(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
	if n := peer.Requests("/login"); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	if !h.term.Supports(automation.OpClosePosition) || h.term.Supports(automation.OpAsset) || h.term.Supports(automation.OpSymbolInfo) {
		t.Error("Supports: want close_position, not asset nor symbol_info")
	}
	if _, err := h.term.Assets(ctx(t)); code(err) != automation.CodeUnsupported {
		t.Errorf("Assets: %v, want unsupported", err)
	}
}

func TestRefusedLoginIsAnErrorUntilReconnect(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ctpbeetest.Server, tomlOptions)
		want string
	}{
		{"wrong authorization", func(_ *ctpbeetest.Server, o tomlOptions) { o["authorization_env"] = "CTP_USER" }, "授权码错误"},
		{"CTP refuses", func(p *ctpbeetest.Server, _ tomlOptions) { p.RefuseLogins(1) }, "登录出现错误"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newPeer(t)
			opts := peerOptions(peer)
			tt.edit(peer, opts)
			h := open(t, peer, opts)
			h.waitState(automation.StateError)
			if !strings.Contains(h.term.reason, tt.want) {
				t.Errorf("reason %q, want %q", h.term.reason, tt.want)
			}
			// No login by itself (CTP locks accounts after wrong
			// passwords): an operation is refused without one.
			_, err := h.term.OpenOrders(ctx(t), "")
			if code(err) != automation.CodeNotConnected {
				t.Fatalf("OpenOrders: %v, want not_connected", err)
			}
			noSecret(t, err)
			if n := peer.Requests("/login"); n != 1 {
				t.Errorf("%d logins, want 1", n)
			}
			if tt.name == "CTP refuses" {
				if err := h.term.Reconnect(ctx(t)); err != nil {
					t.Fatalf("Reconnect: %v", err)
				}
				h.waitState(automation.StateReady)
			}
		})
	}
}

func TestRefusedTokenLogsInAgainOnce(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*ctpbeetest.Server)
	}{
		{"expired", (*ctpbeetest.Server).ExpireToken},
		{"replaced by another login", (*ctpbeetest.Server).LoginElsewhere},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newPeer(t)
			h := ready(t, peer)
			peer.SetPrice("rb2501.SHFE", 3500)
			tt.break_(peer)
			o, err := h.term.PlaceOrder(ctx(t), automation.PlaceOrderRequest{
				Symbol: "rb2501.SHFE", Side: automation.SideBuy, Type: automation.TypeLimit,
				Quantity: dec("1"), Price: dec("3400"), TimeInForce: automation.GTC,
			})
			if err != nil {
				t.Fatalf("PlaceOrder: %v", err)
			}
			if o.Status != automation.StatusNew || peer.OrdersReceived() != 1 {
				t.Errorf("order %s, %d received", orderString(o), peer.OrdersReceived())
			}
			if n := peer.Requests("/login"); n != 2 {
				t.Errorf("%d logins, want 2", n)
			}
			if h.term.State() != automation.StateReady {
				t.Errorf("state %s", h.term.State())
			}
		})
	}
}

func TestTokenRefusedAfterAFreshLoginIsAnError(t *testing.T) {
	peer := newPeer(t)
	h := ready(t, peer)
	peer.RefuseTokens(true)
	_, err := h.term.PlaceOrder(ctx(t), automation.PlaceOrderRequest{
		Symbol: "rb2501.SHFE", Side: automation.SideBuy, Type: automation.TypeLimit, Quantity: dec("1"), Price: dec("3400"),
	})
	if code(err) != automation.CodeNotConnected {
		t.Fatalf("PlaceOrder: %v, want not_connected", err)
	}
	if h.term.State() != automation.StateError {
		t.Errorf("state %s, want error", h.term.State())
	}
	if n := peer.Requests("/login"); n != 2 {
		t.Errorf("%d logins, want 2 (one again, once)", n)
	}
	if peer.OrdersReceived() != 0 {
		t.Error("an order was sent")
	}
}

// A backend that cannot be reached: Open returns at once, the terminal
// says reconnecting, and an order is not_connected with nothing sent.
func TestBackendDown(t *testing.T) {
	peer := newPeer(t)
	opts := peerOptions(peer)
	peer.Close()
	h := open(t, peer, opts)
	h.waitState(automation.StateReconnecting)
	_, err := h.term.PlaceOrder(ctx(t), automation.PlaceOrderRequest{
		Symbol: "rb2501.SHFE", Side: automation.SideBuy, Type: automation.TypeLimit, Quantity: dec("1"), Price: dec("3400"),
	})
	if code(err) != automation.CodeNotConnected {
		t.Fatalf("PlaceOrder: %v, want not_connected", err)
	}
}
