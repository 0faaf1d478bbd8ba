package ctpbee

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

// memoryLedger is the journal's state per terminal; fail makes saves fail.
type memoryLedger struct {
	mu    sync.Mutex
	state map[string][]byte
	fail  bool
}

func (m *memoryLedger) LoadLedger(_ context.Context, terminal string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[terminal], nil
}

func (m *memoryLedger) SaveLedger(_ context.Context, terminal string, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("disk full")
	}
	if m.state == nil {
		m.state = map[string][]byte{}
	}
	m.state[terminal] = append([]byte(nil), state...)
	return nil
}

func (m *memoryLedger) ArchiveLedger(context.Context, string, []automation.LedgerRecord, []byte) error {
	return errors.New("not used")
}

func (m *memoryLedger) LoadLedgerArchive(context.Context, string, string, time.Time) ([][]byte, error) {
	return nil, nil
}

func (m *memoryLedger) FindLedgerArchive(context.Context, string, string, string) ([]byte, error) {
	return nil, nil
}

func (m *memoryLedger) PruneLedgerArchive(context.Context, string, time.Time) error { return nil }

// openWithLedger is open with the journal's ledger.
func openWithLedger(t *testing.T, peer *ctpbeetest.Server, ledger automation.Ledger) (*harness, error) {
	t.Helper()
	h := &harness{t: t, peer: peer, logs: &syncBuffer{}}
	term, err := Open(context.Background(), "ctp", peerOptions(peer), automation.Env{
		Getenv: func(k string) string { return testEnv[k] },
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ledger: ledger,
		Publish: func(ev automation.VenueEvent) {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	h.term = term.(*terminal)
	t.Cleanup(func() { h.term.Close(); h.assertNoSecrets() })
	return h, nil
}

func TestClientOrderIDsOutliveARestart(t *testing.T) {
	peer := newPeer(t)
	peer.SetPrice("rb2501.SHFE", 3500)
	ledger := &memoryLedger{}
	h, err := openWithLedger(t, peer, ledger)
	if err != nil {
		t.Fatal(err)
	}
	h.waitState(automation.StateReady)
	req := limit("rb2501.SHFE", automation.SideBuy, "1", "3400")
	req.ClientOrderID = "cid-restart"
	placed, err := h.term.PlaceOrder(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	rejected := limit("rb2501.SHFE", automation.SideBuy, "1", "3400")
	rejected.ClientOrderID = "cid-rejected"
	peer.RejectNext("CTP:资金不足")
	if _, err := h.term.PlaceOrder(ctx(t), rejected); code(err) != automation.CodeRejected {
		t.Fatalf("rejected: %v", err)
	}
	h.term.Close()

	again, err := openWithLedger(t, peer, ledger)
	if err != nil {
		t.Fatal(err)
	}
	again.waitState(automation.StateReady)
	o, err := again.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "cid-restart"})
	if err != nil || o.OrderID != placed.OrderID || o.ClientOrderID != "cid-restart" {
		t.Fatalf("OrderStatus by client order id after a restart: %+v %v", o, err)
	}
	// The rejected order is CTP's 拒单: its id names it.
	if o, err := again.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "cid-rejected"}); err != nil || o.Status != automation.StatusRejected {
		t.Errorf("the rejected order: %+v %v", o, err)
	}
	if o, err := again.term.CancelOrder(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "cid-restart"}); err != nil || o.Status != automation.StatusCanceled {
		t.Errorf("cancel by client order id: %+v %v", o, err)
	}
}

// An order whose answer was lost and whose book could not be read before
// brokerd stopped is settled after the restart, from what was journaled
// before it was sent.
func TestAnOrderLostBeforeARestartIsSettledAfterIt(t *testing.T) {
	peer := newPeer(t)
	ledger := &memoryLedger{}
	h, err := openWithLedger(t, peer, ledger)
	if err != nil {
		t.Fatal(err)
	}
	h.waitState(automation.StateReady)
	peer.DropNextAnswer()
	peer.DelayAfterNextOrder("GET /order_solve", 10*time.Second)
	req := limit("rb2501.SHFE", automation.SideSell, "2", "3600")
	req.ClientOrderID = "cid-lost"
	c, cancel := context.WithTimeout(ctx(t), 3*time.Second)
	defer cancel()
	if _, err := h.term.PlaceOrder(c, req); code(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("PlaceOrder: %v, want outcome_unknown", err)
	}
	h.term.Close() // the crash: nothing settled yet
	peer.SetDelay("GET /order_solve", 0)

	again, err := openWithLedger(t, peer, ledger)
	if err != nil {
		t.Fatal(err)
	}
	o, err := again.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "cid-lost"})
	if err != nil || o.OrderID != peer.Orders()[0].OrderID || o.ClientOrderID != "cid-lost" {
		t.Fatalf("OrderStatus after the restart: %+v %v", o, err)
	}
	if peer.OrdersReceived() != 1 {
		t.Errorf("%d orders received, want 1", peer.OrdersReceived())
	}
}

func TestTheJournal(t *testing.T) {
	peer := newPeer(t)
	t.Run("another driver's state", func(t *testing.T) {
		ledger := &memoryLedger{state: map[string][]byte{"ctp": []byte(`{"version":3,"account":{}}`)}}
		if _, err := openWithLedger(t, peer, ledger); err == nil || !strings.Contains(err.Error(), "another driver") {
			t.Fatalf("Open: %v", err)
		}
	})
	t.Run("a client order id never sent", func(t *testing.T) {
		h, err := openWithLedger(t, peer, &memoryLedger{})
		if err != nil {
			t.Fatal(err)
		}
		h.waitState(automation.StateReady)
		_, err = h.term.OrderStatus(ctx(t), automation.OrderRef{Symbol: "rb2501.SHFE", ClientOrderID: "never"})
		if !errors.Is(err, automation.ErrNoSuchOrder) {
			t.Fatalf("OrderStatus: %v, want no such order", err)
		}
	})
	t.Run("a failed save sends nothing", func(t *testing.T) {
		ledger := &memoryLedger{fail: true}
		h, err := openWithLedger(t, peer, ledger)
		if err != nil {
			t.Fatal(err)
		}
		h.waitState(automation.StateReady)
		req := limit("rb2501.SHFE", automation.SideBuy, "1", "3400")
		req.ClientOrderID = "cid-unsaved"
		if _, err := h.term.PlaceOrder(ctx(t), req); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("PlaceOrder: %v", err)
		}
		if peer.OrdersReceived() != 0 {
			t.Error("an order was sent")
		}
	})
}
