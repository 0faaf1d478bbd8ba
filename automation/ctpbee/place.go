package ctpbee

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// settleWindow is how long an order, close or cancel is looked for in the
// book after it was sent: the backend records an order as it sends it,
// so a sent order shows within a few reads.
const settleWindow = 3 * time.Second

// msgMissingParams is /order_solve's and /close_position's answer to a
// missing field: nothing was sent.
const msgMissingParams = "参数含空"

// orderParams is one order as /order_solve takes it, and as its lists
// show it once sent.
type orderParams struct {
	contract  contract
	direction string // long | short
	offset    automation.Offset
	kind      string // limit | market | fak | fok
	price     decimal.Decimal
	volume    decimal.Decimal
}

func (p orderParams) form() url.Values {
	return url.Values{
		"local_symbol": {p.contract.local()},
		"exchange":     {p.contract.exchange},
		"direction":    {p.direction},
		"offset":       {offsetParam[p.offset]},
		"type":         {p.kind},
		"price":        {p.price.String()},
		"volume":       {p.volume.String()},
	}
}

func (p orderParams) String() string {
	return fmt.Sprintf("%s %s %s %s %s@%s", p.contract.local(), p.direction, offsetParam[p.offset], p.kind, p.volume, p.price)
}

// newOrderParams checks a place_order against what CTP can take; a
// refusal here is rejected with nothing sent.
func newOrderParams(req automation.PlaceOrderRequest) (orderParams, error) {
	c, err := parseSymbol(req.Symbol)
	if err != nil {
		return orderParams{}, automation.Rejected("%v", err)
	}
	p := orderParams{contract: c, volume: req.Quantity}
	if !req.Quantity.IsPositive() || !req.Quantity.IsInteger() {
		return orderParams{}, automation.Rejected("quantity must be a whole number of lots, got %s", req.Quantity)
	}
	switch req.Side {
	case automation.SideBuy:
		p.direction = "long"
	case automation.SideSell:
		p.direction = "short"
	default:
		return orderParams{}, automation.Rejected("side must be BUY or SELL, got %q", req.Side)
	}
	// The side of the position the order acts on: a buy opens a long or
	// closes a short.
	closes := req.PositionSide == automation.PositionShort && req.Side == automation.SideBuy ||
		req.PositionSide == automation.PositionLong && req.Side == automation.SideSell
	p.offset = req.Offset
	if p.offset == "" {
		p.offset = automation.OffsetOpen
		if req.ReduceOnly || closes {
			p.offset = automation.OffsetClose
		}
	}
	if _, ok := offsetParam[p.offset]; !ok {
		return orderParams{}, automation.Rejected("offset must be OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY, got %q", req.Offset)
	}
	opening := p.offset == automation.OffsetOpen
	actsOn := automation.PositionLong // a buy opens a long, a sell closes it
	if (req.Side == automation.SideBuy) != opening {
		actsOn = automation.PositionShort
	}
	switch {
	case opening && req.ReduceOnly:
		return orderParams{}, automation.Rejected("reduce_only contradicts offset OPEN")
	case req.PositionSide != "" && req.PositionSide != automation.PositionBoth && req.PositionSide != actsOn:
		return orderParams{}, automation.Rejected("a %s with offset %s acts on the %s position, not %s", req.Side, p.offset, actsOn, req.PositionSide)
	case (p.offset == automation.OffsetCloseToday || p.offset == automation.OffsetCloseYesterday) && !closeTodayDistinct(c.exchange):
		return orderParams{}, automation.Rejected("offset %s is only for SHFE and INE, which tell today's position from yesterday's; use CLOSE on %s", p.offset, c.exchange)
	}
	switch req.Type {
	case automation.TypeMarket:
		if !req.Price.IsZero() {
			return orderParams{}, automation.Rejected("a MARKET order takes no price")
		}
		p.kind, p.price = "market", decimal.Zero
	case automation.TypeLimit, "":
		if !req.Price.IsPositive() {
			return orderParams{}, automation.Rejected("a LIMIT order needs a positive price")
		}
		p.price = req.Price
		switch req.TimeInForce {
		case automation.GTC, "":
			p.kind = "limit"
		case automation.IOC:
			p.kind = "fak"
		case automation.FOK:
			p.kind = "fok"
		default:
			return orderParams{}, automation.Rejected("time_in_force %s is not available on CTP (GTC, IOC, FOK)", req.TimeInForce)
		}
	default:
		return orderParams{}, automation.Rejected("type must be LIMIT or MARKET, got %q", req.Type)
	}
	return p, nil
}

// PlaceOrder sends one order to POST /order_solve and confirms it in the
// book: the backend answers without an order id, and a rejection later
// than 0.2 s still answers success. It is never sent twice.
func (t *terminal) PlaceOrder(ctx context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	p, err := newOrderParams(req)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	before, err := t.readBook(ctx)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	known := orderIDs(before)
	sent := p.sent()
	if err := t.remember(ctx, req.ClientOrderID, pending(p.contract.local(), sent, known, t.now())); err != nil {
		return automation.ExchangeOrder{}, err // nothing was sent
	}
	t.markSent(p.contract.local())
	sendCtx, cancel := leaveForSettling(ctx)
	a, err := t.call(sendCtx, http.MethodPost, "/order_solve", p.form())
	cancel()
	var lost *lostAnswer
	switch {
	case errors.As(err, &lost):
		t.log.Warn("the answer to an order was lost; settling it from the book", "order", p.String(), "error", lost.err.Error())
	case err != nil:
		t.settled(req.ClientOrderID, "", p.contract.local())
		return automation.ExchangeOrder{}, err // nothing was sent
	case !a.Success && a.Msg == msgMissingParams:
		t.settled(req.ClientOrderID, "", p.contract.local())
		return automation.ExchangeOrder{}, automation.Rejected("ctpbee_backend: %s", a.Msg)
	}
	found, err := t.settle(ctx, known, sent.matches, a, lost)
	return t.outcome(found, err, req.ClientOrderID, p.contract.local(), a, known, sent.matches)
}

// outcome records and answers what settling found: the order, none (the
// client order id then names nothing), or still unknown (looked for on).
func (t *terminal) outcome(found automation.ExchangeOrder, err error, cid, symbol string, a answer, known map[string]bool, match func(wireOrder) bool) (automation.ExchangeOrder, error) {
	switch {
	case errors.Is(err, errUnread):
		t.keepSettling(known, match, cid, symbol)
		return automation.ExchangeOrder{}, err
	case automation.CodeOf(err) == automation.CodeOutcomeUnknown:
		return automation.ExchangeOrder{}, err // the record stays unsettled
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

// errUnread marks an outcome_unknown for want of a readable book: the
// terminal goes on looking in the background.
var errUnread = errors.New("the backend's book could not be read in time")

func unreadable(lost *lostAnswer, readErr error) error {
	cause := fmt.Errorf("%w: %v", errUnread, readErr)
	if lost != nil {
		cause = fmt.Errorf("%v; then %w: %v", lost, errUnread, readErr)
	}
	return automation.OutcomeUnknown(cause, "it may have been sent; the terminal goes on looking (a venue event of kind settled), or look it up with open_orders")
}

// backgroundSettle is how long an unsettled order is looked for after
// its operation gave up.
const backgroundSettle = 2 * time.Minute

// keepSettling goes on looking for an order whose outcome could not be
// settled within its operation's deadline, and reports what it finds as a
// venue event of kind "settled" (and in the log). It ends when found, after
// backgroundSettle, or at Close.
func (t *terminal) keepSettling(known map[string]bool, match func(wireOrder) bool, cid, what string) {
	t.background.Add(2)
	ctx, cancel := context.WithTimeout(context.Background(), backgroundSettle)
	go func() { // ends the lookup at Close
		defer t.background.Done()
		select {
		case <-t.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	go func() {
		defer t.background.Done()
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				t.log.Error("an order's outcome is still unknown: look it up at the backend", "order", what, "client_order_id", cid)
				return
			case <-time.After(time.Second):
			}
			b, err := t.readBook(ctx)
			if err != nil {
				continue
			}
			var candidates []wireOrder
			for _, o := range b.allOrders() {
				if !known[string(o.OrderID)] && match(o) {
					candidates = append(candidates, o)
				}
			}
			settled := map[string]any{"client_order_id": cid, "order": what}
			switch len(candidates) {
			case 0:
				settled["outcome"] = "not placed"
				t.settled(cid, "", what)
			case 1:
				o := t.mapped(b, candidates[0])
				t.settled(cid, o.OrderID, o.Symbol)
				o.ClientOrderID = cid
				settled["outcome"], settled["order"] = "placed", o
			default:
				settled["outcome"], settled["candidates"] = "ambiguous", ids(candidates)
			}
			t.log.Warn("settled an order whose outcome was unknown", "order", what, "client_order_id", cid, "outcome", settled["outcome"])
			t.env.Emit(automation.VenueEvent{Terminal: t.name, Kind: "settled", Data: settled, At: t.now()})
			return
		}
	}()
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
