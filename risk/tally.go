package risk

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/queue"
)

// tally is one terminal's counters for one trading day.
type tally struct {
	day time.Time
	// orders are the counted orders not final yet, by operation id: a
	// final one's share is settled and stays as it is.
	orders map[string]*counted
	count  int             // orders that reached or may reach the venue
	buy    decimal.Decimal // notional of buys open, filled or unknown
	sell   decimal.Decimal
	// position is, per symbol, buys open, filled or unknown less filled
	// sells: the position today's buying can build.
	position map[string]decimal.Decimal
	// recent are the admission times of the orders of about the last
	// minute, oldest first.
	recent []time.Time
}

// counted is one order's share of a tally.
type counted struct {
	facts    Facts
	notional decimal.Decimal
	counts   bool // in count
	exposure bool // in buy/sell and position
	filled   bool // a sell that succeeded, subtracted from position
}

func newTally(day time.Time) *tally {
	return &tally{day: day, orders: map[string]*counted{}, position: map[string]decimal.Decimal{}}
}

// add counts a new (or journaled, at Load) order as open.
func (t *tally) add(op queue.Operation, f Facts, notional decimal.Decimal) {
	if _, dup := t.orders[op.ID]; dup {
		return
	}
	c := &counted{facts: f, notional: notional}
	t.orders[op.ID] = c
	t.lastMinute(op.SubmittedAt) // keep recent to about a minute
	t.recent = append(t.recent, op.SubmittedAt)
	c.counts, c.exposure = true, true
	t.count++
	t.expose(c, 1)
}

func (t *tally) expose(c *counted, sign int64) {
	s := decimal.NewFromInt(sign)
	switch c.facts.Side {
	case Buy:
		t.buy = t.buy.Add(c.notional.Mul(s))
		t.position[c.facts.Symbol] = t.position[c.facts.Symbol].Add(c.facts.Quantity.Mul(s))
	case Sell:
		t.sell = t.sell.Add(c.notional.Mul(s))
	}
}

// settle applies an order's final state.
func (t *tally) settle(op queue.Operation) {
	c, ok := t.orders[op.ID]
	if !ok || !op.Status.Final() {
		return
	}
	delete(t.orders, op.ID)
	switch {
	case op.Status == queue.StatusCancelled:
		t.drop(c)
	case op.Status == queue.StatusFailed && op.ErrorCode != queue.CodeOutcomeUnknown && op.ErrorCode != queue.CodeInterrupted:
		// The venue answered: it is not open, nothing was filled.
		if c.exposure {
			c.exposure = false
			t.expose(c, -1)
		}
	case op.Status == queue.StatusSuccess && c.facts.Side == Sell && !c.filled:
		c.filled = true
		t.position[c.facts.Symbol] = t.position[c.facts.Symbol].Sub(c.facts.Quantity)
	}
}

func (t *tally) drop(c *counted) {
	if c.counts {
		c.counts = false
		t.count--
	}
	if c.exposure {
		c.exposure = false
		t.expose(c, -1)
	}
}

// remove forgets an order whose journal write failed.
func (t *tally) remove(id string) {
	if c, ok := t.orders[id]; ok {
		t.drop(c)
		delete(t.orders, id)
	}
}

// lastMinute counts the orders admitted in the 60 seconds before now.
func (t *tally) lastMinute(now time.Time) int {
	cut := now.Add(-time.Minute)
	i := 0
	for i < len(t.recent) && !t.recent[i].After(cut) {
		i++
	}
	t.recent = t.recent[i:]
	return len(t.recent)
}
