package ctpbee

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// findOrder looks ref up in the book.
func (t *terminal) findOrder(b book, ref automation.OrderRef) (wireOrder, bool) {
	id := ref.OrderID
	if id == "" {
		t.mu.Lock()
		id = t.cids[ref.ClientOrderID].OrderID
		t.mu.Unlock()
	}
	i := slices.IndexFunc(b.allOrders(), func(o wireOrder) bool {
		return string(o.OrderID) == id && (ref.Symbol == "" || o.localSymbol() == ref.Symbol)
	})
	if id == "" || i < 0 {
		return wireOrder{}, false
	}
	return b.allOrders()[i], true
}

// unknownRef is the error for an order the book does not hold. A client
// order id is known only for orders this terminal placed since it
// started (ctpbee keeps none), so its absence proves nothing.
func (t *terminal) unknownRef(ref automation.OrderRef) error {
	if ref.OrderID != "" {
		return automation.NoSuchOrder(fmt.Sprintf("ctpbee_backend has no order %s in %s today", ref.OrderID, ref.Symbol))
	}
	t.mu.Lock()
	c, ok := t.cids[ref.ClientOrderID]
	t.mu.Unlock()
	switch {
	case ok && c.Sent != nil:
		return automation.OutcomeUnknown(nil, "the order of client order id %s is not settled yet", ref.ClientOrderID)
	case ok && c.OrderID == "":
		return automation.NoSuchOrder(fmt.Sprintf("client order id %s placed no order", ref.ClientOrderID))
	case ok:
		return automation.NoSuchOrder(fmt.Sprintf("ctpbee_backend no longer shows order %s of client order id %s", c.OrderID, ref.ClientOrderID))
	case t.env.Ledger != nil:
		// Every client order id is journaled before its order is sent.
		return automation.NoSuchOrder(fmt.Sprintf("this terminal never sent an order with client order id %s", ref.ClientOrderID))
	}
	return automation.OutcomeUnknown(nil, "client order id %s is not one this terminal placed since it started, and ctpbee keeps no client order ids: look the order up by order_id", ref.ClientOrderID)
}

func (t *terminal) OrderStatus(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	b, err := t.readBook(ctx)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	o, ok := t.findOrder(b, ref)
	if !ok && ref.OrderID == "" {
		return t.settlePending(ctx, ref.ClientOrderID)
	}
	if !ok {
		return automation.ExchangeOrder{}, t.unknownRef(ref)
	}
	return t.mapped(b, o), nil
}

// settlePending settles an order of cid sent but not settled (its answer
// was lost before a restart, or it matched several): from the book, as
// PlaceOrder would.
func (t *terminal) settlePending(ctx context.Context, cid string) (automation.ExchangeOrder, error) {
	t.mu.Lock()
	c, ok := t.cids[cid]
	t.mu.Unlock()
	if !ok || c.Sent == nil {
		return automation.ExchangeOrder{}, t.unknownRef(automation.OrderRef{ClientOrderID: cid})
	}
	known := map[string]bool{}
	for _, id := range c.Known {
		known[id] = true
	}
	s := t.lookFor(ctx, known, c.Sent.matches)
	switch {
	case len(s.candidates) == 1:
		o := t.mapped(s.book, s.candidates[0])
		t.settled(cid, o.OrderID, o.Symbol)
		o.ClientOrderID = cid
		return o, nil
	case len(s.candidates) > 1:
		return automation.ExchangeOrder{}, ambiguous(s.candidates)
	case !s.read:
		return automation.ExchangeOrder{}, unreadable(nil, s.readErr)
	}
	t.settled(cid, "", c.Symbol)
	return automation.ExchangeOrder{}, automation.NoSuchOrder(fmt.Sprintf("client order id %s placed no order: the backend's book shows none", cid))
}

// mapped is o with its average price and client order id.
func (t *terminal) mapped(b book, o wireOrder) automation.ExchangeOrder {
	out := toOrder(o, avgPrices(b.Trades)[string(o.OrderID)], t.now())
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.withCID(out)
}

func (t *terminal) OpenOrders(ctx context.Context, symbol string) ([]automation.ExchangeOrder, error) {
	b, err := t.readBook(ctx)
	if err != nil {
		return nil, err
	}
	out := []automation.ExchangeOrder{}
	for _, o := range b.allOrders() {
		if s, _ := orderStatus(string(o.Status)); !s.Open() || (symbol != "" && o.localSymbol() != symbol) {
			continue
		}
		out = append(out, t.mapped(b, o))
	}
	return out, nil
}

// CancelOrder sends DELETE /order_solve for an open order and confirms
// the cancel in the book: the backend answers 成功撤单 whatever happened.
func (t *terminal) CancelOrder(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	b, err := t.readBook(ctx)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	o, ok := t.findOrder(b, ref)
	if !ok && ref.OrderID == "" {
		// An order of the client order id not settled yet is settled
		// first.
		settled, err := t.settlePending(ctx, ref.ClientOrderID)
		if err != nil {
			return automation.ExchangeOrder{}, err
		}
		return t.CancelOrder(ctx, automation.OrderRef{Symbol: ref.Symbol, OrderID: settled.OrderID})
	}
	if !ok {
		return automation.ExchangeOrder{}, t.unknownRef(ref)
	}
	if s, _ := orderStatus(string(o.Status)); !s.Open() {
		return automation.ExchangeOrder{}, automation.Rejected("order %s is already %s: nothing to cancel", o.OrderID, s)
	}
	c, err := parseSymbol(o.localSymbol())
	if err != nil {
		return automation.ExchangeOrder{}, automation.Rejected("%v", err)
	}
	t.markSent(c.local())
	a, err := t.call(ctx, http.MethodDelete, "/order_solve", url.Values{
		"local_symbol": {c.local()}, "exchange": {c.exchange}, "order_id": {string(o.OrderID)},
	})
	var lost *lostAnswer
	switch {
	case errors.As(err, &lost):
		t.log.Warn("the answer to a cancel was lost; reading the order", "order_id", string(o.OrderID), "error", lost.err.Error())
	case err != nil:
		return automation.ExchangeOrder{}, err
	case !a.Success:
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	deadline := time.Now().Add(settleWindow)
	pause := 100 * time.Millisecond
	var last automation.ExchangeOrder
	for {
		if b, err := t.readBook(ctx); err == nil {
			if now, ok := t.findOrder(b, automation.OrderRef{OrderID: string(o.OrderID)}); ok {
				last = t.mapped(b, now)
				if !last.Status.Open() {
					return last, nil
				}
			}
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
	status := "unknown"
	if last.OrderID != "" {
		status = string(last.Status)
	}
	return automation.ExchangeOrder{}, automation.OutcomeUnknown(nil,
		"the cancel of order %s was sent but the order is still %s after %s; look it up with order_status", o.OrderID, status, settleWindow)
}
