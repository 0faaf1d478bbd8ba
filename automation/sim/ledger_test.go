package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// snapshot is everything a trader can see of an account.
type snapshot struct {
	Funds      automation.Funds
	Positions  []automation.Position
	Today      []automation.Order
	History    []automation.Order
	Conditions []automation.ConditionOrder
	Trades     []Trade
	Quotes     map[string]float64
}

func snap(t *testing.T, s *Terminal) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	sn.Funds = mustFunds(t, s)
	if sn.Positions, err = s.Positions(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.Today, err = s.Orders(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if sn.History, err = s.OrderHistory(ctx, automation.HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
	if sn.Conditions, err = s.ConditionOrders(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.Trades, err = s.Trades(ctx, automation.HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
	sn.Quotes = s.Quotes()
	return sn
}

func TestLedgerRoundTrip(t *testing.T) {
	ledger := newMemLedger()
	clk := newClock("2026-01-05 10:00")
	opts := paper(map[string]float64{"600000": 10.00, "000001": 20.00})
	opts.Positions = map[string]int64{"000001": 1000}
	s := newSim(t, opts, clk, ledger)
	mustPlace(t, s, market("600000", automation.Buy, 1000))
	mustPlace(t, s, limit("600000", automation.Buy, 9.50, 500))
	mustPlace(t, s, limit("000001", automation.Sell, 21.00, 300))
	mustCondition(t, s, conditionBuy("600000", 9.00, 100, 5))
	mustCondition(t, s, stopLossProfit("000001", 5, 10, 0))
	if _, err := s.LendRepo(ctx, automation.RepoRequest{Market: "深圳", Term: "2天期", Amount: 5000}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuote("000001", 20.50); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s)

	// A new terminal on the same ledger is the same account, whatever
	// the options now say.
	other := paper(nil)
	other.InitialCash = 5
	restored := newSim(t, other, clk, ledger)
	if after := snap(t, restored); !reflect.DeepEqual(before, after) {
		t.Errorf("restored account differs:\nbefore %+v\nafter  %+v", before, after)
	}
	// The sequences go on; T+1 still holds for today's purchase.
	o := mustPlace(t, restored, market("000001", automation.Buy, 100))
	if o.ContractNo != "5" {
		t.Errorf("next contract number = %s, want 5", o.ContractNo)
	}
	if p, _ := mustPosition(t, restored, "600000"); p.Available != 0 {
		t.Errorf("T+1 lost in the ledger: %+v", p)
	}
	c := mustCondition(t, restored, conditionBuy("600000", 8.00, 100, 5))
	if c.ID != "3" {
		t.Errorf("next condition id = %s, want 3", c.ID)
	}
}

// After a restart the replay resumes where the account was saved: a
// resting order fills at the minute the walk crossed while it was down.
func TestRestartReplaysTheDowntime(t *testing.T) {
	opts := walking(11)
	start := "2026-01-05 09:30"
	low, firstAt := morningLow(t, opts, start)

	ledger := newMemLedger()
	clk := newClock(start)
	s := newSim(t, opts, clk, ledger)
	if o := mustPlace(t, s, limit("600000", automation.Buy, low, 100)); o.Status != automation.OrderPending {
		t.Fatalf("order = %+v", o)
	}
	// The process stops here; it starts again after the close.
	clk.Set("2026-01-05 16:00")
	restarted := newSim(t, opts, clk, ledger)
	trades, err := restarted.Trades(ctx, automation.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := minuteTime(dayOf(at(start)), firstAt).Format("15:04:05")
	if len(trades) != 1 || trades[0].Time != want || trades[0].Price != low {
		t.Errorf("trades after the restart = %+v, want one at %s for %v", trades, want, low)
	}
}

// morningLow is the lowest price of 600000 in the morning session that
// starts at start, below the open, and the first minute it is reached, as a
// twin account with the same options sees it.
func morningLow(t *testing.T, opts Options, start string) (float64, int) {
	t.Helper()
	clk := newClock(start)
	twin := newSim(t, opts, clk, nil)
	open := mustQuote(t, twin, "600000")
	low, firstAt := open, -1
	for k := 1; k <= 120; k++ {
		clk.Set(minuteTime(dayOf(at(start)), k).Format("2006-01-02 15:04"))
		if p := mustQuote(t, twin, "600000"); p < low {
			low, firstAt = p, k
		}
	}
	if firstAt < 0 {
		t.Fatal("the path never fell below the open; pick another seed")
	}
	return low, firstAt
}

func TestFailedSaveUndoesTheAction(t *testing.T) {
	ledger := newMemLedger()
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, ledger)
	mustPlace(t, s, limit("600000", automation.Buy, 9.00, 100)) // resting, contract 1
	before := snap(t, s)
	saved := ledger.saveCount()

	ledger.failWith(errDiskFull)
	actions := []struct {
		name string
		do   func() error
	}{
		{"buy", func() error { _, err := s.PlaceOrder(ctx, market("600000", automation.Buy, 100)); return err }},
		{"cancel", func() error {
			_, err := s.CancelOrders(ctx, automation.CancelRequest{ContractNo: "1"})
			return err
		}},
		{"condition", func() error { _, err := s.PlaceConditionOrder(ctx, conditionBuy("600000", 8, 100, 5)); return err }},
		{"repo", func() error {
			_, err := s.LendRepo(ctx, automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 1000})
			return err
		}},
		{"quote", func() error { return s.SetQuote("600000", 8.50) }},
	}
	for _, a := range actions {
		err := a.do()
		wantCode(t, err, automation.CodeInternal)
		if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "not applied") {
			t.Errorf("%s: %v", a.name, err)
		}
	}
	// A query with nothing to save works while the store is down.
	clk.Add(time.Minute)
	if _, err := s.Funds(ctx); err != nil {
		t.Errorf("a query with nothing to save failed: %v", err)
	}
	ledger.failWith(nil)
	if after := snap(t, s); !reflect.DeepEqual(before, after) {
		t.Errorf("failed actions changed the account:\nbefore %+v\nafter  %+v", before, after)
	}
	if ledger.saveCount() != saved {
		t.Errorf("queries saved %d times", ledger.saveCount()-saved)
	}
	if o := mustPlace(t, s, market("600000", automation.Buy, 100)); o.ContractNo != "2" {
		t.Errorf("after the store healed, contract %s, want 2", o.ContractNo)
	}
}

// A query that would have to save a fill the replay made fails rather
// than show what the ledger does not hold.
func TestFailedSaveOfAReplayedFillFailsTheQuery(t *testing.T) {
	opts := walking(11)
	start := "2026-01-05 09:30"
	low, firstAt := morningLow(t, opts, start)
	ledger := newMemLedger()
	clk := newClock(start)
	s := newSim(t, opts, clk, ledger)
	mustPlace(t, s, limit("600000", automation.Buy, low, 100))

	clk.Set(minuteTime(dayOf(at(start)), firstAt).Format("2006-01-02 15:04"))
	ledger.failWith(errDiskFull)
	_, err := s.Orders(ctx, "")
	wantCode(t, err, automation.CodeInternal)
	ledger.failWith(nil)
	os, err := s.Orders(ctx, "")
	if err != nil || len(os) != 1 || os[0].Status != automation.OrderFilled {
		t.Errorf("after the store healed: %+v, %v", os, err)
	}
}

func TestLedgerLoadErrors(t *testing.T) {
	good := newMemLedger()
	newSim(t, paper(nil), newClock("2026-01-05 10:00"), good)
	raw := good.data["sim"]
	var env map[string]json.RawMessage
	if err := json.Unmarshal(raw, &env); err != nil || !strings.Contains(string(env["state"]), `"cash_cents":100000000`) {
		t.Fatalf("saved ledger %s: %v", raw, err)
	}
	v1, err := os.ReadFile("testdata/ledger_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ledger *memLedger
		want   string
	}{
		{"upgrade fails", &memLedger{data: map[string][]byte{"sim": v1}, failErr: errDiskFull}, "cannot move the ledger's history to its archive"},
		{"load fails", &memLedger{data: map[string][]byte{}, loadErr: errDiskFull}, "cannot load"},
		{"first save fails", &memLedger{data: map[string][]byte{}, failErr: errDiskFull}, "cannot save the new account"},
		{"not JSON", &memLedger{data: map[string][]byte{"sim": []byte("{")}}, "not valid JSON"},
		{"other version", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":4,"state":{}}`)}}, "version 4"},
		{"ended order in the live state", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":3,"state":{"orders":[{"contract_no":"1","code":"600000","status":"` + automation.OrderFilled + `"}]}}`)}}, "has ended"},
		{"ended condition order in the live state", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":3,"state":{"condition_orders":[{"id":"1","code":"600000","status":"` + automation.ConditionExpired + `"}]}}`)}}, "has ended"},
		{"paid loan in the live state", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":3,"state":{"repo_loans":[{"contract_no":"1","code":"204001","paid":true}]}}`)}}, "is paid"},
		{"bad position", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":1,"state":{"positions":{"60":{"quantity":1}}}}`)}}, "bad position"},
		{"bad state", &memLedger{data: map[string][]byte{"sim": []byte(`{"version":1,"state":{"cash_cents":"x"}}`)}}, "unreadable"},
	}
	for _, tt := range tests {
		before := maps.Clone(tt.ledger.data)
		_, err := New(context.Background(), "sim", paper(nil), Deps{Now: newClock("2026-01-05 10:00").Now, Ledger: tt.ledger})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if !maps.EqualFunc(before, tt.ledger.data, bytes.Equal) || tt.ledger.archived != 0 {
			t.Errorf("%s: a failed New changed the ledger", tt.name)
		}
	}
}

// stuckLedger blocks saves after the first until the action's context
// ends, like a locked database file.
type stuckLedger struct {
	*memLedger
	entered chan struct{}
}

func (l *stuckLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	if l.saveCount() == 0 {
		return l.memLedger.SaveLedger(ctx, terminal, state)
	}
	l.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// ArchiveLedger is a save too: a buy archives its order and trade with it.
func (l *stuckLedger) ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error {
	if l.saveCount() == 0 {
		return l.memLedger.ArchiveLedger(ctx, terminal, records, state)
	}
	l.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestSaveHonoursTheActionContext(t *testing.T) {
	ledger := &stuckLedger{memLedger: newMemLedger(), entered: make(chan struct{})}
	s := newSim(t, paper(map[string]float64{"600000": 10}), newClock("2026-01-05 10:00"), ledger)
	c, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		_, err := s.PlaceOrder(c, market("600000", automation.Buy, 100))
		done <- err
	}()
	<-ledger.entered
	cancel()
	err := <-done
	wantCode(t, err, automation.CodeInterrupted)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing was done") {
		t.Fatalf("an order whose save was cancelled: %v", err)
	}
	s.ledger = nil // queries need no save from here on
	if os, _ := s.Orders(ctx, ""); len(os) != 0 {
		t.Errorf("orders = %+v", os)
	}
	if f := mustFunds(t, s); f.Balance != 1000000 {
		t.Errorf("funds = %+v", f)
	}
}
