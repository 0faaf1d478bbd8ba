package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// The reference server delivers an ended session's late states and
// notices under the token of its account's next login (gatewaytest's
// SetStale). These tests log a terminal in, arm the fault, log it out and
// in again (Reconnect, or a dropped socket) and show what the driver makes
// of the old session's frames.

// relogin logs term out and in again by Reconnect or by a dropped socket.
func relogin(t *testing.T, r *rig, term *Terminal, how string) {
	t.Helper()
	logins := r.peer.Count("login", term.opts.Platform)
	switch how {
	case "reconnect":
		go term.Reconnect(ctxT(t))
	case "drop":
		r.peer.DropConnections()
	default:
		t.Fatalf("relogin %q", how)
	}
	eventually(t, "the new login", func() bool { return r.peer.Count("login", term.opts.Platform) > logins })
}

func TestStaleStatesAfterRelogin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		how     string
		frames  []gatewaytest.StaleFrame
		noReady bool             // the new session sends 2 but not its 6: only a stale 6 could make it ready
		want    automation.State // reconnecting: logged in again, not ready
		reason  string           // in Reason when want is reached
		probes  int              // asset requests the driver sent to verify a state
	}{
		{name: "late 6 before the answer", how: "reconnect", noReady: true,
			frames: []gatewaytest.StaleFrame{{At: gatewaytest.StaleBeforeAnswer, Code: gatewaytest.StateReady, Msg: "old ready"}},
			want:   automation.StateReconnecting, reason: "CONNECT_SUCCESS"},
		{name: "late 6 before the new 2", how: "drop", noReady: true,
			frames: []gatewaytest.StaleFrame{{At: gatewaytest.StaleBeforeConnect, Code: gatewaytest.StateReady, Msg: "old ready"}},
			want:   automation.StateReconnecting, reason: "CONNECT_SUCCESS"},
		{name: "late 7 and 4 before the answer", how: "reconnect",
			frames: []gatewaytest.StaleFrame{
				{At: gatewaytest.StaleBeforeAnswer, Code: gatewaytest.StateGeneralError, Msg: "old request failed"},
				{At: gatewaytest.StaleBeforeAnswer, Code: gatewaytest.StateDisconnect, Msg: "old link closed"}},
			want: automation.StateReady, reason: "READY"},
		{name: "late 4 between the new 2 and 6", how: "reconnect",
			frames: []gatewaytest.StaleFrame{{At: gatewaytest.StaleBeforeReady, Code: gatewaytest.StateDisconnect, Msg: "old link closed"}},
			want:   automation.StateReady, reason: "READY"},
		{name: "late 4 after the new READY", how: "reconnect",
			frames: []gatewaytest.StaleFrame{{At: gatewaytest.StaleAfterReady, Code: gatewaytest.StateDisconnect, Msg: "old link closed"}},
			want:   automation.StateReady, reason: "previous session's", probes: 1},
		{name: "late 7 after the new READY, socket dropped", how: "drop",
			frames: []gatewaytest.StaleFrame{{At: gatewaytest.StaleAfterReady, Code: gatewaytest.StateGeneralError, Msg: "old request failed"}},
			want:   automation.StateReady, reason: "previous session's", probes: 1},
		{name: "late 5 and 2 after the new READY", how: "reconnect",
			frames: []gatewaytest.StaleFrame{
				{At: gatewaytest.StaleAfterReady, Code: gatewaytest.StateReconnecting, Msg: "old redial"},
				{At: gatewaytest.StaleAfterReady, Code: gatewaytest.StateConnectSuccess, Msg: "old connect"}},
			want: automation.StateReady, reason: "previous session's", probes: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			term := r.open("huobi", "huobi", nil, nil)
			settled(t, term)
			assets := r.peer.Count("asset", "huobi")
			r.peer.SetStale("huobi", tc.frames...)
			r.peer.SetNoReady("huobi", tc.noReady)
			relogin(t, r, term, tc.how)
			eventually(t, "the new session's own state 2", func() bool { return strings.Contains(term.Reason(), "state") })
			eventually(t, "the probes", func() bool { return r.peer.Count("asset", "huobi")-assets >= tc.probes })
			eventually(t, "the stale frames to be read", func() bool {
				return term.State() == tc.want && strings.Contains(term.Reason(), tc.reason)
			})
			// It stays so: nothing flips it later.
			time.Sleep(150 * time.Millisecond)
			if st := term.State(); st != tc.want {
				t.Fatalf("state %s (%s), want %s", st, term.Reason(), tc.want)
			}
			if n := r.peer.Count("asset", "huobi") - assets; n != tc.probes {
				t.Fatalf("%d asset requests, want %d", n, tc.probes)
			}
			if tc.noReady {
				// The new session's own READY makes it ready.
				r.peer.SendState("huobi", gatewaytest.StateReady, "ready at last")
				waitState(t, term, automation.StateReady)
			}
			if _, err := term.PlaceOrder(ctxT(t), limit("BTC/USDT", automation.SideBuy, "1", "90")); err != nil {
				t.Fatalf("place_order on the new session: %v", err)
			}
		})
	}
}

// A state after READY that the gateway's answer does not discount stands.
func TestStateAfterReloginVerifiedByTheGateway(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", nil, nil)
	settled(t, term)
	relogin(t, r, term, "reconnect")
	settled(t, term)
	// A 4 on a later login: the verification is refused, so it stands.
	r.peer.ErrorOn("asset", "{'error': 'venue unreachable'}")
	r.peer.SendState("huobi", gatewaytest.StateDisconnect, "venue link lost")
	waitState(t, term, automation.StateReconnecting)
	mustContain(t, term.Reason(), "venue link lost")
	r.peer.SendState("huobi", gatewaytest.StateReady, "")
	waitState(t, term, automation.StateReady)
	// On the terminal's first login a state is taken as it reads, with no
	// request (TestStateCodes); on a later one it costs one asset request.
	before := r.peer.Count("asset", "huobi")
	r.peer.SendState("huobi", gatewaytest.StateGeneralError, "transient")
	eventually(t, "the verification", func() bool { return r.peer.Count("asset", "huobi") == before+1 })
	eventually(t, "the discount", func() bool { return strings.Contains(term.Reason(), "previous session's") })
	if term.State() != automation.StateReady {
		t.Fatalf("state %s", term.State())
	}
}

func TestStaleNoticesAfterRelogin(t *testing.T) {
	for _, how := range []string{"reconnect", "drop"} {
		t.Run(how, func(t *testing.T) {
			r := newRig(t)
			rec := &recorder{}
			term := r.open("hf", "huobi_future", map[string]any{"futures": true, "request_timeout": "300ms"}, rec)
			settled(t, term)
			ctx := ctxT(t)
			r.peer.SetPrice("BTC/USDT", dec("100"))
			// A filled order (its fill seen) and a resting one.
			filled, err := term.PlaceOrder(ctx, market("BTC/USDT", automation.SideBuy, "2"))
			if err != nil {
				t.Fatal(err)
			}
			resting, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "90"))
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the fill notice", func() bool { return len(rec.kinds("fill")) == 1 })
			r.peer.SetStale("huobi_future",
				gatewaytest.StaleFrame{At: gatewaytest.StaleOnRelease, Topic: "order", OrderNo: resting.OrderID},
				gatewaytest.StaleFrame{At: gatewaytest.StaleOnRelease, Topic: "fill", OrderNo: filled.OrderID},
				gatewaytest.StaleFrame{At: gatewaytest.StaleOnRelease, Topic: "position", Symbol: "BTC/USDT"},
				gatewaytest.StaleFrame{At: gatewaytest.StaleOnRelease, Topic: "asset"})
			time.Sleep(5 * time.Millisecond) // the old session's utime before the new one's
			relogin(t, r, term, how)
			settled(t, term)
			// The new session tells its own: the resting order fills, the
			// position and the assets change.
			r.peer.SetPrice("BTC/USDT", dec("89"))
			eventually(t, "the resting order's fill", func() bool {
				o, ok := term.known(resting.OrderID)
				return ok && o.Status == automation.StatusFilled
			})
			if _, err := term.Positions(ctx, "BTC/USDT"); err != nil {
				t.Fatal(err)
			}
			// The new session's own asset notice (of the fill) is verified
			// too, on a later login: let that be done.
			eventually(t, "the new session's asset verification", func() bool {
				term.mu.Lock()
				defer term.mu.Unlock()
				return !term.assetAsking && len(rec.kinds("asset")) > 0
			})
			before := map[string]int{}
			for _, k := range []string{"order", "fill", "position", "asset"} {
				before[k] = len(rec.kinds(k))
			}
			assets := r.peer.Count("asset", "huobi_future")
			r.peer.ReleaseStale("huobi_future")
			// The stale asset notice is verified by asking: one request,
			// one event with the gateway's answer.
			eventually(t, "the asset request", func() bool { return r.peer.Count("asset", "huobi_future") == assets+1 })
			eventually(t, "the verified asset event", func() bool { return len(rec.kinds("asset")) == before["asset"]+1 })
			time.Sleep(100 * time.Millisecond)

			for _, tc := range []struct{ kind string }{{"order"}, {"fill"}, {"position"}} {
				if n := len(rec.kinds(tc.kind)) - before[tc.kind]; n != 0 {
					t.Errorf("%d stale %s notices published", n, tc.kind)
				}
			}
			ae := rec.kinds("asset")
			an := ae[len(ae)-1].Data.(AssetNotice)
			if !an.Verified {
				t.Errorf("the asset event is the notice's, not the gateway's answer: %+v", an)
			}
			// What the driver reports is the new session's.
			if o, _ := term.known(resting.OrderID); o.Status != automation.StatusFilled {
				t.Errorf("the stale SUBMITTED notice undid the fill: %+v", o)
			}
			if o, _ := term.known(filled.OrderID); !o.AvgPrice.Equal(dec("100")) {
				t.Errorf("the stale fill counted again: avg %s", o.AvgPrice)
			}
			if q, ok := term.CachedPosition("BTC/USDT", automation.PositionLong); !ok || !q.Equal(dec("3")) {
				t.Errorf("cached long %s %v, want 3 (the stale notice said 2)", q, ok)
			}
			if st := term.State(); st != automation.StateReady {
				t.Errorf("state %s", st)
			}
		})
	}
}

// A lost place_order answer is not attributed to an order that only the
// gateway's notices told of: they may be an earlier session's.
func TestLostAnswerNotSettledOnNoticesAlone(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, nil)
	settled(t, term)
	r.peer.SetPrice("BTC/USDT", dec("100"))
	// A MARKET order fills at once: not among the open orders, known only
	// from its notices, which may be an old session's.
	r.peer.SwallowOn("place_order", true)
	_, err := term.PlaceOrder(ctxT(t), market("BTC/USDT", automation.SideBuy, "1"))
	if codeOf(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("got %v (%s), want outcome_unknown", err, codeOf(err))
	}
	mustContain(t, err.Error(), "only the gateway's notices")
	var cl interface {
		Candidates() []automation.ExchangeOrder
	}
	orders := r.peer.Orders("huobi")
	if !errors.As(err, &cl) || len(cl.Candidates()) != 1 || len(orders) != 1 || cl.Candidates()[0].OrderID != orders[0].OrderNo {
		t.Fatalf("candidates %#v; the peer has %+v", err, orders)
	}
	if n := r.peer.PlaceOrders("huobi"); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

// A disruption of the login between the send and the settlement means
// notices may be lost: no "no such order" from their absence.
func TestLostAnswerAcrossADisruptionIsNotNoSuchOrder(t *testing.T) {
	r := newRig(t)
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, nil)
	settled(t, term)
	done := placeUnanswered(t, r, term)
	r.peer.SendState("huobi", gatewaytest.StateDisconnect, "venue link lost")
	r.peer.SendState("huobi", gatewaytest.StateReady, "")
	err := <-done
	if codeOf(err) != automation.CodeOutcomeUnknown || errors.Is(err, automation.ErrNoSuchOrder) {
		t.Fatalf("got %v (%s), want outcome_unknown", err, codeOf(err))
	}
	mustContain(t, err.Error(), "disruption")
}
