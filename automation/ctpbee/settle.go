package ctpbee

// Settling what was sent: the backend answers without an order id (and
// sometimes not at all), so what an order, a close or a cancel did is
// found in its book.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// settleWindow is how long an order, close or cancel is looked for in the
// book after it was sent: the backend records an order as it sends it,
// so a sent order shows within a few reads.
const settleWindow = 3 * time.Second

// outcome records and answers what settling found: the order, none (the
// client order id then names nothing), or still unknown (looked for on).
func (t *terminal) outcome(found automation.ExchangeOrder, err error, cid, symbol string, a answer, known map[string]bool, match func(wireOrder) bool) (automation.ExchangeOrder, error) {
	switch {
	case automation.CodeOf(err) == automation.CodeOutcomeUnknown:
		// The record stays unsettled: brokerd's settler asks
		// OrderStatus by the client order id, which settles it from the
		// book (settlePending).
		return automation.ExchangeOrder{}, err
	case err != nil:
		t.settled(cid, "", symbol)
		return automation.ExchangeOrder{}, err
	}
	return t.placed(found, cid, a)
}

func pending(symbol string, sent sentOrder, known map[string]bool, now time.Time) clientOrder {
	return clientOrder{Symbol: symbol, At: now, Sent: &sent, Known: slices.Sorted(maps.Keys(known))}
}

// placed is the outcome of a settled order: the order, or rejected when
// CTP refused it (early: the answer's msg; late: 拒单 in the book).
func (t *terminal) placed(o automation.ExchangeOrder, cid string, a answer) (automation.ExchangeOrder, error) {
	if cid != "" {
		t.settled(cid, o.OrderID, o.Symbol)
		o.ClientOrderID = cid
	}
	if o.Status == automation.StatusRejected {
		reason := a.Msg
		if a.Success || reason == "" {
			reason = "CTP rejected it after the backend had answered 成功下单 (see the backend's log)"
		}
		return automation.ExchangeOrder{}, automation.Rejected("order %s rejected: %s", o.OrderID, reason)
	}
	if !a.Success && a.Msg != "" {
		t.log.Warn("ctpbee_backend refused an order that its book shows live", "order_id", o.OrderID, "msg", a.Msg)
	}
	return o, nil
}

// sighting is what the book showed of something sent: the orders it did
// not hold before that match.
type sighting struct {
	book       book
	candidates []wireOrder
	read       bool  // the book was read at least once
	readErr    error // the last failed read
}

// lookFor reads the book until orders not known before the send match,
// for settleWindow at most (and within ctx).
func (t *terminal) lookFor(ctx context.Context, known map[string]bool, match func(wireOrder) bool) sighting {
	deadline := time.Now().Add(settleWindow)
	pause := 100 * time.Millisecond
	var s sighting
	for {
		b, err := t.readBook(ctx)
		if err == nil {
			s.book, s.read, s.candidates = b, true, nil
			for _, o := range b.allOrders() {
				if !known[string(o.OrderID)] && match(o) {
					s.candidates = append(s.candidates, o)
				}
			}
			if len(s.candidates) > 0 {
				return s
			}
		} else {
			s.readErr = err
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			return s
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// settle is the outcome of an order sent to /order_solve. a is the
// backend's answer (zero when lost). One match is the order; several are
// outcome_unknown with the candidates; none is rejected, except when the
// backend answered success (it saw the order: it cannot have vanished)
// or when the book could not be read in time.
func (t *terminal) settle(ctx context.Context, known map[string]bool, match func(wireOrder) bool, a answer, lost *lostAnswer) (automation.ExchangeOrder, error) {
	s := t.lookFor(ctx, known, match)
	switch {
	case len(s.candidates) == 1:
		return t.mapped(s.book, s.candidates[0]), nil
	case len(s.candidates) > 1:
		return automation.ExchangeOrder{}, ambiguous(s.candidates)
	case !s.read:
		return automation.ExchangeOrder{}, unreadable(lost, s.readErr)
	case lost != nil:
		return automation.ExchangeOrder{}, automation.NoSuchOrder(fmt.Sprintf("%v, and the backend's book shows no such order after %s", lost, settleWindow))
	case !a.Success:
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	return automation.ExchangeOrder{}, automation.OutcomeUnknown(nil,
		"ctpbee_backend answered %q but its book shows no such order after %s; look it up with open_orders", a.Msg, settleWindow)
}

func ambiguous(candidates []wireOrder) error {
	var ids []string
	for _, o := range candidates {
		ids = append(ids, fmt.Sprintf("%s (%s %s %s@%s, %s)", o.OrderID, o.Direction, o.Offset, o.Volume, o.Price, o.Status))
	}
	return automation.OutcomeUnknown(nil,
		"%d orders at the backend match the one sent, all placed after it: %s; look them up with order_status", len(ids), strings.Join(ids, "; "))
}

func unreadable(lost *lostAnswer, readErr error) error {
	cause := fmt.Errorf("the backend's book could not be read in time: %v", readErr)
	if lost != nil {
		cause = fmt.Errorf("%v; then the backend's book could not be read in time: %v", lost, readErr)
	}
	return automation.OutcomeUnknown(cause, "it may have been sent; order_status by its client order id settles it from the book")
}

// leaveForSettling is ctx for the send itself: it ends before ctx does,
// leaving a third of the time (at most 5 s) to settle a lost answer.
func leaveForSettling(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(time.Until(deadline)/3, 5*time.Second)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

func orderIDs(b book) map[string]bool {
	ids := map[string]bool{}
	for _, o := range b.allOrders() {
		ids[string(o.OrderID)] = true
	}
	return ids
}
