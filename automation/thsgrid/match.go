package thsgrid

import (
	"math"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// chinaTime is the zone of a client's 委托时间.
var chinaTime = time.FixedZone("CST", 8*60*60)

// ClockSlack is how much earlier than brokerd's send the client may stamp
// an order: its 委托时间 has whole seconds, and the two machines' clocks
// differ a little (keep them on NTP).
const ClockSlack = 3 * time.Second

// Candidates are the orders of today's list that could be the one req
// placed at sentAt: same code, side, price and quantity, stamped no
// earlier than the send (less ClockSlack), and not already attributed to
// another order (claimed holds TrimContract numbers). An order whose time
// cannot be read could be it. A lost answer is settled only by exactly
// one candidate.
func Candidates(orders []automation.Order, req automation.OrderRequest, sentAt time.Time, claimed map[string]bool) []automation.Order {
	var out []automation.Order
	for _, o := range orders {
		if o.Code != req.Code || o.Side != req.Side || o.Quantity != req.Quantity || claimed[TrimContract(o.ContractNo)] {
			continue
		}
		if req.Kind != automation.Market && math.Abs(o.Price-req.Price) > 0.0005 {
			continue
		}
		if at, ok := PlacedAt(o, sentAt); ok && at.Before(sentAt.Add(-ClockSlack)) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// PlacedAt reads an order's 委托日期 and 委托时间 in China time; without a
// date, on the day of ref.
func PlacedAt(o automation.Order, ref time.Time) (time.Time, bool) {
	day := ref.In(chinaTime)
	if d, err := time.ParseInLocation("20060102", o.Date, chinaTime); err == nil {
		day = d
	}
	clock, err := time.Parse("15:04:05", o.Time)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(day.Year(), day.Month(), day.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, chinaTime), true
}
