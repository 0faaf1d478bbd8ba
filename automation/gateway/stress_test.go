package gateway

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// tally counts one terminal's outcomes.
type tally struct {
	calls, notSent, unknown, rejected int
	ids                               map[string]bool
}

// TestManyOperationsAcrossReconnects trades two platforms on one socket,
// each one operation at a time as its lane would, while the socket is
// dropped again and again: every order reaches the gateway at most once,
// and every success is a real, distinct order.
func TestManyOperationsAcrossReconnects(t *testing.T) {
	before := runtime.NumGoroutine()
	peer := gatewaytest.New(gatewaytest.Config{})
	r := &rig{t: t, peer: peer, hub: &Hub{}, logs: &lockedBuffer{}}
	names := []string{"huobi", "okex"}
	terms := map[string]*Terminal{}
	for _, n := range names {
		term, err := r.hub.Open(ctxT(t), n, r.options(n, map[string]any{"request_timeout": "500ms"}), r.env(n, testAccess+n, nil))
		if err != nil {
			t.Fatal(err)
		}
		terms[n] = term.(*Terminal)
		settled(t, terms[n])
	}
	drops := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(drops)
		for range 6 {
			time.Sleep(60 * time.Millisecond)
			peer.DropConnections()
		}
	})
	tallies := map[string]*tally{}
	var mu sync.Mutex
	for _, n := range names {
		term := terms[n]
		tl := &tally{ids: map[string]bool{}}
		tallies[n] = tl
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-drops:
					if i >= 40 {
						return
					}
				default:
				}
				ctx := ctxT(t)
				price := fmt.Sprintf("50.%02d", i%100) // distinct terms per order
				o, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, fmt.Sprintf("%d", 1+i/100), price))
				mu.Lock()
				tl.calls++
				switch codeOf(err) {
				case automation.CodeNotConnected:
					tl.notSent++
				case automation.CodeOutcomeUnknown:
					tl.unknown++
				case automation.CodeRejected:
					tl.rejected++
				case automation.CodeInternal:
					if err == nil {
						if tl.ids[o.OrderID] {
							t.Errorf("%s: order %s returned twice", n, o.OrderID)
						}
						tl.ids[o.OrderID] = true
					} else {
						t.Errorf("%s: uncoded error %v", n, err)
					}
				}
				mu.Unlock()
				term.OpenOrders(ctx, "BTC/USDT")
				if err == nil && i%2 == 0 {
					term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o.OrderID})
				}
			}
		})
	}
	wg.Wait()
	for _, n := range names {
		tl := tallies[n]
		sent := peer.PlaceOrders(n)
		orders := map[string]bool{}
		for _, o := range peer.Orders(n) {
			orders[o.OrderNo] = true
		}
		t.Logf("%s: %d calls, %d successes, %d not sent, %d unknown, %d rejected; the peer got %d", n, tl.calls, len(tl.ids), tl.notSent, tl.unknown, tl.rejected, sent)
		if sent > tl.calls-tl.notSent {
			t.Errorf("%s: %d place_order reached the peer for %d calls that may have sent", n, sent, tl.calls-tl.notSent)
		}
		for id := range tl.ids {
			if !orders[id] {
				t.Errorf("%s: success with order %s the peer does not have", n, id)
			}
		}
		if len(tl.ids) == 0 {
			t.Errorf("%s: no order succeeded", n)
		}
	}
	for _, term := range terms {
		term.Close()
	}
	peer.Close()
	eventually(t, "every goroutine to end", func() bool { return runtime.NumGoroutine() <= before+1 })
}

// TestSecretsNeverLeave runs logins, a refusal echoing the keys, trading
// and reconnects with a debug log, and looks for the keys in the log, the
// events, the errors and the reasons.
func TestSecretsNeverLeave(t *testing.T) {
	r := newRig(t)
	rec := &recorder{}
	access := testAccess + "-huobi"
	r.peer.ErrorOn("login", fmt.Sprintf("{'error': 'bad keys %s / %s'}", access, testSecret))
	term := r.open("huobi", "huobi", map[string]any{"request_timeout": "300ms"}, rec)
	waitState(t, term, automation.StateError)
	var said []string
	said = append(said, term.Reason())
	mustContain(t, term.Reason(), "bad keys [redacted]")
	if err := term.Reconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	settled(t, term)
	ctx := ctxT(t)
	r.peer.SetPrice("BTC/USDT", dec("100"))
	if _, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "101")); err != nil {
		t.Fatal(err)
	}
	r.peer.ErrorOn("asset", "echo "+testSecret)
	_, err := term.Assets(ctx)
	said = append(said, err.Error())
	r.peer.SwallowOn("place_order", false)
	_, err = term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", "90"))
	said = append(said, err.Error())
	r.peer.DropConnections()
	waitState(t, term, automation.StateReady)

	ev, _ := json.Marshal(rec.events)
	if len(rec.events) == 0 {
		t.Fatal("no events")
	}
	for where, text := range map[string]string{"log": r.logs.String(), "events": string(ev), "errors": strings.Join(said, "\n")} {
		for _, key := range []string{testSecret, access} {
			if strings.Contains(text, key) {
				t.Errorf("a key in the %s", where)
			}
		}
	}
	// The keys did reach the gateway, in the login only.
	var logins int
	for _, rq := range r.peer.Received() {
		if strings.Contains(string(rq.Frame), testSecret) {
			if rq.Op != "login" {
				t.Errorf("the secret in a %s", rq.Op)
			}
			logins++
		}
	}
	if logins < 2 {
		t.Fatalf("%d logins carried the keys", logins)
	}
}
