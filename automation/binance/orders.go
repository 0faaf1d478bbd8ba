package binance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// clientOrderIDRule is Binance's rule for newClientOrderId.
var clientOrderIDRule = regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)

// settleGrace is how long after an order.place was sent a "no such order"
// (-2013) is believed: an order still on its way through Binance's engine
// (the case -1007 warns of) may not be found by a lookup sent at once, so
// an earlier -2013 is asked again after the grace.
const settleGrace = time.Second

// PlaceOrder sends order.place once. A lost answer (the socket dropped
// after the send, no answer in time, -1007 or a 5xx) is settled by
// order.status with origClientOrderId, on the same or the next
// connection: the order found, or NoSuchOrder when Binance confirms it has
// none; OutcomeUnknown only when Binance cannot be asked before ctx ends.
// The request is never sent again.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	p, err := placeParams(req)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	sentAt := t.clock()
	a, err := t.sendCurrent(ctx, "order.place", p, signed, t.answerBudget(ctx))
	switch code := automation.CodeOf(err); {
	case code == automation.CodeRateLimited || code == automation.CodeNotConnected: // nothing was sent
		return automation.ExchangeOrder{}, err
	case isNotSent(err):
		return automation.ExchangeOrder{}, automation.NotConnected("binance connection ended before the order was sent: nothing was sent")
	case err != nil:
		return t.settle(ctx, req, sentAt, err)
	case a.Error == nil:
		o, derr := decodeOrder(a.Result)
		if derr != nil {
			return t.settle(ctx, req, sentAt, derr)
		}
		return o, nil
	}
	switch code := a.Error.Code; {
	case code == -1007 || code == -1006 || a.Status >= 500:
		return t.settle(ctx, req, sentAt, automation.VenueError(automation.CodeOutcomeUnknown, strconv.Itoa(code), a.Error.Msg))
	case code == -2010 || code == -4116:
		return t.duplicate(ctx, req, a)
	}
	return automation.ExchangeOrder{}, t.venueErr(a)
}

// answerBudget is how long to wait for an order's answer: request_timeout,
// but at most half of what is left of ctx, so that the other half is left
// to settle a lost answer by asking.
func (t *Terminal) answerBudget(ctx context.Context) time.Duration {
	d := time.Duration(t.opts.RequestTimeout)
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	return max(d, time.Millisecond)
}

func placeParams(req automation.PlaceOrderRequest) (params, error) {
	if req.Symbol == "" {
		return nil, automation.Rejected("symbol is required")
	}
	if !clientOrderIDRule.MatchString(req.ClientOrderID) {
		return nil, automation.Rejected("client order id %q does not fit Binance's rule %s", req.ClientOrderID, clientOrderIDRule)
	}
	if !req.Quantity.IsPositive() {
		return nil, automation.Rejected("quantity must be positive")
	}
	p := params{
		"symbol":           req.Symbol,
		"side":             string(req.Side),
		"type":             string(req.Type),
		"quantity":         req.Quantity.String(),
		"newClientOrderId": req.ClientOrderID,
		// RESULT answers the order as it is after matching (a MARKET
		// order FILLED); ACK would say NEW even for a filled one.
		"newOrderRespType": "RESULT",
	}
	if req.PositionSide != "" {
		p["positionSide"] = string(req.PositionSide)
	}
	if req.ReduceOnly {
		p["reduceOnly"] = "true"
	}
	switch req.Type {
	case automation.TypeLimit:
		if !req.Price.IsPositive() {
			return nil, automation.Rejected("price is required for a LIMIT order")
		}
		p["price"] = req.Price.String()
		tif := req.TimeInForce
		if tif == "" {
			tif = automation.GTC
		}
		p["timeInForce"] = string(tif)
	case automation.TypeMarket:
		if !req.Price.IsZero() {
			return nil, automation.Rejected("a MARKET order takes no price")
		}
	default:
		return nil, automation.Rejected("type %q is neither LIMIT nor MARKET", req.Type)
	}
	return p, nil
}

// settle finds out what became of an order whose answer was lost, by
// asking Binance for it by its client order id. It never sends the order
// again. When ctx ends before Binance could be asked, the outcome is
// unknown: brokerd's settler (package settle) goes on asking through
// OrderStatus by the client order id, so the driver keeps no background
// lookups of its own.
func (t *Terminal) settle(ctx context.Context, req automation.PlaceOrderRequest, sentAt time.Time, cause error) (automation.ExchangeOrder, error) {
	t.log.Warn("binance order answer lost; looking it up by client order id", "client_order_id", req.ClientOrderID, "cause", cause)
	o, found, err := t.lookup(ctx, req, sentAt)
	switch {
	case err != nil:
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(cause, "binance could not be asked about client order id %s (%v); the order may or may not be placed", req.ClientOrderID, err)
	case found:
		return o, nil
	}
	return automation.ExchangeOrder{}, &automation.Error{
		Code: automation.CodeRejected, VenueCode: "-2013", Err: automation.ErrNoSuchOrder,
		Message: fmt.Sprintf("binance has no order with client order id %s: it was not placed (%v)", req.ClientOrderID, cause),
	}
}

// lookup asks Binance for the order by its client order id until it
// answers: found, or confirmed absent (found false). The error says it
// could not be asked: ctx ended, or the key is refused.
func (t *Terminal) lookup(ctx context.Context, req automation.PlaceOrderRequest, sentAt time.Time) (automation.ExchangeOrder, bool, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return automation.ExchangeOrder{}, false, err
		}
		if t.revoked() {
			return automation.ExchangeOrder{}, false, errors.New("binance refuses the API key")
		}
		select {
		case <-t.closed:
			return automation.ExchangeOrder{}, false, errors.New("the terminal is closed")
		default:
		}
		c, err := t.connection(ctx)
		if err != nil {
			continue // the loop's checks end it; connection waited already
		}
		askedAt := t.clock()
		a, err := t.roundTrip(ctx, c, "order.status", params{"symbol": req.Symbol, "origClientOrderId": req.ClientOrderID}, signed, time.Duration(t.opts.RequestTimeout))
		if err == nil && a.Error == nil {
			o, derr := decodeOrder(a.Result)
			if derr == nil {
				t.log.Info("binance order settled: found", "client_order_id", req.ClientOrderID, "order_id", o.OrderID, "status", o.Status)
				return o, true, nil
			}
			err = derr
		}
		if err == nil && a.Error.Code == -2013 {
			if askedAt.Sub(sentAt) >= settleGrace {
				t.log.Info("binance order settled: not placed", "client_order_id", req.ClientOrderID)
				return automation.ExchangeOrder{}, false, nil
			}
			// Too soon to believe: ask again once the grace is over
			// (the loop's first check ends it if ctx does first).
			sleep(ctx, sentAt.Add(settleGrace).Sub(t.clock()))
			continue
		}
		if err == nil {
			err = t.venueErr(a)
		}
		wait := min(100*time.Millisecond<<min(attempt, 4), 2*time.Second)
		var coded *automation.Error
		if errors.As(err, &coded) && coded.Code == automation.CodeRateLimited && coded.RetryAfter > 0 {
			wait = coded.RetryAfter
		}
		t.log.Debug("binance order lookup failed; asking again", "client_order_id", req.ClientOrderID, "err", err, "retry_in", wait)
		sleep(ctx, wait)
	}
}

// duplicate handles -2010 (and -4116) on order.place. Binance refused
// this request, so it placed nothing; but the refusal may mean an order
// with the same client order id is open — an earlier attempt of the same
// operation that landed (brokerd derives the id from the idempotency key).
// The choice: look it up; if it is the same order (symbol, side, type,
// quantity, price), that order is this operation's result, as the first
// attempt would have answered; if it differs, or there is none (-2010 is
// also Binance's code for other refusals), the refusal stands with
// Binance's code and message. When the lookup cannot be made the outcome
// is unknown, because a rejected would let the trader place it again.
func (t *Terminal) duplicate(ctx context.Context, req automation.PlaceOrderRequest, refusal answer) (automation.ExchangeOrder, error) {
	refused := t.venueErr(refusal)
	a, err := t.query(ctx, "order.status", params{"symbol": req.Symbol, "origClientOrderId": req.ClientOrderID}, signed)
	switch {
	case errors.Is(err, automation.ErrNoSuchOrder):
		return automation.ExchangeOrder{}, refused
	case err != nil:
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(refused, "binance refused the order and could not be asked whether client order id %s is already placed", req.ClientOrderID)
	}
	o, err := decodeOrder(a.Result)
	if err != nil {
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(err, "binance refused the order; the order found under client order id %s cannot be read", req.ClientOrderID)
	}
	if !sameOrder(req, o) {
		return automation.ExchangeOrder{}, automation.VenueError(automation.CodeRejected, strconv.Itoa(refusal.Error.Code),
			fmt.Sprintf("%s (client order id %s belongs to another order, %s)", refusal.Error.Msg, req.ClientOrderID, o.OrderID))
	}
	t.log.Info("binance order was already placed under its client order id", "client_order_id", req.ClientOrderID, "order_id", o.OrderID)
	return o, nil
}

func sameOrder(req automation.PlaceOrderRequest, o automation.ExchangeOrder) bool {
	if o.Symbol != req.Symbol || o.Side != req.Side || o.Type != req.Type || !o.Quantity.Equal(req.Quantity) {
		return false
	}
	return req.Type != automation.TypeLimit || o.Price.Equal(req.Price)
}

// refParams names an order by orderId or origClientOrderId.
func refParams(ref automation.OrderRef) (params, error) {
	if ref.Symbol == "" {
		return nil, automation.Rejected("symbol is required")
	}
	p := params{"symbol": ref.Symbol}
	switch {
	case ref.OrderID != "" && ref.ClientOrderID != "":
		return nil, automation.Rejected("give either order_id or client_order_id, not both")
	case ref.OrderID != "":
		id, err := strconv.ParseInt(ref.OrderID, 10, 64)
		if err != nil || id <= 0 {
			return nil, automation.Rejected("order_id %q is not a Binance order id", ref.OrderID)
		}
		p["orderId"] = id
	case ref.ClientOrderID != "":
		p["origClientOrderId"] = ref.ClientOrderID
	default:
		return nil, automation.Rejected("order_id or client_order_id is required")
	}
	return p, nil
}

// OrderStatus is order.status; an order Binance does not know (-2013) is
// NoSuchOrder.
func (t *Terminal) OrderStatus(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	p, err := refParams(ref)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	a, err := t.query(ctx, "order.status", p, signed)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	return decodeOrder(a.Result)
}

// CancelOrder is order.cancel. Its answer lost, the order is looked up:
// closed, it is the result; still open, the outcome is unknown (the cancel
// may yet arrive).
func (t *Terminal) CancelOrder(ctx context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	p, err := refParams(ref)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	a, err := t.sendCurrent(ctx, "order.cancel", clone(p), signed, t.answerBudget(ctx))
	switch code := automation.CodeOf(err); {
	case code == automation.CodeRateLimited || code == automation.CodeNotConnected: // nothing was sent
		return automation.ExchangeOrder{}, err
	case isNotSent(err):
		return automation.ExchangeOrder{}, automation.NotConnected("binance connection ended before the cancel was sent: nothing was sent")
	case err == nil && a.Error == nil:
		return decodeOrder(a.Result)
	case err == nil && a.Error.Code != -1007 && a.Error.Code != -1006 && a.Status < 500:
		return automation.ExchangeOrder{}, t.venueErr(a)
	}
	cause := err
	if cause == nil {
		cause = t.venueErr(a)
	}
	t.log.Warn("binance cancel answer lost; looking the order up", "cause", cause)
	o, err := t.OrderStatus(ctx, ref)
	if err != nil {
		return automation.ExchangeOrder{}, automation.OutcomeUnknown(cause, "binance cancel's answer was lost and the order could not be looked up: %v", err)
	}
	if o.Status.Open() {
		return o, automation.OutcomeUnknown(cause, "binance cancel's answer was lost and order %s is still %s", o.OrderID, o.Status)
	}
	return o, nil
}
