package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// What a terminal knows of its orders, from place_order's answers, the
// order and fill notices and open_orders. The gateway has no client order
// id and no lookup of a finished order: this is all there is to settle a
// lost answer and to answer order_status of a finished order.

// knownOrder is one order as last seen.
type knownOrder struct {
	order    automation.ExchangeOrder
	wireQty  decimal.Decimal // quantity as the gateway has it: signed on futures
	created  time.Time       // the gateway's ctime; zero when it gave none
	firstSeq uint64          // when this terminal first saw it (orderSeq)
	filled   decimal.Decimal // from fill notices
	value    decimal.Decimal // Σ price × quantity of those fills
	utime    time.Time       // the gateway's utime of what is known; zero when it gave none
	listed   bool            // seen in open_orders or a place_order answer, not only in notices
	fills    map[string]bool // fill_nos counted
}

// maxKnownOrders bounds the memory: past it, finished orders are forgotten.
const maxKnownOrders = 20000

// learnLocked records an order seen in a notice, in open_orders
// (listed) or in a place_order answer (listed), and returns it as the
// terminal knows it (client order id, average price); applied is false
// when what came is older than what is known, and was not taken.
func (t *Terminal) learnLocked(o automation.ExchangeOrder, wireQty decimal.Decimal, created, utime time.Time, listed bool) (view automation.ExchangeOrder, applied bool) {
	k, ok := t.orders[o.OrderID]
	if !ok {
		if len(t.orders) >= maxKnownOrders {
			t.forgetFinishedLocked()
		}
		t.orderSeq++
		k = &knownOrder{firstSeq: t.orderSeq, created: created}
		t.orders[o.OrderID] = k
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = t.now()
	}
	k.listed = k.listed || listed
	// What is older than what is known (out of order, or a previous
	// session's notice delivered late: stale.go) is not taken: it does not
	// undo a finished status, go back in the gateway's utime, or lower the
	// executed quantity at the same utime (some platforms give utime =
	// ctime, so equal times prove nothing).
	if ok {
		newer := utime.After(k.utime) && !k.utime.IsZero()
		switch {
		case !k.order.Status.Open() && o.Status.Open(),
			!utime.IsZero() && !k.utime.IsZero() && utime.Before(k.utime),
			!newer && o.ExecutedQuantity.LessThan(k.order.ExecutedQuantity):
			return t.viewLocked(k), false
		}
	}
	k.order, k.wireQty = o, wireQty
	if !utime.IsZero() {
		k.utime = utime
	}
	if k.created.IsZero() {
		k.created = created
	}
	return t.viewLocked(k), true
}

func (t *Terminal) viewLocked(k *knownOrder) automation.ExchangeOrder {
	o := k.order
	if id, ok := t.clientOf[o.OrderID]; ok {
		o.ClientOrderID = id
	}
	if k.filled.IsPositive() {
		o.AvgPrice = k.value.DivRound(k.filled, 12)
	}
	return o
}

func (t *Terminal) forgetFinishedLocked() {
	for id, k := range t.orders {
		if !k.order.Status.Open() {
			delete(t.orders, id)
			delete(t.placed, id)
			if cid, ok := t.clientOf[id]; ok {
				delete(t.byClient, cid)
				delete(t.clientOf, id)
			}
		}
	}
}

// onNotice turns a notify frame into a venue event (and into what the
// terminal knows of its orders). It runs on the socket's reader: it must
// not block. Any notice may be an earlier session's, delivered under this
// login's token (stale.go): what is provably older than what is known is
// dropped; on a later login (stale) an asset notice, which carries
// nothing to tell by, is verified by asking the gateway.
func (t *Terminal) onNotice(sock *socket, topic string, data json.RawMessage, stale bool) {
	var payload any
	switch topic {
	case "order":
		var w wireOrder
		if err := json.Unmarshal(data, &w); err != nil {
			t.log.Warn("gateway order notice undecodable", "err", err)
			return
		}
		o, err := w.exchangeOrder("", t.opts.Futures)
		if err != nil {
			t.log.Warn("gateway order notice not understood", "err", err)
			return
		}
		t.mu.Lock()
		view, applied := t.learnLocked(o, w.Quantity.Decimal, w.CTime.time(), w.UTime.time(), false)
		t.mu.Unlock()
		if !applied {
			t.log.Info("gateway order notice older than what is known of the order: not taken nor published",
				"order_id", o.OrderID, "status", string(o.Status), "known", string(view.Status))
			return
		}
		payload = view
	case "fill":
		var w wireFill
		if err := json.Unmarshal(data, &w); err != nil {
			t.log.Warn("gateway fill notice undecodable", "err", err)
			return
		}
		f := w.fill()
		t.mu.Lock()
		dup := t.fillSeenLocked(f)
		if k, ok := t.orders[f.OrderID]; ok && !dup {
			k.filled = k.filled.Add(f.Quantity)
			k.value = k.value.Add(f.Quantity.Mul(f.Price))
		}
		t.mu.Unlock()
		if dup {
			t.log.Info("gateway fill notice already seen (same order_no and fill_no): not counted nor published again",
				"order_id", f.OrderID, "fill_id", f.FillID)
			return
		}
		payload = f
	case "position":
		var w wirePosition
		if err := json.Unmarshal(data, &w); err != nil {
			t.log.Warn("gateway position notice undecodable", "err", err)
			return
		}
		ps := w.positions("")
		if ps == nil {
			ps = []automation.ExchangePosition{}
		}
		if w.Symbol != "" {
			t.mu.Lock()
			applied := t.notePositionsLocked(w.Symbol, ps, w.UTime.time())
			t.mu.Unlock()
			if !applied {
				t.log.Info("gateway position notice older (utime) than the position last read: not taken nor published", "symbol", w.Symbol)
				return
			}
		}
		payload = PositionNotice{Symbol: w.Symbol, Positions: ps}
	case "asset":
		as, err := decodeAssets(data)
		if err != nil {
			t.log.Warn("gateway asset notice undecodable", "err", err)
			return
		}
		if stale {
			// No time, no id: the previous session's asset notice cannot
			// be told from this one's. Ask instead, and publish the answer.
			t.verifyAssets(sock)
			return
		}
		payload = AssetNotice{Assets: as}
	default:
		t.log.Debug("gateway notice of an unknown topic", "topic", topic)
		payload = data
	}
	t.env.Emit(automation.VenueEvent{Terminal: t.name, Kind: topic, Data: payload, At: t.now()})
}

// PositionNotice is a position notice as it reaches /events: the symbol's
// non-zero sides.
type PositionNotice struct {
	Symbol    string                        `json:"symbol"`
	Positions []automation.ExchangePosition `json:"positions"`
}

// AssetNotice is an asset notice as it reaches /events. Verified says
// the assets are the gateway's answer to an asset request made on an
// asset notice that may have been a previous session's (stale.go), not
// the notice's own.
type AssetNotice struct {
	Assets   []automation.Asset `json:"assets"`
	Verified bool               `json:"verified,omitempty"`
}

// maxFills bounds the fill ids kept of fills of orders not known; past it
// they are forgotten (a duplicate of a forgotten one would count again).
const maxFills = 4 * maxKnownOrders

// fillSeenLocked records f's fill_no and reports whether it was seen
// already. Without a fill_no nothing can be told.
func (t *Terminal) fillSeenLocked(f Fill) bool {
	if f.FillID == "" {
		return false
	}
	if k, ok := t.orders[f.OrderID]; ok {
		if k.fills == nil {
			k.fills = map[string]bool{}
		}
		if k.fills[f.FillID] {
			return true
		}
		k.fills[f.FillID] = true
		return false
	}
	key := f.OrderID + "\x00" + f.FillID
	if t.fills[key] {
		return true
	}
	if len(t.fills) >= maxFills {
		clear(t.fills)
	}
	t.fills[key] = true
	return false
}

// verifyAssets asks the gateway for the asset and publishes its answer as
// the notice; one request at a time, and one more when notices came
// while it was out.
func (t *Terminal) verifyAssets(sock *socket) {
	t.mu.Lock()
	if t.assetAsking {
		t.assetAgain = true
		t.mu.Unlock()
		return
	}
	t.assetAsking = true
	t.mu.Unlock()
	sock.spawn(func(ctx context.Context) {
		for {
			as, err := t.Assets(ctx)
			if err != nil {
				t.log.Warn("gateway asset request on an asset notice failed: the notice is not published", "err", err)
			} else {
				t.env.Emit(automation.VenueEvent{Terminal: t.name, Kind: "asset", Data: AssetNotice{Assets: as, Verified: true}, At: t.now()})
			}
			t.mu.Lock()
			again := t.assetAgain && ctx.Err() == nil
			t.assetAgain, t.assetAsking = false, again
			t.mu.Unlock()
			if !again {
				return
			}
		}
	})
}
