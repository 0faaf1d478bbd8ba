package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// endingLedger ends the action's context at one of its calls, as brokerd
// stopping or a deadline passing while the sim waits on the store would,
// and then answers as the store does: a write or read that gives up has
// recorded nothing. With at "saved" it ends the context only after the
// change is stored.
type endingLedger struct {
	*memLedger
	at  string // "find", "save" or "saved"
	end func() // ends the action's context; nil once it has
}

func (l *endingLedger) giveUp(ctx context.Context, call string) error {
	if l.at != call || l.end == nil {
		return nil
	}
	l.end()
	l.end = nil
	return fmt.Errorf("journal: nothing recorded: %w", ctx.Err())
}

func (l *endingLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	if err := l.giveUp(ctx, "save"); err != nil {
		return err
	}
	err := l.memLedger.SaveLedger(ctx, terminal, state)
	l.giveUp(ctx, "saved") //nolint:errcheck // stored: the context ends after
	return err
}

func (l *endingLedger) ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error {
	if err := l.giveUp(ctx, "save"); err != nil {
		return err
	}
	err := l.memLedger.ArchiveLedger(ctx, terminal, records, state)
	l.giveUp(ctx, "saved") //nolint:errcheck // stored: the context ends after
	return err
}

func (l *endingLedger) FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error) {
	if err := l.giveUp(ctx, "find"); err != nil {
		return nil, err
	}
	return l.memLedger.FindLedgerArchive(ctx, terminal, kind, key)
}

// errStopping stands for the queue's shutdown cause.
var errStopping = errors.New("brokerd is shutting down")

// endings are the ways an action's context ends: how it is made, and what
// the sim must answer when it ends before the action is carried out.
var endings = []struct {
	name string
	ctx  func() (context.Context, func())
	code automation.Code
	says []string
}{
	{
		name: "cancelled",
		ctx:  func() (context.Context, func()) { return context.WithCancel(ctx) },
		code: automation.CodeInterrupted,
		says: []string{"brokerd stopped it", "nothing was done"},
	},
	{
		name: "shutdown",
		ctx: func() (context.Context, func()) {
			c, cancel := context.WithCancelCause(ctx)
			return c, func() { cancel(errStopping) }
		},
		code: automation.CodeInterrupted,
		says: []string{"brokerd stopped it", "nothing was done", errStopping.Error()},
	},
	{
		// The queue's deadline on its own clock: a cancel whose cause
		// is DeadlineExceeded, while ctx.Err() says Canceled.
		name: "deadline",
		ctx: func() (context.Context, func()) {
			c, cancel := context.WithCancelCause(ctx)
			return c, func() { cancel(context.DeadlineExceeded) }
		},
		code: automation.CodeTimeout,
		says: []string{"deadline passed", "nothing was done"},
	},
}

// An action whose context ends before it is carried out — while it waits
// out the latency or a hang, while it reads the archive, or while its
// change is being saved — did nothing, and its error says whether a
// deadline or brokerd stopped it. The retry then places the order once.
func TestContextEndsBeforeTheAction(t *testing.T) {
	wheres := []struct {
		name  string
		setup func(s *Terminal, l *endingLedger)
	}{
		{"latency", func(s *Terminal, _ *endingLedger) { s.latency = time.Second }},
		{"hang", func(s *Terminal, _ *endingLedger) {
			s.Inject(Fault{Kind: FaultHang, Operation: automation.OpBuy, Count: 1})
		}},
		{"archive read", func(_ *Terminal, l *endingLedger) { l.at = "find" }},
		{"save", func(_ *Terminal, l *endingLedger) { l.at = "save" }},
	}
	for _, where := range wheres {
		for _, ending := range endings {
			t.Run(where.name+"/"+ending.name, func(t *testing.T) {
				ledger := &endingLedger{memLedger: newMemLedger()}
				fa := newFakeAfter()
				s, err := newChecked(t, paper(map[string]float64{"600000": 10}),
					Deps{Now: newClock("2026-01-05 10:00").Now, Ledger: ledger, After: fa.After})
				if err != nil {
					t.Fatal(err)
				}
				where.setup(s, ledger)
				saved := slices.Clone(ledger.data["sim"])
				c, end := ending.ctx()
				defer end()
				if ledger.at == "" {
					end() // it ends while the action waits
				} else {
					ledger.end = end // it ends at the ledger
				}
				req := limit("600000", automation.Buy, 10, 100)
				req.ClientOrderID = "op-1"

				_, err = s.PlaceOrder(c, req)
				wantCode(t, err, ending.code)
				for _, part := range ending.says {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not say %q", err, part)
					}
				}
				if !slices.Equal(ledger.data["sim"], saved) {
					t.Error("the ledger saved a change the caller was told did not happen")
				}
				s.latency = 0 // the retry need not wait
				if os := contractsOf(t)(s.OrderHistory(ctx, automation.HistoryQuery{})); len(os) != 0 {
					t.Errorf("orders after it = %v", os)
				}
				if f := mustFunds(t, s); f.Available != 1_000_000 {
					t.Errorf("available cash after it = %v", f.Available)
				}
				if o := mustPlace(t, s, req); o.ContractNo != "1" || orderCount(s) != 1 {
					t.Errorf("the retry = %+v, %d orders; want order 1 alone", o, orderCount(s))
				}
			})
		}
	}
}

// A context that ends once the change is stored ends nothing: the order is
// placed, and the caller is told so with the order, not that nothing was
// done. A lost reply, the one way the sim fails after the change, says
// outcome_unknown and is covered by TestLostReplyCanBeReconciled.
func TestContextEndsAfterTheChange(t *testing.T) {
	for _, ending := range endings {
		t.Run(ending.name, func(t *testing.T) {
			ledger := &endingLedger{memLedger: newMemLedger(), at: "saved"}
			clk := newClock("2026-01-05 10:00")
			s := newSim(t, paper(map[string]float64{"600000": 10}), clk, ledger)
			c, end := ending.ctx()
			defer end()
			ledger.end = end
			req := limit("600000", automation.Buy, 10, 100)
			req.ClientOrderID = "op-1"
			o, err := s.PlaceOrder(c, req)
			if err != nil || o.ContractNo != "1" || o.Status != automation.OrderFilled {
				t.Fatalf("PlaceOrder = %+v, %v; want order 1, filled", o, err)
			}
			if c.Err() == nil {
				t.Fatal("the context did not end at the save: the test tests nothing")
			}
			restarted := newSim(t, paper(nil), clk, ledger)
			if os := contractsOf(t)(restarted.Orders(ctx, "")); !slices.Equal(os, []string{"1"}) {
				t.Errorf("after a restart the orders are %v, want [1]", os)
			}
		})
	}
}
