package sim

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// eventLog collects what a sim publishes.
type eventLog struct {
	mu     sync.Mutex
	events []automation.VenueEvent
}

func (l *eventLog) publish(ev automation.VenueEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) take() []automation.VenueEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

func newSimWithEvents(t *testing.T, opts Options, clk *clock, ledger Ledger) (*Terminal, *eventLog) {
	t.Helper()
	log := &eventLog{}
	s, err := newChecked(t, opts, Deps{Now: clk.Now, Ledger: ledger, Publish: log.publish})
	if err != nil {
		t.Fatal(err)
	}
	return s, log
}

// TestRestingFillIsAnEvent: a limit order that rests and fills later, when
// the price comes to it, is reported as a fill event, once.
func TestRestingFillIsAnEvent(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s, log := newSimWithEvents(t, paper(map[string]float64{"600000": 10.00}), clk, newMemLedger())
	o := mustPlace(t, s, limit("600000", automation.Buy, 9.80, 100))
	if o.Status == automation.OrderFilled {
		t.Fatalf("the order filled at once: %+v", o)
	}
	if evs := log.take(); len(evs) != 0 {
		t.Fatalf("events before the fill: %+v", evs)
	}
	clk.Add(time.Minute)
	if err := s.SetQuote("600000", 9.70); err != nil {
		t.Fatal(err)
	}
	evs := log.take()
	if len(evs) != 1 || evs[0].Kind != EventFill || evs[0].Terminal != "sim" || !evs[0].At.Equal(clk.Now()) {
		t.Fatalf("events %+v", evs)
	}
	f := evs[0].Data.(FillEvent)
	if !f.Resting || f.Order.ContractNo != o.ContractNo || f.Order.Status != automation.OrderFilled || f.Order.AvgPrice != 9.80 {
		t.Errorf("fill %+v", f)
	}
	clk.Add(time.Minute)
	_ = s.SetQuote("600000", 9.60)
	if evs := log.take(); len(evs) != 0 {
		t.Errorf("reported again: %+v", evs)
	}
}

// TestConditionTriggerIsAnEvent: a condition order that fires is reported
// with the order it placed.
func TestConditionTriggerIsAnEvent(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s, log := newSimWithEvents(t, paper(map[string]float64{"600000": 10.00}), clk, newMemLedger())
	c := mustCondition(t, s, conditionBuy("600000", 9.50, 1000, 5))
	clk.Add(time.Minute)
	_ = s.SetQuote("600000", 9.40)
	evs := log.take()
	if len(evs) != 1 || evs[0].Kind != EventConditionTriggered {
		t.Fatalf("events %+v", evs)
	}
	tr := evs[0].Data.(TriggerEvent)
	if tr.Condition.ID != c.ID || tr.Condition.Status != automation.ConditionTriggered || tr.Order.ContractNo != tr.Condition.ContractNo || tr.Order.Quantity != 1000 {
		t.Errorf("trigger %+v", tr)
	}
}

// TestNoEventForAChangeThatWasNotSaved: when the ledger cannot save the
// fill, it is rolled back, and nobody is told it happened.
func TestNoEventForAChangeThatWasNotSaved(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	ledger := newMemLedger()
	s, log := newSimWithEvents(t, paper(map[string]float64{"600000": 10.00}), clk, ledger)
	mustPlace(t, s, limit("600000", automation.Buy, 9.80, 100))
	ledger.failWith(errors.New("disk full"))
	clk.Add(time.Minute)
	if err := s.SetQuote("600000", 9.70); err == nil {
		t.Fatal("the save did not fail")
	}
	if evs := log.take(); len(evs) != 0 {
		t.Errorf("events of a change rolled back: %+v", evs)
	}
}
