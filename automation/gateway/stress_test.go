package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// outcome is one PlaceOrder: its unique price and what the driver said.
type outcome struct {
	price string
	id    string
	code  automation.Code // "" for success
	err   error
}

// TestManyOperationsAcrossReconnects trades two platforms on one socket,
// each one operation at a time as its lane would, while the socket drops,
// the platforms flap through states 5 → 6 and answers are lost. Every
// outcome is checked against what the peer holds: a success is that
// order, a not_connected or "no such order" has none at the peer, and no
// order reached the peer twice.
func TestManyOperationsAcrossReconnects(t *testing.T) {
	before := runtime.NumGoroutine()
	peer := gatewaytest.New(gatewaytest.Config{})
	r := &rig{t: t, peer: peer, hub: &Hub{}, logs: &lockedBuffer{}}
	names := []string{"huobi", "okex"}
	terms := map[string]*Terminal{}
	for _, n := range names {
		term, err := r.hub.Open(ctxT(t), n, r.options(n, map[string]any{"request_timeout": "300ms"}), r.env(n, testAccess+n, nil))
		if err != nil {
			t.Fatal(err)
		}
		terms[n] = term.(*Terminal)
		settled(t, terms[n])
	}
	faults := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(faults)
		for i := range 12 {
			time.Sleep(50 * time.Millisecond)
			switch i % 4 {
			case 0:
				peer.DropConnections()
			case 1:
				peer.SendState(names[i%2], gatewaytest.StateReconnecting, "flap")
				time.Sleep(20 * time.Millisecond)
				peer.SendState(names[i%2], gatewaytest.StateReady, "")
			case 2:
				peer.SwallowOn("place_order", i%8 == 2) // one lost answer placed, one not
			case 3:
				peer.DropOn("place_order", true)
			}
		}
	})
	results := map[string][]outcome{}
	var mu sync.Mutex
	for _, n := range names {
		term := terms[n]
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-faults:
					if i >= 60 {
						return
					}
				default:
				}
				ctx := ctxT(t)
				price := fmt.Sprintf("%d.%02d", 50+i/100, i%100) // distinct terms per order
				o, err := term.PlaceOrder(ctx, limit("BTC/USDT", automation.SideBuy, "1", price))
				res := outcome{price: price, id: o.OrderID, err: err}
				if err != nil {
					res.code = codeOf(err)
				}
				mu.Lock()
				results[n] = append(results[n], res)
				mu.Unlock()
				term.OpenOrders(ctx, "BTC/USDT")
				if err == nil && i%3 == 0 {
					term.CancelOrder(ctx, automation.OrderRef{Symbol: "BTC/USDT", OrderID: o.OrderID})
				}
			}
		})
	}
	wg.Wait()
	for _, n := range names {
		byPrice := map[string][]gatewaytest.Order{}
		for _, o := range peer.Orders(n) {
			byPrice[o.Price.String()] = append(byPrice[o.Price.String()], o)
		}
		counts := map[automation.Code]int{}
		ids := map[string]bool{}
		for _, res := range results[n] {
			counts[res.code]++
			at := byPrice[dec(res.price).String()]
			if len(at) > 1 {
				t.Errorf("%s: %d orders at %s: sent twice", n, len(at), res.price)
			}
			switch {
			case res.code == "":
				if len(at) != 1 || at[0].OrderNo != res.id {
					t.Errorf("%s: success with %s at %s, the peer has %+v", n, res.id, res.price, at)
				}
				if ids[res.id] {
					t.Errorf("%s: %s answered twice", n, res.id)
				}
				ids[res.id] = true
			case res.code == automation.CodeNotConnected && len(at) != 0:
				t.Errorf("%s: not_connected at %s, but the peer has %+v", n, res.price, at)
			case errors.Is(res.err, automation.ErrNoSuchOrder) && len(at) != 0:
				t.Errorf("%s: no such order at %s, but the peer has %+v (%v)", n, res.price, at, res.err)
			case res.code != automation.CodeNotConnected && res.code != automation.CodeOutcomeUnknown && res.code != automation.CodeRejected:
				t.Errorf("%s: %v (%s)", n, res.err, res.code)
			}
		}
		t.Logf("%s: %d calls, outcomes %v; the peer got %d place_order", n, len(results[n]), counts, peer.PlaceOrders(n))
		if counts[""] == 0 {
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
