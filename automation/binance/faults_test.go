package binance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

// TestClockSkewNeverCausesMinus1021: the peer's clock is minutes off the
// machine's; timestamps come from the offset measured at connect.
func TestClockSkewNeverCausesMinus1021(t *testing.T) {
	for _, off := range []time.Duration{-7 * time.Minute, 3 * time.Minute} {
		t.Run(off.String(), func(t *testing.T) {
			h := newHarness(t, setup{peer: binancetest.Config{ClockOffset: off}})
			h.ready(t)
			ctx := ctxFor(t, 20*time.Second)
			for range 3 {
				if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
					t.Fatalf("place with the peer's clock %s off: %v", off, err)
				}
			}
		})
	}
}

// TestMinus1021ResyncsTheClock: a clock that moves after connect earns
// one -1021 (rejected, Binance's code kept); the offset is measured again
// and the next order passes.
func TestMinus1021ResyncsTheClock(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	ctx := ctxFor(t, 20*time.Second)
	h.peer.SetClockOffset(-2 * time.Minute)
	_, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0"))
	if venueCode(err) != "-1021" || automation.CodeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "Timestamp for this request") {
		t.Fatalf("place after the clock moved: %v", err)
	}
	waitFor(t, "the offset measured again", func() bool {
		return time.Duration(h.term.offset.Load()) < -time.Minute
	})
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatalf("place after the resync: %v", err)
	}
}

// TestVenueErrorsKeepBinancesCodeAndMessage: refusals are rejected with
// Binance's code and message, and nothing is looked up or resent.
func TestVenueErrorsKeepBinancesCodeAndMessage(t *testing.T) {
	tests := []struct {
		name  string
		fault binancetest.Fault
		peer  binancetest.Config
		req   func(h *harness) automation.PlaceOrderRequest
		code  string
		msg   string
	}{
		{name: "-1102 mandatory parameter", fault: binancetest.Fault{Method: "order.place", Code: -1102, Msg: "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."}, code: "-1102", msg: "Mandatory parameter 'quantity'"},
		{name: "-1022 bad signature", peer: binancetest.Config{Secret: "not-the-secret"}, code: "-1022", msg: "Signature for this request is not valid."},
		{name: "-4164 notional", req: func(h *harness) automation.PlaceOrderRequest { return h.limit("0.001", "40000.0") }, code: "-4164", msg: "notional must be no smaller than 100"},
		{name: "-4014 tick", req: func(h *harness) automation.PlaceOrderRequest { return h.limit("0.010", "40000.05") }, code: "-4014", msg: "tick size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{peer: tt.peer})
			h.ready(t)
			if tt.fault.Method != "" {
				h.peer.Inject(tt.fault)
			}
			req := h.limit("0.010", "40000.0")
			if tt.req != nil {
				req = tt.req(h)
			}
			_, err := h.term.PlaceOrder(ctxFor(t, 10*time.Second), req)
			if automation.CodeOf(err) != automation.CodeRejected || venueCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v (code %s, venue %s)", err, automation.CodeOf(err), venueCode(err))
			}
			if n := h.peer.PlaceCount(req.ClientOrderID); n != 1 {
				t.Errorf("order.place sent %d times", n)
			}
			if n := len(h.peer.Received("order.status")); n != 0 {
				t.Errorf("a refusal was looked up %d times", n)
			}
			if h.term.State() != automation.StateReady {
				t.Errorf("state %s after a refusal", h.term.State())
			}
		})
	}
}

// TestUnknownOutcomesAreSettled: every way an answer can be lost ends in
// the order found or confirmed absent, with order.place sent once.
func TestUnknownOutcomesAreSettled(t *testing.T) {
	tests := []struct {
		name    string
		fault   binancetest.Fault
		placed  bool
		timeout time.Duration // the operation's deadline
	}{
		{name: "-1007 while the order is placed", fault: binancetest.Fault{Method: "order.place", Kind: binancetest.FaultUnknown}, placed: true},
		{name: "socket dropped after taking the order", fault: binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropAfter}, placed: true},
		{name: "socket dropped before taking the order", fault: binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDropBefore}, placed: false},
		{name: "answer never comes", fault: binancetest.Fault{Method: "order.place", Kind: binancetest.FaultSilent}, placed: true, timeout: 4 * time.Second},
		{name: "answer after the deadline", fault: binancetest.Fault{Method: "order.place", Kind: binancetest.FaultDelay, Delay: 3 * time.Second}, placed: true, timeout: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{})
			h.ready(t)
			h.peer.Inject(tt.fault)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			req := h.limit("0.010", "40000.0")
			o, err := h.term.PlaceOrder(ctxFor(t, timeout), req)
			if tt.placed {
				if err != nil {
					t.Fatalf("err = %v, want the order found", err)
				}
				if o.ClientOrderID != req.ClientOrderID || o.Status != automation.StatusNew {
					t.Fatalf("found %+v", o)
				}
			} else {
				if !errors.Is(err, automation.ErrNoSuchOrder) || automation.CodeOf(err) != automation.CodeRejected {
					t.Fatalf("err = %v, want NoSuchOrder", err)
				}
				if _, ok := h.peer.Order("BTCUSDT", req.ClientOrderID); ok {
					t.Fatal("the peer has the order the driver says is absent")
				}
			}
			if n := h.peer.PlaceCount(req.ClientOrderID); n != 1 {
				t.Errorf("order.place sent %d times", n)
			}
			if len(h.peer.Received("order.status")) == 0 {
				t.Error("the outcome was not asked for")
			}
		})
	}
}

// TestOutcomeUnknownOnlyWhenBinanceCannotBeAsked: the answer is lost and
// every lookup too; the deadline ends it as outcome_unknown, never a
// resend.
func TestOutcomeUnknownOnlyWhenBinanceCannotBeAsked(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	h.peer.Inject(binancetest.Fault{Method: "order.place", Kind: binancetest.FaultSilent})
	h.peer.Inject(binancetest.Fault{Method: "order.status", Kind: binancetest.FaultSilent, Count: 1000})
	req := h.limit("0.010", "40000.0")
	_, err := h.term.PlaceOrder(ctxFor(t, 2*time.Second), req)
	if automation.CodeOf(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("err = %v, want outcome_unknown", err)
	}
	if n := h.peer.PlaceCount(req.ClientOrderID); n != 1 {
		t.Errorf("order.place sent %d times", n)
	}
}

// TestDuplicateClientOrderID: -2010 for a client order id already open
// answers the order placed under it when it is the same order, and stays a
// refusal when it is another.
func TestDuplicateClientOrderID(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	ctx := ctxFor(t, 20*time.Second)
	req := h.limit("0.010", "40000.0")
	first, err := h.term.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.term.PlaceOrder(ctx, req)
	if err != nil || again.OrderID != first.OrderID {
		t.Fatalf("same order again: %+v, %v; want order %s", again, err, first.OrderID)
	}
	other := req
	other.Price = d("39000.0")
	_, err = h.term.PlaceOrder(ctx, other)
	if venueCode(err) != "-2010" || automation.CodeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), first.OrderID) {
		t.Fatalf("another order under the same id: %v", err)
	}
	if n := len(h.peer.Orders()); n != 1 {
		t.Errorf("the peer has %d orders", n)
	}
}

// TestRevokedKeyIsStateError: -2015 with "id": null ends the session; the
// terminal goes to error and stays there (no reconnect loop) until
// Reconnect.
func TestRevokedKeyIsStateError(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	h.peer.RevokeKey()
	ctx := ctxFor(t, 10*time.Second)
	_, err := h.term.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", ClientOrderID: "x"})
	if err == nil || venueCode(err) != "-2015" {
		t.Fatalf("err = %v, want -2015", err)
	}
	waitFor(t, "state error", func() bool { return h.term.State() == automation.StateError })
	accepted := h.peer.Stats().Accepted
	time.Sleep(600 * time.Millisecond)
	if got := h.peer.Stats().Accepted; got != accepted {
		t.Errorf("the driver reconnected %d times with a revoked key", got-accepted)
	}
	if h.term.State() != automation.StateError {
		t.Errorf("state %s", h.term.State())
	}
	_, err = h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0"))
	if automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("place with a revoked key: %v, want not_connected", err)
	}
	h.peer.RestoreKey()
	if err := h.term.Reconnect(ctx); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	if _, err := h.term.PlaceOrder(ctx, h.limit("0.010", "40000.0")); err != nil {
		t.Fatalf("place after reconnect: %v", err)
	}
}

// TestRevokedKeyWhileOrderInFlight: the session is revoked under an
// order.place; Binance cannot be asked, so the outcome is unknown.
func TestRevokedKeyWhileOrderInFlight(t *testing.T) {
	h := newHarness(t, setup{})
	h.ready(t)
	h.peer.RevokeKey()
	req := h.limit("0.010", "40000.0")
	_, err := h.term.PlaceOrder(ctxFor(t, 10*time.Second), req)
	if automation.CodeOf(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("err = %v", err)
	}
	waitFor(t, "state error", func() bool { return h.term.State() == automation.StateError })
}

// TestLogonRefusedIsStateError: a wrong Ed25519 key fails session.logon
// (-1022): error at once, not a retry loop.
func TestLogonRefusedIsStateError(t *testing.T) {
	h := newHarness(t, setup{ed25519: true})
	h.ready(t)
	h.peer.RevokeKey()
	h.peer.DropConnections()
	waitFor(t, "state error", func() bool { return h.term.State() == automation.StateError })
	n := len(h.peer.Received("session.logon"))
	time.Sleep(600 * time.Millisecond)
	if got := len(h.peer.Received("session.logon")); got != n {
		t.Errorf("logon tried %d more times", got-n)
	}
}

// TestOpenDoesNotBlock: nothing listens; Open returns at once, connecting.
func TestOpenDoesNotBlock(t *testing.T) {
	opts := tomlOptions(`
url = "ws://127.0.0.1:1/ws-fapi/v1"
rest_url = "http://127.0.0.1:1"
api_key_env = "K"
secret_env = "S"
`)
	env := automation.Env{Getenv: func(string) string { return "x" }}
	term, err := Open(context.Background(), "b", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	if s := term.State(); s != automation.StateConnecting && s != automation.StateReconnecting {
		t.Errorf("state %s", s)
	}
	_, err = term.(*Terminal).PlaceOrder(ctxFor(t, 200*time.Millisecond), automation.PlaceOrderRequest{
		Symbol: "BTCUSDT", Side: automation.SideBuy, Type: automation.TypeMarket, Quantity: d("1"), ClientOrderID: "a",
	})
	if automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("place while connecting: %v", err)
	}
	term.Close()
	if term.State() != automation.StateDisconnected {
		t.Errorf("state after close %s", term.State())
	}
}
