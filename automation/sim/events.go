package sim

import (
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Kinds of the venue events the sim reports (automation.VenueEvent.Kind).
const (
	// EventFill: a resting limit order filled when the price reached it.
	EventFill = "fill"
	// EventConditionTriggered: a condition order or stop-loss/profit
	// fired and placed its order.
	EventConditionTriggered = "condition_triggered"
)

// FillEvent is the data of an EventFill.
type FillEvent struct {
	Order automation.Order `json:"order"`
	// Resting is true for an order that rested before it filled (one
	// that filled at once is in its operation's result already).
	Resting bool `json:"resting"`
}

// TriggerEvent is the data of an EventConditionTriggered: the condition
// order, now triggered, and the order it placed (filled, resting, or a
// rejected 废单 with the reason).
type TriggerEvent struct {
	Condition automation.ConditionOrder `json:"condition"`
	Order     automation.Order          `json:"order"`
}

// note keeps an event until the change it tells of is saved: a save that
// fails rolls the change back, and the event with it. The caller holds the
// lock.
func (t *Terminal) note(at time.Time, kind string, data any) {
	if t.publish == nil {
		return
	}
	t.pending = append(t.pending, automation.VenueEvent{Terminal: t.name, Kind: kind, Data: data, At: at})
}

// flushEvents publishes the events of a saved change. The account is
// evaluated lazily, at each operation and quote change, so an event comes
// then, with the time it happened at. The caller holds the lock; publish
// never blocks.
func (t *Terminal) flushEvents() {
	for _, ev := range t.pending {
		t.publish(ev)
	}
	t.pending = nil
}
