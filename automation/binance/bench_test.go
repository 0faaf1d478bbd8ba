package binance

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

// benchPeer has room for any number of orders: no rate limit in reach and
// a wallet that never runs out of margin.
var benchPeer = binancetest.Config{
	Balance: decimal.NewFromInt(1_000_000_000_000),
	RateLimits: []binancetest.RateLimit{
		{Type: "REQUEST_WEIGHT", Interval: "MINUTE", IntervalNum: 1, Limit: 10_000_000},
		{Type: "ORDERS", Interval: "SECOND", IntervalNum: 10, Limit: 10_000_000},
	},
}

// BenchmarkPlaceOrder is one LIMIT order's round trip to the local peer,
// through the driver (signing, the limiter, the id-matched connection)
// and through a plain client on the same peer, in the same run: the
// difference is the driver's overhead. p50 and p99 are reported.
func BenchmarkPlaceOrder(b *testing.B) {
	b.Run("driver", func(b *testing.B) {
		h := newHarness(b, setup{peer: benchPeer, opts: func(o *Options) { o.StreamURL = "" }})
		h.ready(b)
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			req := automation.PlaceOrderRequest{
				Symbol: "BTCUSDT", Side: automation.SideBuy, Type: automation.TypeLimit,
				Quantity: d("0.010"), Price: d("40000.0"), ClientOrderID: fmt.Sprint("bench-d-", i),
			}
			start := time.Now()
			if _, err := h.term.PlaceOrder(ctx, req); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})
	b.Run("direct", func(b *testing.B) {
		cfg := benchPeer
		cfg.APIKey, cfg.Secret = testKey, testSecret
		peer := binancetest.New(cfg)
		defer peer.Close()
		ctx := context.Background()
		c, err := binancetest.Dial(ctx, peer, testKey, testSecret)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			status, _, err := c.Call(ctx, "order.place", map[string]any{
				"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0",
				"timeInForce": "GTC", "newClientOrderId": fmt.Sprint("bench-c-", i), "newOrderRespType": "RESULT",
				"recvWindow": 5000,
			})
			if err != nil || status != 200 {
				b.Fatal(status, err)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
