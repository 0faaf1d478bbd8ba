package sim

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// fakeAfter stands in for time.After: each call is reported on calls, and
// the wait ends when the test sends on fire.
type fakeAfter struct {
	calls chan time.Duration
	fire  chan time.Time
}

func newFakeAfter() *fakeAfter {
	return &fakeAfter{calls: make(chan time.Duration, 8), fire: make(chan time.Time)}
}

func (f *fakeAfter) After(d time.Duration) <-chan time.Time {
	f.calls <- d
	return f.fire
}

// simWithAfter builds a sim whose waits the test controls: every wait an
// action starts, for its latency or a stall, is told on fa.calls. (A hang
// waits on its context alone; waitFaults sees it taken.)
func simWithAfter(t *testing.T, opts Options) (*Terminal, *fakeAfter) {
	t.Helper()
	fa := newFakeAfter()
	s, err := New(context.Background(), "sim", opts, Deps{Now: newClock("2026-01-05 10:00").Now, After: fa.After})
	if err != nil {
		t.Fatal(err)
	}
	return s, fa
}

// waitFaults waits until the faults pending on s are want: an action
// takes its fault just before the fault acts, so that a test sees a fault
// at work that shows nothing else.
func waitFaults(t *testing.T, s *Terminal, want []Fault) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := s.Faults(); !reflect.DeepEqual(got, want); got = s.Faults() {
		if time.Now().After(deadline) {
			t.Fatalf("pending faults %+v, want %+v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func placeAsync(s *Terminal, c context.Context, req automation.OrderRequest) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.PlaceOrder(c, req)
		done <- err
	}()
	return done
}

// orderCount is how many orders were placed today.
func orderCount(s *Terminal) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.day.orders)
}

// everyAction calls each broker method once and returns their errors.
func everyAction(s *Terminal) map[string]error {
	errs := map[string]error{}
	_, errs["buy"] = s.PlaceOrder(ctx, limit("600000", automation.Buy, 10, 100))
	_, errs["cancel"] = s.CancelOrders(ctx, automation.CancelRequest{})
	_, errs["orders"] = s.Orders(ctx, "")
	_, errs["history"] = s.OrderHistory(ctx, automation.HistoryQuery{})
	_, errs["funds"] = s.Funds(ctx)
	_, errs["positions"] = s.Positions(ctx)
	_, errs["rates"] = s.RepoRates(ctx)
	_, errs["repo"] = s.LendRepo(ctx, automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 1000})
	_, errs["condition"] = s.PlaceConditionOrder(ctx, conditionBuy("600000", 9, 100, 1))
	_, errs["conditions"] = s.ConditionOrders(ctx)
	_, errs["condition cancel"] = s.CancelConditionOrders(ctx, automation.ConditionCancel{})
	_, errs["trades"] = s.Trades(ctx, automation.HistoryQuery{})
	return errs
}

func TestDisconnectAndReconnect(t *testing.T) {
	s := newSim(t, paper(map[string]float64{"600000": 10}), newClock("2026-01-05 10:00"), nil)
	if err := s.Inject(Fault{Kind: FaultDisconnect}); err != nil {
		t.Fatal(err)
	}
	if s.State() != automation.StateDisconnected || s.State().Healthy() {
		t.Fatalf("state = %s", s.State())
	}
	for name, err := range everyAction(s) {
		wantCode(t, err, automation.CodeNotConnected)
		if !strings.Contains(err.Error(), "reconnect") {
			t.Errorf("%s: %v does not say what to do", name, err)
		}
	}
	if orderCount(s) != 0 {
		t.Fatal("a disconnected sim placed an order")
	}
	if err := s.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if s.State() != automation.StateReady {
		t.Fatalf("state after Reconnect = %s", s.State())
	}
	for name, err := range everyAction(s) {
		if err != nil {
			t.Errorf("%s after Reconnect: %v", name, err)
		}
	}
}

func TestDisconnectedFromTheStart(t *testing.T) {
	opts := paper(nil)
	opts.Faults = []Fault{{Kind: FaultDisconnect}, {Kind: FaultReject, Operation: automation.OpFundsQuery, Count: 1}}
	s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
	if s.State() != automation.StateDisconnected {
		t.Fatalf("state = %s", s.State())
	}
	if got := s.Faults(); len(got) != 1 || got[0].Kind != FaultReject {
		t.Errorf("pending faults = %+v", got)
	}
}

func TestReconnectTakesTheLatency(t *testing.T) {
	opts := paper(nil)
	opts.Latency = Duration(3 * time.Second)
	s, fa := simWithAfter(t, opts)
	s.Inject(Fault{Kind: FaultDisconnect})
	done := make(chan error, 1)
	go func() { done <- s.Reconnect(ctx) }()
	if d := <-fa.calls; d != 3*time.Second { // the only wait: the latency
		t.Errorf("waited %s", d)
	}
	if s.State() != automation.StateReconnecting {
		t.Errorf("state while reconnecting = %s", s.State())
	}
	fa.fire <- time.Now()
	if err := <-done; err != nil || s.State() != automation.StateReady {
		t.Errorf("Reconnect = %v, state %s", err, s.State())
	}

	// A reconnect whose context ends leaves the terminal as it was.
	s.Inject(Fault{Kind: FaultDisconnect})
	c, cancel := context.WithCancel(ctx)
	go func() { done <- s.Reconnect(c) }()
	<-fa.calls
	cancel()
	err := <-done
	wantCode(t, err, automation.CodeInterrupted)
	if !errors.Is(err, context.Canceled) || s.State() != automation.StateDisconnected {
		t.Errorf("cancelled Reconnect = %v, state %s", err, s.State())
	}
}

func TestLatencyIsCtxAwareAndHoldsNoLock(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10})
	opts.Latency = Duration(50 * time.Millisecond)
	s, fa := simWithAfter(t, opts)

	done := placeAsync(s, ctx, market("600000", automation.Buy, 100))
	if d := <-fa.calls; d != 50*time.Millisecond {
		t.Errorf("latency %s, want 50ms", d)
	}
	// While the action waits, the account is free for others.
	if _, err := s.Quote("600000"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuote("600000", 10.10); err != nil {
		t.Fatal(err)
	}
	if orderCount(s) != 0 {
		t.Fatal("the order was placed before the latency passed")
	}
	fa.fire <- time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if orderCount(s) != 1 {
		t.Fatal("no order after the latency")
	}

	// Cancelled during the wait: interrupted, nothing placed.
	c, cancel := context.WithTimeout(ctx, time.Hour)
	done = placeAsync(s, c, market("600000", automation.Buy, 100))
	<-fa.calls
	cancel()
	err := <-done
	wantCode(t, err, automation.CodeInterrupted)
	if !errors.Is(err, context.Canceled) || orderCount(s) != 1 {
		t.Errorf("cancelled during latency: %v, %d orders", err, orderCount(s))
	}
	past, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
	defer cancel()
	done = placeAsync(s, past, market("600000", automation.Buy, 100))
	<-fa.calls
	err = <-done
	wantCode(t, err, automation.CodeTimeout)
	if !errors.Is(err, context.DeadlineExceeded) || orderCount(s) != 1 {
		t.Errorf("past deadline: %v, %d orders", err, orderCount(s))
	}
}

func TestHang(t *testing.T) {
	s, _ := simWithAfter(t, paper(map[string]float64{"600000": 10}))
	s.Inject(Fault{Kind: FaultHang, Operation: automation.OpBuy, Count: 2})

	// Not a buy: untouched.
	if _, err := s.PlaceOrder(ctx, market("600000", automation.Buy, 100)); err != nil {
		t.Fatalf("a market buy hit a fault for buy: %v", err)
	}
	c, cancel := context.WithCancel(ctx)
	done := placeAsync(s, c, limit("600000", automation.Buy, 10, 100))
	waitFaults(t, s, []Fault{{Kind: FaultHang, Operation: automation.OpBuy, Count: 1}}) // the buy hangs
	select {
	case err := <-done:
		t.Fatalf("a hung buy returned before its context ended: %v", err)
	default:
	}
	cancel()
	// It returned only once the context ended: its error is the cancel.
	err := <-done
	wantCode(t, err, automation.CodeInterrupted)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "hung") {
		t.Errorf("hang = %v", err)
	}
	past, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
	defer cancel()
	_, err = s.PlaceOrder(past, limit("600000", automation.Buy, 10, 100))
	wantCode(t, err, automation.CodeTimeout)
	if f := s.Faults(); len(f) != 0 {
		t.Errorf("the buy past its deadline did not take the second hang: %+v pending", f)
	}
	if orderCount(s) != 1 {
		t.Errorf("a hung action placed an order: %d", orderCount(s))
	}
	if _, err := s.PlaceOrder(ctx, limit("600000", automation.Buy, 10, 100)); err != nil {
		t.Errorf("the fault outlived its count: %v", err)
	}
}

func TestStallIgnoresTheContext(t *testing.T) {
	s, fa := simWithAfter(t, paper(map[string]float64{"600000": 10}))
	s.Inject(Fault{Kind: FaultStall, Count: 2, Duration: Duration(5 * time.Second)})

	c, cancel := context.WithCancel(ctx)
	cancel() // already over: a stall does not care
	done := placeAsync(s, c, market("600000", automation.Buy, 100))
	if d := <-fa.calls; d != 5*time.Second {
		t.Errorf("stalled for %s", d)
	}
	// The sim has no latency: the wait is the stall, taken once of two.
	if f := s.Faults(); len(f) != 1 || f[0].Kind != FaultStall || f[0].Count != 1 {
		t.Errorf("pending faults while stalled: %+v", f)
	}
	select {
	case fa.fire <- time.Now():
	case err := <-done:
		t.Fatalf("a stall returned before its time: %v", err)
	}
	// Back from the stall, it sees its context is over: not carried out.
	err := <-done
	wantCode(t, err, automation.CodeInterrupted)
	if !errors.Is(err, context.Canceled) || orderCount(s) != 0 {
		t.Errorf("after the stall: %v, %d orders", err, orderCount(s))
	}

	// With time left, the action is carried out after the stall.
	done = placeAsync(s, ctx, market("600000", automation.Buy, 100))
	<-fa.calls
	fa.fire <- time.Now()
	if err := <-done; err != nil || orderCount(s) != 1 {
		t.Errorf("after the stall: %v, %d orders", err, orderCount(s))
	}
}

func TestRejectAndPopup(t *testing.T) {
	s := newSim(t, paper(map[string]float64{"600000": 10}), newClock("2026-01-05 10:00"), nil)
	s.Inject(Fault{Kind: FaultReject, Operation: automation.OpBuy, Count: 2, Message: "交易所拒单: 价格错误"})
	s.Inject(Fault{Kind: FaultPopup, Operation: automation.OpSell, Count: 1})

	if _, err := s.Funds(ctx); err != nil {
		t.Fatalf("a fault for buy hit funds_query: %v", err)
	}
	for range 2 {
		_, err := s.PlaceOrder(ctx, limit("600000", automation.Buy, 10, 100))
		wantCode(t, err, automation.CodeRejected)
		if err.Error() != "交易所拒单: 价格错误" {
			t.Errorf("reject = %v", err)
		}
	}
	if got := s.Faults(); len(got) != 1 || got[0].Kind != FaultPopup {
		t.Errorf("pending after the rejects = %+v", got)
	}
	mustPlace(t, s, limit("600000", automation.Buy, 10, 100))
	_, err := s.PlaceOrder(ctx, limit("600000", automation.Sell, 10, 100))
	wantCode(t, err, automation.CodeInternal)
	if err.Error() != "委托失败: 系统繁忙" {
		t.Errorf("popup = %v", err)
	}
	if orderCount(s) != 1 {
		t.Errorf("faulted actions placed orders: %d", orderCount(s))
	}

	// Count 0: every matching action until cleared.
	s.Inject(Fault{Kind: FaultReject})
	for range 3 {
		_, err := s.Positions(ctx)
		wantCode(t, err, automation.CodeRejected)
	}
	if got := s.Faults(); !reflect.DeepEqual(got, []Fault{{Kind: FaultReject}}) {
		t.Errorf("pending = %+v", got)
	}
	s.ClearFaults()
	if _, err := s.Positions(ctx); err != nil || len(s.Faults()) != 0 {
		t.Errorf("after ClearFaults: %v, %+v", err, s.Faults())
	}
	if err := s.Inject(Fault{Kind: "meteor"}); err == nil || !strings.Contains(err.Error(), "sim fault") {
		t.Errorf("a bad fault: %v", err)
	}
}

// A lost reply leaves the order at the broker; the retry with the same
// client order id finds it instead of placing another.
func TestLostReplyCanBeReconciled(t *testing.T) {
	s := newSim(t, paper(map[string]float64{"600000": 10}), newClock("2026-01-05 10:00"), newMemLedger())
	s.Inject(Fault{Kind: FaultLostReply, Operation: automation.OpBuy, Count: 1})
	req := limit("600000", automation.Buy, 10, 100)
	req.ClientOrderID = "op-42"
	_, err := s.PlaceOrder(ctx, req)
	wantCode(t, err, automation.CodeOutcomeUnknown)
	os, _ := s.Orders(ctx, "")
	if len(os) != 1 || os[0].ClientOrderID != "op-42" || os[0].Status != automation.OrderFilled {
		t.Fatalf("orders after a lost reply = %+v", os)
	}
	again := mustPlace(t, s, req)
	if again != os[0] {
		t.Errorf("retry = %+v, want %+v", again, os[0])
	}
}

func TestClose(t *testing.T) {
	s := newSim(t, paper(nil), newClock("2026-01-05 10:00"), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.State() != automation.StateDisconnected {
		t.Errorf("state after Close = %s", s.State())
	}
	_, err := s.Funds(ctx)
	wantCode(t, err, automation.CodeNotConnected)
	if err := s.Reconnect(ctx); err == nil {
		t.Error("a closed terminal reconnected")
	}
	s.Inject(Fault{Kind: FaultDisconnect})
	if s.State() != automation.StateDisconnected {
		t.Errorf("state = %s", s.State())
	}
}

// The queue calls one action at a time, but health checks and admin calls
// come from other goroutines. Run with -race.
func TestConcurrentUse(t *testing.T) {
	opts := walking(4)
	clk := newClock("2026-01-05 09:30")
	s := newSim(t, opts, clk, newMemLedger())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range 300 {
			s.State()
			s.Quote("600000")
			s.Quotes()
			s.Faults()
			if i%10 == 0 {
				s.SetQuote("000001", 20)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 300 {
			s.Inject(Fault{Kind: FaultReject, Operation: automation.OpFundsQuery, Count: 1})
			s.ClearFaults()
		}
	}()
	go func() {
		defer wg.Done()
		for range 3 * 24 * 60 / 10 {
			clk.Add(10 * time.Minute)
		}
	}()
	for i := range 200 {
		side := automation.Buy
		if i%2 == 1 {
			side = automation.Sell
		}
		s.PlaceOrder(ctx, market("000001", side, 100))
		s.Funds(ctx)
	}
	wg.Wait()

	// Whatever happened, the cash is the start plus every trade.
	s.ClearFaults()
	trades, err := s.Trades(ctx, automation.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(100_000_000)
	for _, tr := range trades {
		want += int64(math.Round(tr.Net * 100))
	}
	if f := mustFunds(t, s); int64(math.Round(f.Balance*100)) != want || len(trades) == 0 {
		t.Errorf("balance %v after %d trades, want %s", f.Balance, len(trades), yuan(want))
	}
}
