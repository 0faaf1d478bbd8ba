package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// placeRequest turns an exchange-set order into the gateway's place_order,
// refusing what the gateway cannot express (nothing is sent then).
func (t *Terminal) placeRequest(req automation.PlaceOrderRequest) (request, error) {
	w := request{Op: "place_order", Symbol: req.Symbol, Action: string(req.Side)}
	switch {
	case req.Symbol == "":
		return w, automation.Rejected("place_order needs a symbol")
	case req.Side != automation.SideBuy && req.Side != automation.SideSell:
		return w, automation.Rejected("side must be BUY or SELL, got %q", req.Side)
	case !req.Quantity.IsPositive():
		return w, automation.Rejected("quantity must be positive, got %s", req.Quantity)
	case req.ReduceOnly:
		return w, automation.Rejected("the gateway has no reduce_only: close with position_side instead")
	case req.Offset != "":
		return w, automation.Rejected("the gateway takes no offset")
	}
	switch req.Type {
	case automation.TypeLimit, "":
		if !req.Price.IsPositive() {
			return w, automation.Rejected("a LIMIT order needs a positive price, got %s", req.Price)
		}
		switch req.TimeInForce {
		case automation.GTC, "":
			w.OrderType = "LIMIT"
		case automation.IOC:
			w.OrderType = "IOC"
		default:
			return w, automation.Rejected("time_in_force %s: the gateway takes GTC and IOC", req.TimeInForce)
		}
		w.Price = num(req.Price)
	case automation.TypeMarket:
		if !req.Price.IsZero() {
			return w, automation.Rejected("a MARKET order takes no price, got %s", req.Price)
		}
		w.OrderType, w.Price = "MARKET", num(decimal.Zero) // the seed: price 0 for a market order
	default:
		return w, automation.Rejected("type must be LIMIT or MARKET, got %q", req.Type)
	}
	qty := req.Quantity
	switch req.PositionSide {
	case automation.PositionBoth, "", automation.PositionLong:
		if req.PositionSide == automation.PositionLong && !t.opts.Futures {
			return w, automation.Rejected("position_side LONG is for futures platforms; this terminal is spot (options.futures = false)")
		}
	case automation.PositionShort:
		if !t.opts.Futures {
			return w, automation.Rejected("position_side SHORT is for futures platforms; this terminal is spot (options.futures = false)")
		}
		qty = qty.Neg() // the seed: a negative quantity acts on the short side
	default:
		return w, automation.Rejected("position_side must be BOTH, LONG or SHORT, got %q", req.PositionSide)
	}
	if t.opts.Futures && !qty.Equal(qty.Truncate(0)) {
		return w, automation.Rejected("futures quantities are whole contracts (the gateway would truncate %s)", req.Quantity)
	}
	w.Quantity = num(qty)
	return w, nil
}

// placement is one place_order as sent.
type placement struct {
	req       automation.PlaceOrderRequest
	wire      request
	mark      uint64    // the terminal's orderSeq before the send: later orders are candidates
	sentAt    time.Time // our clock at the send
	gen       uint64    // the socket it went out on
	baselined bool      // the symbol's open orders were known before the send
	gaps      uint64    // the login's disruptions before the send (stale.go)
}

// createdSlack is how much older than the send (by the gateway's ctime)
// an order may look and still be a candidate: the clocks differ.
const createdSlack = time.Minute

// PlaceOrder sends the order once. A refusal is rejected; an answer that
// never comes (the deadline, a dropped socket, an op error that may have
// come after the venue was called) is settled, never resent.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	wire, err := t.placeRequest(req)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	token, err := t.readyToken(ctx, true)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	wire.Token = token
	gaps := t.c.gapsOf(t.s)
	t.mu.Lock()
	p := placement{req: req, wire: wire, mark: t.orderSeq, sentAt: t.now(), gen: t.c.current(), baselined: t.baselined[req.Symbol],
		gaps: gaps}
	t.mu.Unlock()

	pc, err := t.c.send(wire)
	var notSent *notSentError
	switch {
	case errors.As(err, &notSent):
		return automation.ExchangeOrder{}, automation.NotConnected("gateway place_order not sent: %s", notSent.why)
	case err != nil:
		return t.settle(ctx, nil, p, err)
	}
	p.gen = pc.gen
	f, err := t.c.wait(ctx, pc, t.s.requestTimeout)
	if err == nil {
		err = t.placeAnswer(f)
	}
	switch {
	case err == nil:
		t.c.forget(pc)
		return t.attribute(p, string(f.OrderNo)), nil
	case errors.Is(err, errRefused):
		t.c.forget(pc)
		return automation.ExchangeOrder{}, t.refusal("place_order", f)
	}
	return t.settle(ctx, pc, p, err)
}

var errRefused = errors.New("refused")

// placeAnswer classifies place_order's answer: nil for an order number,
// errRefused for result false, another error for an answer that does not
// tell (an op error, a yes without an order number).
func (t *Terminal) placeAnswer(f frame) error {
	switch {
	case f.Op == "error":
		return fmt.Errorf("the gateway answered op error %q, which may come after the venue took the order", t.c.redact(string(f.ErrorMessage)))
	case !f.ok():
		return errRefused
	case f.OrderNo == "":
		return errors.New("the gateway answered result true without an order_no")
	}
	return nil
}

// attribute makes orderNo the order of p.
func (t *Terminal) attribute(p placement, orderNo string) automation.ExchangeOrder {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.placed[orderNo] = true
	if k, ok := t.orders[orderNo]; ok {
		k.listed = true
	}
	if id := p.req.ClientOrderID; id != "" {
		t.clientOf[orderNo], t.byClient[id] = id, orderNo
	}
	k, ok := t.orders[orderNo]
	if !ok {
		o := automation.ExchangeOrder{
			OrderID: orderNo, Symbol: p.req.Symbol, Side: p.req.Side, Type: p.req.Type, Status: automation.StatusNew,
			Price: p.req.Price, Quantity: p.req.Quantity, TimeInForce: p.req.TimeInForce,
			PositionSide: p.req.PositionSide, UpdatedAt: t.now(),
		}
		if o.Type == "" {
			o.Type = automation.TypeLimit
		}
		if o.Type == automation.TypeLimit && o.TimeInForce == "" {
			o.TimeInForce = automation.GTC
		}
		if o.PositionSide == "" || o.PositionSide == automation.PositionBoth {
			o.PositionSide = automation.PositionBoth
			if t.opts.Futures { // as the gateway's notices will say: a positive quantity is the long side
				o.PositionSide = automation.PositionLong
			}
		}
		t.learnLocked(o, decimal.Decimal(*p.wire.Quantity), time.Time{}, time.Time{}, true)
		k = t.orders[orderNo]
	}
	return t.viewLocked(k)
}

// settlePause is the wait between two tries to read the open orders.
const settlePause = 200 * time.Millisecond

// settle finds out what became of a place_order whose answer is lost:
// from a late answer, the order notices and open_orders for the same
// symbol, side, price and quantity after the send, on this socket or the
// next, within ctx.
func (t *Terminal) settle(ctx context.Context, pc *pendingCall, p placement, cause error) (automation.ExchangeOrder, error) {
	if pc != nil {
		defer t.c.forget(pc)
	}
	why := t.c.redact(cause.Error())
	t.log.Warn("gateway place_order answer lost: settling from the order notices and open_orders, never resending",
		"symbol", p.wire.Symbol, "action", p.wire.Action, "cause", why)
	late := func() (automation.ExchangeOrder, error, bool) {
		if pc == nil {
			return automation.ExchangeOrder{}, nil, false
		}
		select {
		case a := <-pc.done:
			pc = nil
			if a.err != nil {
				return automation.ExchangeOrder{}, nil, false
			}
			switch err := t.placeAnswer(a.f); {
			case err == nil:
				return t.attribute(p, string(a.f.OrderNo)), nil, true
			case errors.Is(err, errRefused):
				return automation.ExchangeOrder{}, t.refusal("place_order", a.f), true
			default:
				why += "; then " + err.Error()
			}
		default:
		}
		return automation.ExchangeOrder{}, nil, false
	}
	for {
		if o, err, done := late(); done {
			return o, err
		}
		if ctx.Err() != nil {
			return t.undecided(p, cause, why, "the deadline passed before the gateway could be asked")
		}
		if err := t.waitReady(ctx, false); err != nil {
			if ctx.Err() == nil { // closed
				return t.undecided(p, cause, why, "the terminal closed before the gateway could be asked")
			}
			continue
		}
		_, err := t.fetchOpen(ctx, p.wire.Symbol)
		if o, err, done := late(); done {
			return o, err
		}
		if err != nil {
			if ctx.Err() == nil {
				t.log.Warn("gateway open_orders for a settlement failed; trying again", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(settlePause):
				}
			}
			continue
		}
		cands := t.candidates(p)
		gaps := t.c.gapsOf(t.s)
		// The notices tell all only on the socket of the send and with no
		// disruption of the login since (a state 4 means the venue's
		// link dropped: its notices may be lost, and a state that was
		// taken for the previous session's may not have been: stale.go).
		sameSocket := p.gen != 0 && t.c.current() == p.gen && gaps == p.gaps
		switch {
		case len(cands) == 1 && !p.baselined:
			return automation.ExchangeOrder{}, withCandidates(automation.OutcomeUnknown(cause,
				"gateway place_order not answered (%s); open order %s matches, but the open orders of %s were not known before the send, so it may be an older order",
				why, cands[0].OrderID, p.wire.Symbol), cands)
		case len(cands) == 1 && !t.listed(cands[0].OrderID):
			// A finished order only notices told of: the gateway may
			// deliver an earlier session of the account's notices under
			// this login's token (stale.go), and that session may be
			// another process's, so no login is free of them.
			return automation.ExchangeOrder{}, withCandidates(automation.OutcomeUnknown(cause,
				"gateway place_order not answered (%s); order %s (%s) matches, but only the gateway's notices told of it, and they may be an earlier session's delivered under this login's token, so it may be an older order",
				why, cands[0].OrderID, cands[0].Status), cands)
		case len(cands) == 1:
			t.log.Info("gateway place_order settled: one order matches", "order_id", cands[0].OrderID)
			return t.attribute(p, cands[0].OrderID), nil
		case len(cands) > 1:
			return automation.ExchangeOrder{}, withCandidates(automation.OutcomeUnknown(cause,
				"gateway place_order not answered (%s); %d orders match it: candidates %s", why, len(cands), describe(cands)), cands)
		case sameSocket:
			return automation.ExchangeOrder{}, automation.NoSuchOrder(fmt.Sprintf(
				"gateway place_order not answered (%s); no order notice since the send and no open order of %s matches it: the gateway has none", why, p.wire.Symbol))
		default:
			return automation.ExchangeOrder{}, automation.OutcomeUnknown(cause,
				"gateway place_order not answered (%s); no open order of %s matches, but the connection dropped or the gateway reported a disruption since the send, so a filled order's notices may be lost", why, p.wire.Symbol)
		}
	}
}

// undecided ends a settlement that could not ask the gateway: what the
// notices told is all there is.
func (t *Terminal) undecided(p placement, cause error, why, what string) (automation.ExchangeOrder, error) {
	cands := t.candidates(p)
	if len(cands) == 1 && p.baselined && t.listed(cands[0].OrderID) {
		return t.attribute(p, cands[0].OrderID), nil
	}
	msg := fmt.Sprintf("gateway place_order not answered (%s); %s", why, what)
	if len(cands) > 0 {
		msg += "; candidates " + describe(cands)
	}
	return automation.ExchangeOrder{}, withCandidates(automation.OutcomeUnknown(cause, "%s", msg), cands)
}

// candidatesError is an outcome_unknown that names the orders the lost
// answer may have been; the place_order plugin puts them in the
// operation's data (plugins.candidateLister).
type candidatesError struct {
	err        error
	candidates []automation.ExchangeOrder
}

func withCandidates(err error, cands []automation.ExchangeOrder) error {
	if len(cands) == 0 {
		return err
	}
	return &candidatesError{err: err, candidates: cands}
}

func (e *candidatesError) Error() string                          { return e.err.Error() }
func (e *candidatesError) Unwrap() error                          { return e.err }
func (e *candidatesError) ErrorCode() string                      { return string(automation.CodeOf(e.err)) }
func (e *candidatesError) Candidates() []automation.ExchangeOrder { return e.candidates }

// candidates are the orders first seen after the send, not another
// placement's, with p's symbol, side, price (but for MARKET) and quantity.
func (t *Terminal) candidates(p placement) []automation.ExchangeOrder {
	qty := decimal.Decimal(*p.wire.Quantity)
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []automation.ExchangeOrder
	for no, k := range t.orders {
		o := k.order
		switch {
		case k.firstSeq <= p.mark, t.placed[no]:
		case o.Symbol != p.wire.Symbol, string(o.Side) != p.wire.Action, !k.wireQty.Equal(qty):
		case p.wire.OrderType != "MARKET" && !o.Price.Equal(p.req.Price):
		case !k.created.IsZero() && k.created.Before(p.sentAt.Add(-createdSlack)):
		default:
			out = append(out, t.viewLocked(k))
		}
	}
	return out
}

// listed says whether the order was seen other than in notices (in
// open_orders or a place_order answer).
func (t *Terminal) listed(orderNo string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.orders[orderNo]
	return ok && k.listed
}

func describe(os []automation.ExchangeOrder) string {
	var b strings.Builder
	for i, id := range sortedIDs(os) {
		if i > 0 {
			b.WriteString(", ")
		}
		for _, o := range os {
			if o.OrderID == id {
				fmt.Fprintf(&b, "%s (%s %s %s @ %s, %s)", o.OrderID, o.Side, o.Quantity, o.Symbol, o.Price, o.Status)
			}
		}
	}
	return b.String()
}
