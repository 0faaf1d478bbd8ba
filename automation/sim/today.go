package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// dayLog is today's orders, open and finished, in the order they were
// placed: 当日委托 and the day's client order ids read it, so that neither
// waits on the archive. It is derived and kept under the terminal's lock:
// the open orders are the state's, the finished ones are also in the
// archive, from which loadDay reads them back after a restart. Finished
// orders never change, so the log holds the same records the archive does.
type dayLog struct {
	orders []*order
	// byClientID is the last of the log's orders placed with each client
	// order id.
	byClientID map[string]*order
	// saved is how many of orders the last save knew of: a rollback
	// forgets the ones after.
	saved int
}

// reset makes orders (in the order they were placed) the log, as saved.
func (d *dayLog) reset(orders []*order) {
	d.orders = orders
	d.saved = len(orders)
	d.index()
}

func (d *dayLog) index() {
	d.byClientID = make(map[string]*order)
	for _, o := range d.orders {
		if o.ClientOrderID != "" {
			d.byClientID[o.ClientOrderID] = o
		}
	}
}

// add logs an order just placed.
func (d *dayLog) add(o *order) {
	d.orders = append(d.orders, o)
	if o.ClientOrderID != "" {
		d.byClientID[o.ClientOrderID] = o
	}
}

// keep is told that the state was saved as of today: the orders of earlier
// days leave the log (they are all finished and archived; a client order id
// of theirs is looked up in the archive), and the rest is what a rollback
// goes back to.
func (d *dayLog) keep(today day) {
	if len(d.orders) > 0 && dayOf(d.orders[0].PlacedAt) < today {
		d.orders = slices.DeleteFunc(d.orders, func(o *order) bool { return dayOf(o.PlacedAt) < today })
		d.index()
	}
	d.saved = len(d.orders)
}

// rollback goes back to the log of the last save, whose open orders are
// open (the state restored from that save's copies of them). The log's
// other orders had finished by that save and have not changed since: only
// an open order changes.
func (d *dayLog) rollback(open []*order) {
	restored := make(map[string]*order, len(open))
	for _, o := range open {
		restored[o.ContractNo] = o
	}
	clear(d.orders[d.saved:])
	d.orders = d.orders[:d.saved]
	for i, o := range d.orders {
		if r, ok := restored[o.ContractNo]; ok {
			d.orders[i] = r
		}
	}
	d.index()
}

// keepToday is dayLog.keep after a save. The caller holds the lock.
func (t *Terminal) keepToday() { t.day.keep(t.st.Today) }

// loadDay rebuilds the day's log after the state was loaded: today's
// finished orders from the archive, and the open ones.
func (t *Terminal) loadDay(ctx context.Context) error {
	done, err := archived[order](ctx, t, kindOrder, t.st.Today)
	if err != nil {
		return fmt.Errorf("cannot read today's orders: %w", err)
	}
	orders := slices.Concat(done, t.st.Orders)
	sortByPlacing(orders)
	t.day.reset(orders)
	return nil
}

// sortByPlacing sorts orders in the order they were placed: by contract
// number, which every order takes from one increasing sequence. (The
// archive holds an order from when it finished, so a resting order comes
// after orders placed later.)
func sortByPlacing(orders []*order) {
	slices.SortFunc(orders, func(a, b *order) int {
		if n := len(a.ContractNo) - len(b.ContractNo); n != 0 {
			return n
		}
		return strings.Compare(a.ContractNo, b.ContractNo)
	})
}
