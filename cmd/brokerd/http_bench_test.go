package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These benchmarks run the real brokerd (run, as main does) in the test
// process and drive it over loopback HTTP, so that a CPU profile of
// brokerd's hot paths needs no pprof endpoint:
//
//	go test -run '^$' -bench HTTP -benchtime 10s -cpuprofile cpu.out ./cmd/brokerd
//	go tool pprof -top -ignore 'Benchmark|persistConn|Transport' cpu.out
//
// The -ignore drops the client's frames. cmd/brokerbench measures the same
// paths against a separate brokerd process, with the bare-Gin baseline.

// buyBody is a buy that the generated sim terminals fill, on terminal
// ("" for the default).
func buyBody(terminal string) []byte {
	if terminal == "" {
		return []byte(`{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`)
	}
	return fmt.Appendf(nil, `{"params":{"stock_code":"600000","price":10.50,"quantity":100},"terminal":%q}`, terminal)
}

// BenchmarkHTTPSubmit is scenario 1 of brokerbench: durable buy submits from
// 32 keep-alive clients, into one lane that executes them (its backlog
// grows: max_size is raised so that none is refused), and spread over 64
// paused lanes (the submit path alone; each lane holds b.N/64, about the
// shipped max_size of 1000 at -benchtime 8s).
func BenchmarkHTTPSubmit(b *testing.B) {
	for _, bc := range []struct {
		name     string
		lanes    int
		maxSize  int
		pause    bool
		terminal func(i uint64) string
	}{
		{"1 lane running", 1, 10_000_000, false, func(uint64) string { return "" }},
		{"64 lanes paused", 64, 10_000_000, true, func(i uint64) string { return fmt.Sprintf("sim%d", i%64) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			base := startForBench(b, bc.maxSize, bc.lanes)
			client := benchClient(64)
			if bc.pause {
				if err := post(client, base+"/api/v1/queue/pause", nil); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Uint64
			b.SetParallelism(16) // 32 clients on 2 CPUs
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := post(client, base+"/api/v1/operations/buy", buyBody(bc.terminal(next.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
		})
	}
}

// BenchmarkHTTPRoundTrip is scenario 2: one client, submit with ?wait= on
// an idle lane, the sim without latency. A buy's cost grows with the buys
// of the day (the sim saves its whole account after each), so its ns/op
// depends on b.N; funds_query changes nothing and does not.
func BenchmarkHTTPRoundTrip(b *testing.B) {
	for _, op := range []string{"buy", "funds_query"} {
		b.Run(op, func(b *testing.B) {
			base := startForBench(b, 1000, 1)
			client := benchClient(1)
			body := buyBody("")
			if op != "buy" {
				body = []byte(`{"params":{}}`)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := post(client, base+"/api/v1/operations/"+op+"?wait=30", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func post(c *http.Client, url string, body []byte) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte(`"success":true`)) {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, answer)
	}
	return nil
}

func benchClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}}
}

// startForBench runs brokerd on a fresh journal with one sim terminal that
// fills every buy, and returns its URL; it is stopped when b ends.
func startForBench(b *testing.B, maxSize, lanes int) string {
	b.Helper()
	dir := b.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[api]\nport = 0\n[queue]\nmax_size = %d\n[store]\npath = %q\n", maxSize, filepath.Join(dir, "brokerd.db"))
	for i := range lanes {
		name := "sim"
		if lanes > 1 {
			name = fmt.Sprintf("sim%d", i)
		}
		fmt.Fprintf(&cfg, "[[terminals]]\nname = %q\ndriver = \"sim\"\n[terminals.options]\n", name)
		fmt.Fprintf(&cfg, "initial_cash = 1000000000000\nvolatility = 0.0\nquotes = { \"600000\" = 10.50 }\n")
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &listenWatcher{url: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", path}, os.Getenv, out, io.Discard) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	select {
	case url := <-out.url:
		return url
	case err := <-done:
		b.Fatalf("brokerd stopped before listening: %v", err)
		return ""
	}
}

// listenWatcher is brokerd's stdout: it hands on the URL of the
// "brokerd listening on URL" line.
type listenWatcher struct {
	mu  sync.Mutex
	buf bytes.Buffer
	url chan string
}

var listening = regexp.MustCompile(`listening on (http://\S+)\n`)

func (w *listenWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := listening.FindSubmatch(w.buf.Bytes()); m != nil {
		select {
		case w.url <- string(m[1]):
		default:
		}
	}
	return len(p), nil
}

// BenchmarkHTTPWaiters blocks 2,000 clients on GET /result of operations
// held in a paused lane and reports the server's heap and goroutines per
// blocked client (scenario 3 of brokerbench, which runs 10,000 against a
// separate process). The clients run in this process too: their share is
// measured alone first and taken out.
func BenchmarkHTTPWaiters(b *testing.B) {
	const waiters = 2000
	for b.Loop() {
		b.StopTimer()
		base := startForBench(b, waiters, 1)
		client := benchClient(waiters)
		if err := post(client, base+"/api/v1/queue/pause", nil); err != nil {
			b.Fatal(err)
		}
		ids := make([]string, waiters)
		for i := range ids {
			id, err := submitID(client, base)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		heapBefore, goroutinesBefore := heapInUse()
		b.StartTimer()
		var wg sync.WaitGroup
		errs := make(chan error, waiters)
		for _, id := range ids {
			wg.Go(func() {
				resp, err := client.Get(base + "/api/v1/operations/" + id + "/result")
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		waitForWaiters(b, client, base, waiters)
		heapAfter, goroutinesAfter := heapInUse()
		b.ReportMetric(float64(heapAfter-heapBefore)/waiters, "heap-B/waiter")
		b.ReportMetric(float64(goroutinesAfter-goroutinesBefore)/waiters, "goroutines/waiter")
		if err := post(client, base+"/api/v1/queue/resume", nil); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
}

func submitID(c *http.Client, base string) (string, error) {
	resp, err := c.Post(base+"/api/v1/operations/funds_query", "application/json", strings.NewReader(`{"params":{}}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			OperationID string `json:"operation_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Data.OperationID == "" {
		return "", fmt.Errorf("submit: HTTP %d, no operation id (%v)", resp.StatusCode, err)
	}
	return env.Data.OperationID, nil
}

// waitForWaiters polls brokerd_result_waiters until n clients block.
func waitForWaiters(b *testing.B, c *http.Client, base string, n int) {
	for {
		resp, err := c.Get(base + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := waitersLine.FindSubmatch(body); m != nil && string(m[1]) == strconv.Itoa(n) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var waitersLine = regexp.MustCompile(`(?m)^brokerd_result_waiters (\d+)$`)

func heapInUse() (uint64, int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, runtime.NumGoroutine()
}
