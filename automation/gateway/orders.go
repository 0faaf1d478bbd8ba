package gateway

import (
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
}

// maxKnownOrders bounds the memory: past it, finished orders are forgotten.
const maxKnownOrders = 20000

// learnLocked records an order seen in a notice or in open_orders and
// returns it as the terminal knows it (client order id, average price).
func (t *Terminal) learnLocked(o automation.ExchangeOrder, wireQty decimal.Decimal, created time.Time) automation.ExchangeOrder {
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
	// A notice that is older than what is known (out of order) does not
	// undo a finished status.
	if ok && !k.order.Status.Open() && o.Status.Open() {
		return t.viewLocked(k)
	}
	k.order, k.wireQty = o, wireQty
	if k.created.IsZero() {
		k.created = created
	}
	return t.viewLocked(k)
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
// not block.
func (t *Terminal) onNotice(topic string, data json.RawMessage) {
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
		payload = t.learnLocked(o, w.Quantity.Decimal, w.CTime.time())
		t.mu.Unlock()
	case "fill":
		var w wireFill
		if err := json.Unmarshal(data, &w); err != nil {
			t.log.Warn("gateway fill notice undecodable", "err", err)
			return
		}
		f := w.fill()
		t.mu.Lock()
		if k, ok := t.orders[f.OrderID]; ok {
			k.filled = k.filled.Add(f.Quantity)
			k.value = k.value.Add(f.Quantity.Mul(f.Price))
		}
		t.mu.Unlock()
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
			t.notePositionsLocked(w.Symbol, ps)
			t.mu.Unlock()
		}
		payload = PositionNotice{Symbol: w.Symbol, Positions: ps}
	case "asset":
		as, err := decodeAssets(data)
		if err != nil {
			t.log.Warn("gateway asset notice undecodable", "err", err)
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

// AssetNotice is an asset notice as it reaches /events.
type AssetNotice struct {
	Assets []automation.Asset `json:"assets"`
}
