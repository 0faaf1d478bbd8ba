package plugins

import (
	"context"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// brokerFunc is the body of an A-share plugin.
type brokerFunc func(ctx context.Context, b automation.StockBroker, c Call) (Result, error)

// onStockBroker completes p as a plugin of the A-share set: it accepts
// only StockBroker terminals and hands run the broker.
func onStockBroker(p Plugin, run brokerFunc) *Plugin {
	p.Accepts = isStockBroker
	p.Execute = func(ctx context.Context, c Call) (Result, error) {
		b, ok := c.Terminal.(automation.StockBroker)
		if !ok {
			return Result{}, unsupported(c.Terminal, p.Name)
		}
		return run(ctx, b, c)
	}
	if p.Version == "" {
		p.Version = "1.0.0"
	}
	return &p
}

func isStockBroker(t automation.Terminal) bool {
	_, ok := t.(automation.StockBroker)
	return ok
}

// chinaTime is the exchanges' time zone (UTC+8, no daylight saving): the
// trading day, 当日 and the timestamps in results follow it wherever
// brokerd runs. A fixed zone needs no tzdata on Windows.
var chinaTime = time.FixedZone("CST", 8*60*60)

// timestamp formats an instant for a result: RFC 3339 in China time,
// "2025-12-27T10:30:00+08:00", which Python's fromisoformat reads.
func timestamp(t time.Time) string {
	return t.In(chinaTime).Format(time.RFC3339)
}

// sideName is the Chinese name of a side for messages.
func sideName(s automation.Side) string {
	if s == automation.Sell {
		return "卖出"
	}
	return "买入"
}
