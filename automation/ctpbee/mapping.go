package ctpbee

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// ctpbee's enum values (ctpbee/constant.py), as its lists show them.
const (
	dirLong  = "多"
	dirShort = "空"

	offOpen           = "开"
	offClose          = "平"
	offCloseToday     = "平今"
	offCloseYesterday = "平昨"
)

var offsetsByValue = map[string]automation.Offset{
	offOpen:           automation.OffsetOpen,
	offClose:          automation.OffsetClose,
	offCloseToday:     automation.OffsetCloseToday,
	offCloseYesterday: automation.OffsetCloseYesterday,
}

// offsetParam is the offset /order_solve takes for each offset (the
// seed's table swaps the labels of direction and offset; REFERENCE.md).
var offsetParam = map[automation.Offset]string{
	automation.OffsetOpen:           "open",
	automation.OffsetClose:          "close",
	automation.OffsetCloseToday:     "closetoday",
	automation.OffsetCloseYesterday: "closeyesterday",
}

// offsetValue is the offset as the lists show it.
var offsetValue = map[automation.Offset]string{
	automation.OffsetOpen:           offOpen,
	automation.OffsetClose:          offClose,
	automation.OffsetCloseToday:     offCloseToday,
	automation.OffsetCloseYesterday: offCloseYesterday,
}

var statusByValue = map[string]automation.OrderStatus{
	"提交中":  automation.StatusNew,
	"未成交":  automation.StatusNew,
	"部分成交": automation.StatusPartiallyFilled,
	"全部成交": automation.StatusFilled,
	"已撤销":  automation.StatusCanceled,
	"拒单":   automation.StatusRejected,
}

// orderStatus maps ctpbee's status; an unknown value is kept open (NEW)
// only if nothing says otherwise, since treating it as final could lose a
// live order.
func orderStatus(v string) (automation.OrderStatus, bool) {
	s, ok := statusByValue[v]
	if !ok {
		return automation.StatusNew, false
	}
	return s, true
}

var china = time.FixedZone("CST", 8*3600)

// toOrder maps one of ctpbee's orders. avg is the average fill price from
// the trade list (zero when none); now dates the order's HH:MM:SS.
func toOrder(o wireOrder, avg decimal.Decimal, now time.Time) automation.ExchangeOrder {
	out := automation.ExchangeOrder{
		OrderID:          string(o.OrderID),
		Symbol:           o.localSymbol(),
		Price:            o.Price.Decimal,
		AvgPrice:         avg,
		Quantity:         o.Volume.Decimal,
		ExecutedQuantity: o.Traded.Decimal,
		Offset:           offsetsByValue[string(o.Offset)],
		UpdatedAt:        orderTime(string(o.Time), now),
	}
	out.Status, _ = orderStatus(string(o.Status))
	switch string(o.Direction) {
	case dirLong:
		out.Side = automation.SideBuy
	case dirShort:
		out.Side = automation.SideSell
	}
	switch string(o.Type) {
	case "市价":
		out.Type = automation.TypeMarket
	case "FAK":
		out.Type, out.TimeInForce = automation.TypeLimit, automation.IOC
	case "FOK":
		out.Type, out.TimeInForce = automation.TypeLimit, automation.FOK
	default: // 限价
		out.Type, out.TimeInForce = automation.TypeLimit, automation.GTC
	}
	// Opening buys make a long position; a closing buy acts on the short.
	out.ReduceOnly = out.Offset != automation.OffsetOpen && out.Offset != ""
	switch {
	case out.Side == automation.SideBuy && !out.ReduceOnly, out.Side == automation.SideSell && out.ReduceOnly:
		out.PositionSide = automation.PositionLong
	case out.Side != "":
		out.PositionSide = automation.PositionShort
	}
	return out
}

// orderTime dates an order's time of day (CTP's insert time, China time)
// on now's day; a time that would be in the future is yesterday's (the
// night session seen after midnight). An unreadable time is now.
func orderTime(hms string, now time.Time) time.Time {
	t, err := time.Parse("15:04:05", hms)
	if err != nil {
		return now.UTC()
	}
	n := now.In(china)
	at := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), t.Second(), 0, china)
	if at.After(n.Add(time.Minute)) {
		at = at.AddDate(0, 0, -1)
	}
	return at.UTC()
}

// avgPrices are the average fill prices by order id.
func avgPrices(trades []wireTrade) map[string]decimal.Decimal {
	type sum struct{ amount, volume decimal.Decimal }
	sums := map[string]sum{}
	for _, t := range trades {
		s := sums[string(t.OrderID)]
		s.amount = s.amount.Add(t.Price.Mul(t.Volume.Decimal))
		s.volume = s.volume.Add(t.Volume.Decimal)
		sums[string(t.OrderID)] = s
	}
	out := make(map[string]decimal.Decimal, len(sums))
	for id, s := range sums {
		if s.volume.IsPositive() {
			out[id] = s.amount.DivRound(s.volume, 8)
		}
	}
	return out
}

// allOrders are the book's orders by id: the order list and the active
// list (an active order may be in either first), the newer state winning.
func (b book) allOrders() []wireOrder {
	seen := map[string]int{}
	var out []wireOrder
	add := func(o wireOrder) {
		if i, ok := seen[string(o.OrderID)]; ok {
			// The order list is updated with the active list; keep a
			// final status over an open one.
			if s, _ := orderStatus(string(o.Status)); !s.Open() {
				out[i] = o
			}
			return
		}
		seen[string(o.OrderID)] = len(out)
		out = append(out, o)
	}
	for _, o := range b.Orders {
		add(o)
	}
	for _, o := range b.Active {
		add(o)
	}
	return out
}

// heldPosition is one side of one contract as the book shows it.
type heldPosition struct {
	symbol    string
	side      automation.PositionSide
	volume    decimal.Decimal
	yesterday decimal.Decimal
	price     decimal.Decimal
	profit    decimal.Decimal
}

func (b book) positions() []heldPosition {
	var out []heldPosition
	for _, p := range b.Positions {
		h := heldPosition{
			symbol:    p.localSymbol(),
			volume:    p.Volume.Decimal,
			yesterday: p.YdVolume.Decimal,
			price:     p.Price.Decimal,
			profit:    p.Profit.Decimal,
		}
		switch string(p.Direction) {
		case "long", dirLong:
			h.side = automation.PositionLong
		case "short", dirShort:
			h.side = automation.PositionShort
		default:
			continue
		}
		out = append(out, h)
	}
	return out
}

func (h heldPosition) toPosition() automation.ExchangePosition {
	qty := h.volume
	if h.side == automation.PositionShort {
		qty = qty.Neg()
	}
	today := h.volume.Sub(h.yesterday)
	yesterday := h.yesterday
	return automation.ExchangePosition{
		Symbol:            h.symbol,
		PositionSide:      h.side,
		Quantity:          qty,
		EntryPrice:        h.price,
		UnrealizedPnL:     h.profit,
		TodayQuantity:     &today,
		YesterdayQuantity: &yesterday,
	}
}
