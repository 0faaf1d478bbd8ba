package settle

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// venue is an Exchange whose OrderStatus answers from a script, one
// answer per call (the last one repeats), and records what it was asked.
type venue struct {
	automation.Exchange // the methods the settler never calls

	mu      sync.Mutex
	answers []answer
	asked   []automation.OrderRef
	placed  int
}

type answer struct {
	order automation.ExchangeOrder
	err   error
}

func (v *venue) Name() string { return "bn" }

func (v *venue) OrderStatus(_ context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, ref)
	a := v.answers[min(len(v.asked), len(v.answers))-1]
	return a.order, a.err
}

func (v *venue) PlaceOrder(context.Context, automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.placed++
	return automation.ExchangeOrder{}, errors.New("the settler must never place an order")
}

func (v *venue) lookups() []automation.OrderRef {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]automation.OrderRef(nil), v.asked...)
}

// journal records amendments and counts exclusive runs.
type journal struct {
	mu        sync.Mutex
	amended   chan amendment
	exclusive int
}

type amendment struct {
	id, message, raw string
	result           Result
}

func newJournal() *journal { return &journal{amended: make(chan amendment, 8)} }

func (j *journal) Exclusive(ctx context.Context, _ string, fn func(context.Context) error) error {
	j.mu.Lock()
	j.exclusive++
	j.mu.Unlock()
	return fn(ctx)
}

func (j *journal) Amend(_ context.Context, id string, result json.RawMessage, message string) error {
	var r Result
	if err := json.Unmarshal(result, &r); err != nil {
		return err
	}
	j.amended <- amendment{id: id, message: message, result: r, raw: string(result)}
	return nil
}

// lostOrder is a place_order that ended with its outcome unknown.
func lostOrder(id, key, code string) queue.Operation {
	return queue.Operation{
		ID: id, Name: automation.OpPlaceOrder, Terminal: "bn", Status: queue.StatusFailed, ErrorCode: code,
		Params:         json.RawMessage(`{"symbol":"BTCUSDT","side":"BUY","quantity":"0.01","price":"65000","type":"LIMIT"}`),
		IdempotencyKey: key, SubmittedAt: time.Now(),
	}
}

func withResult(op queue.Operation, result string) queue.Operation {
	op.Result = json.RawMessage(result)
	return op
}

var quick = Config{FirstRetry: time.Millisecond, MaxRetry: 5 * time.Millisecond, AttemptTimeout: time.Second}

func TestSettle(t *testing.T) {
	filled := automation.ExchangeOrder{OrderID: "77", ClientOrderID: "k-1", Symbol: "BTCUSDT", Status: automation.StatusFilled,
		ExecutedQuantity: decimal.RequireFromString("0.01")}
	for _, tc := range []struct {
		name     string
		op       queue.Operation
		answers  []answer
		want     string // settlement outcome
		wantRef  string // client order id asked for
		minAsked int
	}{
		{"found at once", withResult(lostOrder("op-1", "k-1", queue.CodeOutcomeUnknown), `{"client_order_id":"k-1","symbol":"BTCUSDT","candidates":[{"order_id":"5"}]}`), []answer{{order: filled}}, Found, "k-1", 1},
		{"absent", lostOrder("op-2", "k-2", queue.CodeOutcomeUnknown),
			[]answer{{err: automation.NoSuchOrder("Order does not exist.")}}, Absent, "k-2", 1},
		{"venue down, then found", lostOrder("op-3", "", queue.CodeInterrupted),
			[]answer{{err: automation.NotConnected("socket closed")}, {err: automation.NotConnected("socket closed")}, {order: filled}}, Found, "op-3", 3},
		{"key off the venue's rule: the derived id", lostOrder("op-4", "has space", queue.CodeOutcomeUnknown),
			[]answer{{order: filled}}, Found, "bk-", 1},
		{"terminal cannot look up", lostOrder("op-5", "k-5", queue.CodeOutcomeUnknown),
			[]answer{{err: automation.ErrUnsupported}}, Unsupported, "k-5", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, j := &venue{answers: tc.answers}, newJournal()
			s := New(quick, []automation.Terminal{v}, nil, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); s.Run(ctx, j, nil) }()
			s.OperationChanged(tc.op)
			var got amendment
			select {
			case got = <-j.amended:
			case <-time.After(10 * time.Second):
				t.Fatal("nothing was recorded")
			}
			cancel()
			<-done
			if got.id != tc.op.ID || got.result.Settlement != tc.want || got.result.SettledAt == "" || got.message == "" {
				t.Errorf("recorded %+v", got)
			}
			asked := v.lookups()
			if len(asked) < tc.minAsked || asked[0].Symbol != "BTCUSDT" || len(asked[0].ClientOrderID) < 3 || asked[0].ClientOrderID[:min(len(tc.wantRef), len(asked[0].ClientOrderID))] != tc.wantRef {
				t.Errorf("asked %+v", asked)
			}
			if v.placed != 0 {
				t.Error("an order was sent again")
			}
			if tc.want == Found && (got.result.Order == nil || got.result.Order.OrderID != "77") {
				t.Errorf("found order not recorded: %+v", got.result)
			}
			if len(tc.op.Result) > 0 && !strings.Contains(got.raw, `"candidates":[{"order_id":"5"}]`) {
				t.Errorf("the failure's data was not kept beside the settlement: %s", got.raw)
			}
		})
	}
}

// Only unsettled orders of exchange terminals are looked up.
func TestUnsettled(t *testing.T) {
	settled := lostOrder("a", "k", queue.CodeOutcomeUnknown)
	settled.Result = json.RawMessage(`{"settled_at":"2026-12-02T00:00:00Z","settlement":"found"}`)
	success := lostOrder("b", "k", "")
	success.Status = queue.StatusSuccess
	rejected := lostOrder("c", "k", "rejected")
	query := lostOrder("d", "k", queue.CodeOutcomeUnknown)
	query.Name = automation.OpOrderStatus
	failedWithData := lostOrder("e", "k", queue.CodeOutcomeUnknown)
	failedWithData.Result = json.RawMessage(`{"client_order_id":"k","symbol":"BTCUSDT"}`)
	for _, tc := range []struct {
		op   queue.Operation
		want bool
	}{
		{lostOrder("x", "k", queue.CodeOutcomeUnknown), true},
		{lostOrder("y", "k", queue.CodeInterrupted), true},
		{failedWithData, true},
		{settled, false}, {success, false}, {rejected, false}, {query, false},
	} {
		if got := Unsettled(tc.op); got != tc.want {
			t.Errorf("Unsettled(%s %s %s %s) = %v", tc.op.Name, tc.op.Status, tc.op.ErrorCode, tc.op.Result, got)
		}
	}
}

// A lookup that keeps failing stops at shutdown, and the operation is left
// for the next start; one that is too old is given up.
func TestSettleStops(t *testing.T) {
	v, j := &venue{answers: []answer{{err: automation.NotConnected("down")}}}, newJournal()
	s := New(quick, []automation.Terminal{v}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, j, []queue.Operation{lostOrder("op-1", "k", queue.CodeInterrupted)})
	}()
	for len(v.lookups()) < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its ctx ended")
	}
	if len(j.amended) != 0 {
		t.Error("a failed lookup was recorded as a settlement")
	}

	old := lostOrder("op-2", "k", queue.CodeOutcomeUnknown)
	old.SubmittedAt = time.Now().Add(-25 * time.Hour)
	v2 := &venue{answers: []answer{{err: automation.NotConnected("down")}}}
	s2 := New(quick, []automation.Terminal{v2}, nil, nil)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	s2.settle(ctx2, newJournal(), old) // returns by giving up
	if n := len(v2.lookups()); n != 1 {
		t.Errorf("a too old order was asked for %d times", n)
	}
}
