package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

// BenchmarkGatewayPlaceOrder is the gateway issue's benchmark: one
// place_order round trip (a LIMIT that rests) against the same peer in the
// same run, from a direct client (the driver's Terminal, no brokerd) and
// through brokerd's REST API (POST …/place_order?wait=10, journaled),
// one request at a time. It reports p50 and p99 besides ns/op:
//
//	go test -run '^$' -bench GatewayPlaceOrder -benchtime 2000x ./cmd/brokerd
func BenchmarkGatewayPlaceOrder(b *testing.B) {
	peer := gatewaytest.New(gatewaytest.Config{})
	b.Cleanup(peer.Close)
	peer.SetPrice("BTC/USDT", decimal.NewFromInt(100))
	keys := map[string]string{"GW_ACCESS": "bench-access", "GW_SECRET": "bench-secret", "GW_ACCESS_DIRECT": "bench-direct"}
	getenv := func(k string) string { return keys[k] }

	b.Run("direct", func(b *testing.B) {
		opts := benchOptions{"url": peer.URL, "platform": "huobi", "symbols": []string{"BTC/USDT"},
			"access_key_env": "GW_ACCESS_DIRECT", "secret_key_env": "GW_SECRET"}
		term, err := (&gateway.Hub{}).Open(context.Background(), "direct", opts, automation.Env{Getenv: getenv})
		if err != nil {
			b.Fatal(err)
		}
		defer term.Close()
		x := term.(automation.Exchange)
		ctx := context.Background()
		if _, err := x.Assets(ctx); err != nil { // waits for READY
			b.Fatal(err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			_, err := x.PlaceOrder(ctx, automation.PlaceOrderRequest{Symbol: "BTC/USDT", Side: automation.SideBuy, Type: automation.TypeLimit,
				Quantity: decimal.NewFromInt(1), Price: decimal.NewFromInt(50), TimeInForce: automation.GTC})
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		reportPercentiles(b, lat)
	})

	b.Run("brokerd", func(b *testing.B) {
		dir := b.TempDir()
		cfg := fmt.Sprintf("[api]\nport = 0\nkey = %q\n[store]\npath = %q\n[log]\nlevel = \"warn\"\n[[terminals]]\nname = \"huobi\"\ndriver = \"gateway\"\n[terminals.options]\nurl = %q\nplatform = \"okex\"\nsymbols = [\"BTC/USDT\"]\naccess_key_env = \"GW_ACCESS\"\nsecret_key_env = \"GW_SECRET\"\n",
			e2eKey, filepath.Join(dir, "brokerd.db"), peer.URL)
		path := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		out := &listenWatcher{url: make(chan string, 1)}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-config", path}, getenv, out, io.Discard) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}()
		var base string
		select {
		case base = <-out.url:
		case err := <-done:
			b.Fatalf("brokerd stopped before listening: %v", err)
		}
		c := benchClient(1)
		body := []byte(`{"terminal":"huobi","params":{"symbol":"BTC/USDT","side":"BUY","type":"LIMIT","quantity":"1","price":"50"}}`)
		post := func() error {
			req, _ := http.NewRequest("POST", base+"/api/v1/operations/place_order?wait=10", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e2eKey)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"status":"success"`)) {
				return fmt.Errorf("%d %s", resp.StatusCode, b)
			}
			return nil
		}
		deadline := time.Now().Add(10 * time.Second)
		for post() != nil { // until the terminal is READY
			if time.Now().After(deadline) {
				b.Fatal(post())
			}
			time.Sleep(10 * time.Millisecond)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			start := time.Now()
			err := post()
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// benchOptions decode like brokerd's config.
type benchOptions map[string]any

func (o benchOptions) Decode(into any) error {
	buf, err := toml.Marshal(map[string]any(o))
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(buf)).DisallowUnknownFields().Decode(into)
}
