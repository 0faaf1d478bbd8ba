package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/store"
)

// TestCrashRecovery is the journal's promise, checked against the real
// binary: it kills brokerd with SIGKILL while clients submit buys to a sim
// with latency, restarts it on the same files, and proves that every
// acknowledged operation is still there, that none is left running, that
// the ones running at the kill are interrupted and were not run again, that
// the rest finish, and that the sim's ledger holds exactly one order per
// successful buy and none twice, and none for an interrupted one.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, simConfig(port, filepath.Join(dir, "journal.db"), `initial_cash = 100000000
latency = "15ms"`))
	base := fmt.Sprintf("http://127.0.0.1:%d/api/v1", port)

	first := startBinary(t, bin, config)

	// Clients submit buys, each with its own idempotency key, until the kill.
	type acked struct{ id, key string }
	var (
		mu       sync.Mutex
		acks     []acked
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		first100 = make(chan struct{})
		once     sync.Once
	)
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				enough := len(acks) >= 150
				mu.Unlock()
				if enough {
					time.Sleep(10 * time.Millisecond) // keep the journal as it is
					continue
				}
				key := fmt.Sprintf("crash-%d-%d", c, i)
				body := `{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`
				req, _ := http.NewRequest("POST", base+"/operations/buy", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone
				}
				var env struct {
					Success bool `json:"success"`
					Data    struct {
						ID string `json:"operation_id"`
					} `json:"data"`
				}
				json.NewDecoder(resp.Body).Decode(&env)
				resp.Body.Close()
				if resp.StatusCode == 200 && env.Success {
					mu.Lock()
					acks = append(acks, acked{env.Data.ID, key})
					if len(acks) == 100 {
						once.Do(func() { close(first100) })
					}
					mu.Unlock()
				}
			}
		}()
	}
	select {
	case <-first100:
	case <-time.After(60 * time.Second):
		t.Fatal("100 submits were not acknowledged")
	}
	// Kill once the lane has worked through part of them (15 ms each) and
	// is running the next: mid-run, by the journal's own account.
	for deadline := time.Now().Add(60 * time.Second); ; {
		var stats struct {
			Data struct {
				Running int `json:"running_count"`
				Success int `json:"success_count"`
			} `json:"data"`
		}
		getJSON(t, base+"/queue/stats", &stats)
		if stats.Data.Success >= 30 && stats.Data.Running == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lane made no progress: %+v", stats.Data)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
		t.Fatal(err)
	}
	first.Wait()
	close(stop)
	wg.Wait()
	t.Logf("killed with %d acknowledged operations", len(acks))

	second := startBinary(t, bin, config)
	defer stopBinary(t, second)

	var interrupted, succeeded int
	okKeys := map[string]bool{}
	interruptedKeys := map[string]bool{}
	for _, a := range acks {
		var st struct {
			Data struct {
				Status    string `json:"status"`
				ErrorCode string `json:"error_code"`
			} `json:"data"`
		}
		getJSON(t, base+"/operations/"+a.id+"/status", &st)
		switch st.Data.Status {
		case "":
			t.Fatalf("acknowledged operation %s is lost", a.id)
		case "running":
			// Only the one that is running now, after the restart, may be.
		}
		var res struct {
			Success   bool            `json:"success"`
			ErrorCode *string         `json:"error_code"`
			Data      json.RawMessage `json:"data"`
		}
		getJSON(t, base+"/operations/"+a.id+"/result?timeout=60", &res)
		switch {
		case res.Success:
			succeeded++
			okKeys[a.key] = true
		case res.ErrorCode != nil && *res.ErrorCode == "interrupted":
			interrupted++
			interruptedKeys[a.key] = true
		default:
			t.Errorf("operation %s ended %v: only success or interrupted are possible here", a.id, res.ErrorCode)
		}
	}
	if interrupted > 1 {
		t.Errorf("%d operations interrupted; one lane runs at most one at a time", interrupted)
	}
	if interrupted+succeeded != len(acks) {
		t.Errorf("%d acknowledged, %d succeeded, %d interrupted", len(acks), succeeded, interrupted)
	}

	// The ledger: one order per successful buy, never one twice.
	var orders struct {
		Data struct {
			Result struct {
				Data struct {
					Orders []map[string]any `json:"orders"`
				} `json:"data"`
			} `json:"result"`
		} `json:"data"`
	}
	postJSON(t, base+"/operations/order_query?wait=30", `{"params":{"return_type":"json"}}`, &orders)
	perKey := map[string]int{}
	for _, o := range orders.Data.Result.Data.Orders {
		key, _ := o["客户委托号"].(string)
		perKey[key]++
	}
	for key, n := range perKey {
		if n != 1 {
			t.Errorf("client order %q is in the ledger %d times", key, n)
		}
	}
	for key := range okKeys {
		if perKey[key] != 1 {
			t.Errorf("successful buy %s has %d orders in the ledger", key, perKey[key])
		}
	}
	// The sim's ledger write commits with the buy's outcome (one
	// transaction): a buy whose outcome the kill cut off left no order.
	for key := range interruptedKeys {
		if perKey[key] != 0 {
			t.Errorf("interrupted buy %s has %d orders in the ledger: its ledger write was committed without its outcome", key, perKey[key])
		}
	}
	// An order whose submit was journaled but not yet answered when the
	// process died belongs to an operation that resumed (or was
	// interrupted): a retry with its key must find it, not run it again.
	for key := range perKey {
		if okKeys[key] {
			continue
		}
		var dup struct {
			Data struct {
				Duplicate bool   `json:"duplicate"`
				Status    string `json:"status"`
			} `json:"data"`
		}
		req, _ := http.NewRequest("POST", base+"/operations/buy", strings.NewReader(`{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&dup)
		resp.Body.Close()
		if !dup.Data.Duplicate {
			t.Errorf("ledger order %s has no journaled operation (retry was not a duplicate)", key)
		}
	}
	t.Logf("after restart: %d succeeded, %d interrupted, %d orders in the ledger", succeeded, interrupted, len(perKey))
}

// buildBinary builds brokerd once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "brokerd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startBinary runs brokerd and returns once it says it listens.
func startBinary(t *testing.T, bin, config string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-config", config)
	var logs bytes.Buffer
	cmd.Stderr = &syncWriter{w: &logs}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- true
			}
		}
		io.Copy(io.Discard, stdout)
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatalf("brokerd exited before listening:\n%s", logs.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("brokerd did not listen in time:\n%s", logs.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("brokerd log:\n%s", logs.String())
		}
	})
	return cmd
}

// stopBinary sends SIGINT (os.Interrupt) and expects a clean exit.
func stopBinary(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("brokerd did not exit cleanly on SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Error("brokerd did not stop on SIGINT")
	}
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func postJSON(t *testing.T, url, body string, into any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestGracefulShutdownOnSIGTERM: SIGTERM lets the running operation finish,
// keeps the queued one in the journal for the next start, and exits 0.
func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, simConfig(port, filepath.Join(dir, "journal.db"), `latency = "1500ms"`))
	base := fmt.Sprintf("http://127.0.0.1:%d/api/v1", port)

	cmd := startBinary(t, bin, config)
	var running, queued struct {
		Data struct {
			ID string `json:"operation_id"`
		} `json:"data"`
	}
	postJSON(t, base+"/operations/buy", `{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`, &running)
	postJSON(t, base+"/operations/funds_query", `{}`, &queued)
	// Wait until the buy is running (the sim then takes 1.5 s).
	for deadline := time.Now().Add(10 * time.Second); ; {
		var st struct {
			Data struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		getJSON(t, base+"/operations/"+running.Data.ID+"/status", &st)
		if st.Data.Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the buy never started: %s", st.Data.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v (want status 0)", err)
	}

	again := startBinary(t, bin, config)
	defer stopBinary(t, again)
	for id, want := range map[string]string{running.Data.ID: "success", queued.Data.ID: "success"} {
		var res struct {
			Success   bool    `json:"success"`
			ErrorCode *string `json:"error_code"`
		}
		getJSON(t, base+"/operations/"+id+"/result?timeout=30", &res)
		if !res.Success {
			t.Errorf("%s: %v, want %s (the running one finished before exit, the queued one ran after restart)", id, res.ErrorCode, want)
		}
	}
}

// TestFailedStartRunsNothing: a brokerd that cannot listen must not start
// executing the orders its journal still holds.
func TestFailedStartRunsNothing(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.db")
	config := func(port int) func(string) string {
		return func(string) string { return simConfig(port, journal, "") }
	}
	base, _, stop := startBrokerdWith(t, config(0))
	var paused, queued struct {
		Success bool `json:"success"`
		Data    struct {
			ID string `json:"operation_id"`
		} `json:"data"`
	}
	postJSON(t, base+"/api/v1/queue/pause", ``, &paused)
	postJSON(t, base+"/api/v1/operations/buy", `{"params":{"stock_code":"600000","price":10.50,"quantity":100}}`, &queued)
	if !paused.Success || queued.Data.ID == "" {
		t.Fatalf("pause %v, submit %+v", paused.Success, queued)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Release the journaled pause, so that only the order of start-up
	// keeps the buy from running.
	st, err := store.Open(context.Background(), journal, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.SetPaused(context.Background(), "sim", false))
	must(t, st.Close())

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfgPath := filepath.Join(dir, "busy.toml")
	writeFile(t, cfgPath, config(busy.Addr().(*net.TCPAddr).Port)(dir))
	var logs lockedBuffer
	err = run(context.Background(), []string{"-config", cfgPath}, func(string) string { return "" }, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("run on a busy port: %v", err)
	}

	st, err = store.Open(context.Background(), journal, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	op, err := st.Get(context.Background(), queued.Data.ID)
	if err != nil || op.Status != queue.StatusQueued {
		t.Errorf("after a failed start the buy is %s (%v); want still queued, untouched\n%s", op.Status, err, logs.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// simConfig is a config.toml for these tests: the port, the journal, one
// sim terminal at a fixed price for 600000, plus further sim options.
func simConfig(port int, journal, options string) string {
	return fmt.Sprintf(`
[api]
port = %d
[queue]
operation_timeout = "10s"
[store]
path = %q
[[terminals]]
name = "sim"
driver = "sim"
[terminals.options]
volatility = 0.0
quotes = { "600000" = 10.50 }
%s
`, port, journal, options)
}
