package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

// BenchmarkBinancePlaceOrder is one place_order's round trip through
// brokerd (REST submit with ?wait, validation, the journal, the idle
// lane, the binance driver) to the local peer, and the same order from a
// direct WebSocket client to the same peer in the same run: the
// difference is brokerd's overhead. p50 and p99 are reported.
func BenchmarkBinancePlaceOrder(b *testing.B) {
	peer := binancetest.New(binancetest.Config{
		APIKey: binanceE2EKey, Secret: binanceE2ESecret,
		Balance: decimal.NewFromInt(1_000_000_000_000),
		RateLimits: []binancetest.RateLimit{
			{Type: "REQUEST_WEIGHT", Interval: "MINUTE", IntervalNum: 1, Limit: 10_000_000},
			{Type: "ORDERS", Interval: "SECOND", IntervalNum: 10, Limit: 10_000_000},
		},
	})
	defer peer.Close()
	order := map[string]any{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "40000.0", "time_in_force": "GTC"}

	b.Run("brokerd", func(b *testing.B) {
		run := fmt.Sprint("bb", time.Now().UnixNano()) // client order ids unique across runs on the peer
		config := func(dir string) string {
			return strings.Replace(binanceConfig(peer)(dir), `level = "debug"`, `level = "warn"`, 1)
		}
		base, _, _, _ := startBrokerdSecrets(b, config, map[string]string{"BINANCE_API_KEY": binanceE2EKey, "BINANCE_SECRET": binanceE2ESecret})
		hc := benchClient(1)
		waitReady(b, hc, base)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			body, _ := json.Marshal(map[string]any{"terminal": "binance", "client_id": fmt.Sprint(run, "-", i), "params": order})
			req, _ := http.NewRequest("POST", base+"/api/v1/operations/place_order?wait=10", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e2eKey)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var env struct {
				Success bool `json:"success"`
			}
			err = json.NewDecoder(resp.Body).Decode(&env)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(start))
			if err != nil || !env.Success {
				b.Fatalf("place_order %d: %v %v", i, resp.Status, err)
			}
		}
		reportLatencies(b, lat)
	})
	b.Run("direct", func(b *testing.B) {
		run := fmt.Sprint("bd", time.Now().UnixNano())
		ctx := context.Background()
		c, err := binancetest.Dial(ctx, peer, binanceE2EKey, binanceE2ESecret)
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
				"timeInForce": "GTC", "newClientOrderId": fmt.Sprint(run, "-", i), "newOrderRespType": "RESULT", "recvWindow": 5000,
			})
			lat = append(lat, time.Since(start))
			if err != nil || status != 200 {
				b.Fatal(status, err)
			}
		}
		reportLatencies(b, lat)
	})
}

func waitReady(b *testing.B, hc *http.Client, base string) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := hc.Get(base + "/api/v1/system/health")
		if err == nil {
			ok := resp.StatusCode == 200
			resp.Body.Close()
			if ok {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("binance terminal not ready")
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
