package gateway

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

func TestLoginIsNotReadiness(t *testing.T) {
	r := newRig(t)
	r.peer.SetNoReady("huobi", true)
	term := r.open("huobi", "huobi", nil, nil)
	eventually(t, "the login and its state 2", func() bool {
		return r.peer.Sessions("huobi") == 1 && strings.Contains(term.Reason(), "CONNECT_SUCCESS")
	})
	if st := term.State(); st != automation.StateConnecting {
		t.Fatalf("logged in but not READY: state %s, want connecting", st)
	}
	r.peer.SendState("huobi", gatewaytest.StateReady, "ready")
	waitState(t, term, automation.StateReady)
}

func TestDelayedReady(t *testing.T) {
	r := newRig(t)
	r.peer.SetReadyDelay(150 * time.Millisecond)
	term := r.open("huobi", "huobi", nil, nil)
	if st := term.State(); st != automation.StateConnecting {
		t.Fatalf("just opened: %s, want connecting", st)
	}
	// An operation waits for READY instead of failing.
	if _, err := term.Assets(ctxT(t)); err != nil {
		t.Fatalf("assets across the wait for READY: %v", err)
	}
	if term.State() != automation.StateReady {
		t.Fatalf("state %s after an answered request", term.State())
	}
}

func TestReadyNeverComes(t *testing.T) {
	r := newRig(t)
	r.peer.SetNoReady("okex", true)
	term := r.open("okex", "okex", map[string]any{"login_timeout": "200ms"}, nil)
	waitState(t, term, automation.StateError)
	mustContain(t, term.Reason(), "no READY within login_timeout 200ms")
	// An operation on a terminal in error fails at once, nothing sent.
	_, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90"))
	if codeOf(err) != automation.CodeNotConnected {
		t.Fatalf("place_order in error: %v (%s), want not_connected", err, codeOf(err))
	}
	if n := r.peer.PlaceOrders("okex"); n != 0 {
		t.Fatalf("%d place_order sent while not ready", n)
	}
	// A late READY still makes it ready.
	r.peer.SendState("okex", gatewaytest.StateReady, "at last")
	waitState(t, term, automation.StateReady)
}

func TestStateCodes(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	for _, step := range []struct {
		code int
		msg  string
		want automation.State
	}{
		{gatewaytest.StateDisconnect, "exchange link lost", automation.StateReconnecting},
		{gatewaytest.StateReconnecting, "redialling the exchange", automation.StateReconnecting},
		{gatewaytest.StateReady, "", automation.StateReady},
		{gatewaytest.StateConnectFailed, "exchange refused us", automation.StateError},
		{gatewaytest.StateReady, "", automation.StateReady},
		{gatewaytest.StateGeneralError, "something broke", automation.StateError},
		{gatewaytest.StateReconnecting, "", automation.StateReconnecting},
		{gatewaytest.StateReady, "", automation.StateReady},
	} {
		r.peer.SendState("huobi", step.code, step.msg)
		eventually(t, "state code "+stateNames[step.code], func() bool {
			return term.State() == step.want && (step.code == gatewaytest.StateReady || strings.Contains(term.Reason(), stateNames[step.code]))
		})
		if step.msg != "" && step.want != automation.StateReady {
			mustContain(t, term.Reason(), step.msg)
		}
	}
}

func TestUnknownPlatformParamMiss(t *testing.T) {
	r := newRig(t)
	// State 1 comes before the login's answer (result true): it must not be lost.
	term := r.open("nope", "no_such_platform", nil, nil)
	waitState(t, term, automation.StateError)
	mustContain(t, term.Reason(), "PARAM_MISS")
}

func TestMidRunSequenceHoldsOperations(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	r.peer.SendState("huobi", gatewaytest.StateDisconnect, "")
	r.peer.SendState("huobi", gatewaytest.StateReconnecting, "")
	waitState(t, term, automation.StateReconnecting)
	done := make(chan error, 1)
	go func() {
		_, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90"))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("place_order went on while reconnecting: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if n := r.peer.PlaceOrders("huobi"); n != 0 {
		t.Fatalf("%d place_order sent while reconnecting", n)
	}
	r.peer.SendState("huobi", gatewaytest.StateReady, "")
	if err := <-done; err != nil {
		t.Fatalf("place_order after READY: %v", err)
	}
	if n := r.peer.PlaceOrders("huobi"); n != 1 {
		t.Fatalf("place_order sent %d times", n)
	}
}

func TestRepeatedLoginRefusedNotLooped(t *testing.T) {
	r := newRig(t)
	first := r.openAs("a", "huobi", "same-account", nil, nil)
	settled(t, first)
	second := r.openAs("b", "huobi", "same-account", nil, nil)
	waitState(t, second, automation.StateError)
	mustContain(t, second.Reason(), "login refused by the gateway")
	// Many pings and requests later, still two logins.
	for range 5 {
		if _, err := first.Assets(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond)
	}
	if n := r.peer.Count("login", "huobi"); n != 2 {
		t.Fatalf("%d logins: a refused login was retried", n)
	}
	if first.State() != automation.StateReady {
		t.Fatalf("the first login suffered: %s", first.State())
	}
	// Once the account is free, Reconnect logs in again.
	first.Close()
	if err := second.Reconnect(ctxT(t)); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	waitState(t, second, automation.StateReady)
}

func TestTwoPlatformsOneSocket(t *testing.T) {
	r := newRig(t)
	huobi := r.open("huobi", "huobi", nil, nil)
	okex := r.open("okex", "okex", nil, nil)
	settled(t, huobi)
	settled(t, okex)
	if n := r.peer.Connections(); n != 1 {
		t.Fatalf("%d sockets for two platforms on one url", n)
	}
	if huobi.c != okex.c {
		t.Fatal("two conns for one url")
	}
	ctx := ctxT(t)
	a, err := huobi.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "90"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := okex.PlaceOrder(ctx, limit("ETH/USDT", automation.SideSell, "2", "120"))
	if err != nil {
		t.Fatal(err)
	}
	if r.peer.PlaceOrders("huobi") != 1 || r.peer.PlaceOrders("okex") != 1 {
		t.Fatalf("place_order per platform: huobi %d, okex %d", r.peer.PlaceOrders("huobi"), r.peer.PlaceOrders("okex"))
	}
	ho, _ := huobi.OpenOrders(ctx, "")
	oo, _ := okex.OpenOrders(ctx, "")
	if len(ho) != 1 || ho[0].OrderID != a.OrderID || len(oo) != 1 || oo[0].OrderID != b.OrderID {
		t.Fatalf("open orders mixed up: huobi %v, okex %v", ho, oo)
	}
	// One platform's trouble does not stop the other.
	r.peer.SendState("huobi", gatewaytest.StateConnectFailed, "huobi is down")
	waitState(t, huobi, automation.StateError)
	if _, err := okex.PlaceOrder(ctx, limit("ETH/USDT", automation.SideSell, "1", "130")); err != nil {
		t.Fatalf("okex while huobi is in error: %v", err)
	}
	if okex.State() != automation.StateReady {
		t.Fatalf("okex %s", okex.State())
	}
	// Closing one leaves the socket to the other.
	huobi.Close()
	if _, err := okex.Assets(ctx); err != nil {
		t.Fatalf("okex after huobi closed: %v", err)
	}
	okex.Close()
	eventually(t, "the socket to close with the last terminal", func() bool { return r.peer.Connections() == 0 })
	r.hub.mu.Lock()
	n := len(r.hub.conns)
	r.hub.mu.Unlock()
	if n != 0 {
		t.Fatalf("hub keeps %d conns", n)
	}
}

func TestDroppedSocketReconnectsAndLogsEveryPlatformIn(t *testing.T) {
	r := newRig(t)
	huobi := r.open("huobi", "huobi", nil, nil)
	okex := r.open("okex", "okex", nil, nil)
	settled(t, huobi)
	settled(t, okex)
	r.peer.DropConnections()
	eventually(t, "both to log in again", func() bool {
		return r.peer.Count("login", "huobi") == 2 && r.peer.Count("login", "okex") == 2
	})
	waitState(t, huobi, automation.StateReady)
	waitState(t, okex, automation.StateReady)
	if _, err := huobi.Assets(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestNoPongReconnects(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	r.peer.SetPongs(false)
	eventually(t, "a reconnect after pongs stopped", func() bool { return r.peer.Count("login", "huobi") >= 2 })
	r.peer.SetPongs(true)
	waitState(t, term, automation.StateReady)
	mustContain(t, r.logs.String(), "did not answer a ping")
}

func TestPingsKeepAnIdleSocket(t *testing.T) {
	peer := gatewaytest.New(gatewaytest.Config{IdleTimeout: 300 * time.Millisecond})
	t.Cleanup(peer.Close)
	r := &rig{t: t, peer: peer, hub: &Hub{}, logs: &lockedBuffer{}}
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	time.Sleep(time.Second) // three idle timeouts: only the JSON pings keep it
	if n := peer.Count("login", "huobi"); n != 1 {
		t.Fatalf("%d logins: the idle socket was closed", n)
	}
}

func TestOpenDoesNotBlockAndCloseEnds(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	r := newRig(t)
	opts := r.options("huobi", map[string]any{"url": "ws://" + addr + "/ws/v1", "login_timeout": "150ms"})
	term, err := r.hub.Open(context.Background(), "x", opts, r.env("x", testAccess, nil))
	if err != nil {
		t.Fatal(err)
	}
	if st := term.State(); st != automation.StateConnecting {
		t.Fatalf("state %s", st)
	}
	tt := term.(*Terminal)
	waitState(t, tt, automation.StateError)
	mustContain(t, tt.Reason(), "no connection to the gateway")
	_, err = tt.Assets(ctxT(t))
	if codeOf(err) != automation.CodeNotConnected {
		t.Fatalf("assets without a socket: %v", err)
	}
	term.Close()
	select {
	case <-tt.c.done:
	default:
		t.Fatal("Close returned before the conn's goroutine ended")
	}
	if term.State() != automation.StateDisconnected {
		t.Fatalf("closed: %s", term.State())
	}
}

func TestWSS(t *testing.T) {
	peer := gatewaytest.New(gatewaytest.Config{TLS: true})
	t.Cleanup(peer.Close)
	if !strings.HasPrefix(peer.URL, "wss://") {
		t.Fatal(peer.URL)
	}
	r := &rig{t: t, peer: peer, hub: &Hub{HTTPClient: peer.Client()}, logs: &lockedBuffer{}}
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	if _, err := term.Assets(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestSharedSocketOptionsMustAgree(t *testing.T) {
	r := newRig(t)
	r.open("a", "huobi", nil, nil)
	_, err := r.hub.Open(context.Background(), "b", r.options("okex", map[string]any{"ping_every": "100ms"}), r.env("b", "k2", nil))
	if err == nil {
		t.Fatal("a second terminal on the url with another ping_every was accepted")
	}
	mustContain(t, err.Error(), "shares url")
}

func TestReconnectLogsOutAndInOnTheSharedSocket(t *testing.T) {
	r := newRig(t)
	huobi := r.open("huobi", "huobi", nil, nil)
	okex := r.open("okex", "okex", nil, nil)
	settled(t, huobi)
	settled(t, okex)
	if err := huobi.Reconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r.peer.Count("logout", "huobi") != 1 || r.peer.Count("login", "huobi") != 2 {
		t.Fatalf("logout %d, login %d", r.peer.Count("logout", "huobi"), r.peer.Count("login", "huobi"))
	}
	if r.peer.Connections() != 1 || r.peer.Count("login", "okex") != 1 || okex.State() != automation.StateReady {
		t.Fatal("the reconnect of one platform disturbed the other")
	}
	if _, err := huobi.Assets(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
