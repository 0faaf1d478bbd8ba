package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// fakeTerminal is a StockBroker whose state and capabilities a test sets.
// Its trading methods are never called: the harness's lanes run fakeExec.
type fakeTerminal struct {
	automation.StockBroker // nil: calling a trading method would panic

	name        string
	unsupported map[string]bool

	mu           sync.Mutex
	state        automation.State
	reconnectErr error
	reconnects   int
}

func newFakeTerminal(name string) *fakeTerminal {
	return &fakeTerminal{name: name, state: automation.StateReady}
}

func (f *fakeTerminal) Name() string                { return f.name }
func (f *fakeTerminal) Driver() string              { return "fake" }
func (f *fakeTerminal) Supports(op string) bool     { return !f.unsupported[op] }
func (f *fakeTerminal) Close() error                { return nil }
func (f *fakeTerminal) setState(s automation.State) { f.mu.Lock(); f.state = s; f.mu.Unlock() }

func (f *fakeTerminal) State() automation.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeTerminal) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
	if f.reconnectErr != nil {
		f.state = automation.StateDisconnected
		return f.reconnectErr
	}
	f.state = automation.StateReady
	return nil
}

// exchangeTerminal is a terminal that is no StockBroker: the A-share
// plugins do not drive it.
type exchangeTerminal struct{ name string }

func (e exchangeTerminal) Name() string                    { return e.name }
func (e exchangeTerminal) Driver() string                  { return "gateway" }
func (e exchangeTerminal) State() automation.State         { return automation.StateReady }
func (e exchangeTerminal) Supports(string) bool            { return true }
func (e exchangeTerminal) Reconnect(context.Context) error { return nil }
func (e exchangeTerminal) Close() error                    { return nil }

// fakeSim is a fake terminal with settable quotes.
type fakeSim struct {
	*fakeTerminal
	qmu    sync.Mutex
	quotes map[string]float64
}

func (s *fakeSim) SetQuote(code string, price float64) error {
	switch code {
	case "999999":
		return automation.Rejected("no such instrument %s", code)
	case "888888":
		return fmt.Errorf("价格 %v 超过 %s 的 2 位小数 (too many decimals)", price, code)
	case "000000":
		return &automation.Error{Code: automation.CodeInternal, Message: "ledger write failed"}
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.quotes[code] = price
	return nil
}

func (s *fakeSim) Quote(code string) (float64, error) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	p, ok := s.quotes[code]
	if !ok {
		return 0, automation.Rejected("no quote for %s", code)
	}
	return p, nil
}

// fakeExec is every lane's executor: it answers what the test says, and
// can hold executions until the test releases them.
type fakeExec struct {
	mu      sync.Mutex
	gate    chan struct{} // when set, executions wait for it to close
	answer  func(op queue.Operation) (queue.Result, error)
	started chan string // ids of executions as they start (the first 10000)
}

func newFakeExec() *fakeExec { return &fakeExec{started: make(chan string, 10000)} }

// hold makes the next executions wait until the returned release is
// called.
func (f *fakeExec) hold() (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			close(gate)
		})
	}
}

func (f *fakeExec) respond(fn func(op queue.Operation) (queue.Result, error)) {
	f.mu.Lock()
	f.answer = fn
	f.mu.Unlock()
}

func (f *fakeExec) execute(ctx context.Context, op queue.Operation) (queue.Result, error) {
	f.mu.Lock()
	gate, answer := f.gate, f.answer
	f.mu.Unlock()
	select {
	case f.started <- op.ID:
	default: // a benchmark: nobody reads them
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return queue.Result{}, ctx.Err()
		}
	}
	if answer != nil {
		return answer(op)
	}
	data, _ := json.Marshal(map[string]any{"operation": op.Name, "params": op.Params, "success": true})
	return queue.Result{Data: data, Message: "done: " + op.Name}, nil
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testClock is a settable clock for the server (timestamps, rate limit).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a Server over a real queue (MemStore), the real plugin
// registry and fake terminals: "main" (default), "backup", "gw" (an
// exchange terminal) and "paper" (a sim).
type harness struct {
	t       testing.TB
	srv     *Server
	q       *queue.Queue
	store   *queuetest.MemStore
	exec    *fakeExec
	main    *fakeTerminal
	backup  *fakeTerminal
	sim     *fakeSim
	metrics *Metrics
	events  *Events
	logs    *syncBuffer
	clock   *testClock
	history History
}

// harnessSetup is what options change before the harness is built.
type harnessSetup struct {
	cfg       Config
	history   History
	queueSize int
	store     queue.Store // nil: the harness's MemStore
	journal   Journal
	stats     func() JournalStats
}

type harnessOption func(*harnessSetup)

func withConfig(f func(*Config)) harnessOption { return func(s *harnessSetup) { f(&s.cfg) } }

func withHistory(h History) harnessOption { return func(s *harnessSetup) { s.history = h } }

func withQueueSize(n int) harnessOption { return func(s *harnessSetup) { s.queueSize = n } }

// withJournal gives the server a journal to ask for its health.
func withJournal(j Journal) harnessOption { return func(s *harnessSetup) { s.journal = j } }

// withJournalStats gives /metrics the journal's statistics.
func withJournalStats(f func() JournalStats) harnessOption {
	return func(s *harnessSetup) { s.stats = f }
}

// withStore puts the queue over store instead of the harness's MemStore.
func withStore(store queue.Store) harnessOption { return func(s *harnessSetup) { s.store = store } }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		store:   queuetest.NewMemStore(),
		exec:    newFakeExec(),
		main:    newFakeTerminal("main"),
		backup:  newFakeTerminal("backup"),
		sim:     &fakeSim{fakeTerminal: newFakeTerminal("paper"), quotes: map[string]float64{"600000": 10.5}},
		metrics: NewMetrics(),
		events:  NewEvents(),
		logs:    &syncBuffer{},
		clock:   &testClock{now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))},
	}
	setup := harnessSetup{cfg: Config{Version: "v1.2.3-test", Docs: true, Console: true, MCP: true}, queueSize: 5}
	for _, o := range opts {
		o(&setup)
	}
	terminals := []automation.Terminal{h.main, h.backup, exchangeTerminal{name: "gw"}, h.sim}
	var lanes []queue.Lane
	for _, t := range terminals {
		lanes = append(lanes, queue.Lane{Terminal: t.Name(), Execute: h.exec.execute})
	}
	var store queue.Store = h.store
	if setup.store != nil {
		store = setup.store
	}
	q, err := queue.New(queue.Config{MaxSize: setup.queueSize}, lanes, queue.Deps{
		Clock: queue.RealClock{}, Store: store, Observer: queue.Observers{h.metrics, h.events},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.q = q
	q.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})

	deps := Deps{
		Queue: q, Operations: plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet()), Terminals: directory(t, terminals...), History: setup.history, Journal: setup.journal, JournalStats: setup.stats,
		Metrics: h.metrics, Events: h.events,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    h.clock.Now,
	}
	h.history = deps.History
	srv, err := New(setup.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	return h
}

// directory is cmd/brokerd's directory of the terminals.
func directory(t testing.TB, terminals ...automation.Terminal) Terminals {
	t.Helper()
	d, err := automation.NewDirectory(terminals)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// request describes one call.
type request struct {
	method, path, body string
	header             map[string]string
	remote             string
	host               string // the Host header; 127.0.0.1:7648, as a local script sends, when empty
}

func (h *harness) serve(r request) *httptest.ResponseRecorder {
	h.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	req.Host = "127.0.0.1:7648"
	if r.host != "" {
		req.Host = r.host
	}
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, req)
	return w
}

func (h *harness) get(path string) *httptest.ResponseRecorder {
	return h.serve(request{method: http.MethodGet, path: path})
}

func (h *harness) post(path, body string) *httptest.ResponseRecorder {
	return h.serve(request{method: http.MethodPost, path: path, body: body})
}

// envelope is a decoded answer; decode checks that every key is there.
type envelope struct {
	Success   bool            `json:"success"`
	Message   *string         `json:"message"`
	Data      json.RawMessage `json:"data"`
	ErrorCode *string         `json:"error_code"`
	Timestamp string          `json:"timestamp"`
}

var envelopeKeys = []string{"success", "message", "data", "error_code", "timestamp"}

func decode(t testing.TB, w *httptest.ResponseRecorder) envelope {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &keys); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", w.Code, err, w.Body.String())
	}
	for _, k := range envelopeKeys {
		if _, ok := keys[k]; !ok {
			t.Fatalf("envelope lacks %q: %s", k, w.Body.String())
		}
	}
	if len(keys) != len(envelopeKeys) {
		t.Fatalf("envelope has extra keys: %s", w.Body.String())
	}
	var e envelope
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.Timestamp); err != nil {
		t.Fatalf("timestamp %q is not RFC 3339: %v", e.Timestamp, err)
	}
	return e
}

func (e envelope) code() string {
	if e.ErrorCode == nil {
		return ""
	}
	return *e.ErrorCode
}

func (e envelope) message() string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

// fields lists the fields an invalid_params answer names.
func (e envelope) fields(t testing.TB) []string {
	t.Helper()
	var fe fieldErrors
	if err := json.Unmarshal(e.Data, &fe); err != nil {
		t.Fatalf("invalid_params data is not {errors: [...]}: %s", e.Data)
	}
	var out []string
	for _, f := range fe.Errors {
		if f.Reason == "" {
			t.Errorf("field %s has no reason", f.Field)
		}
		out = append(out, f.Field)
	}
	return out
}

func dataAs[T any](t testing.TB, e envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatalf("data %s: %v", e.Data, err)
	}
	return v
}

// expect checks an answer's status and error code and returns it decoded.
func expect(t testing.TB, w *httptest.ResponseRecorder, status int, code string) envelope {
	t.Helper()
	e := decode(t, w)
	if w.Code != status || e.code() != code {
		t.Fatalf("got %d %q, want %d %q: %s", w.Code, e.code(), status, code, w.Body.String())
	}
	if e.Success != (code == "") {
		t.Fatalf("success = %v with error code %q: %s", e.Success, code, w.Body.String())
	}
	return e
}

// submitted submits and returns the operation id.
func (h *harness) submitted(path, body string) string {
	h.t.Helper()
	e := expect(h.t, h.post(path, body), http.StatusOK, "")
	return dataAs[SubmitView](h.t, e).OperationID
}

// waitFinal blocks until the operation is final.
func (h *harness) waitFinal(id string) queue.Operation {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op, err := h.q.Wait(ctx, id)
	if err != nil {
		h.t.Fatalf("wait for %s: %v", id, err)
	}
	return op
}

// submits counts every operation the queue has taken since it started.
func (h *harness) submits() int64 {
	c := h.q.Stats().Counts
	return int64(c.Queued+c.Running) + c.Success + c.Failed + c.Cancelled
}

var errBoom = errors.New("boom")

const buyBody = `{"params":{"stock_code":"600000","price":10.5,"quantity":100},"priority":5}`

// awaitWaiters waits until n clients are blocked on a result (the server's
// own count of them, as /metrics shows it), failing the test after a
// generous guard: a hang is a bug, not slowness.
func (h *harness) awaitWaiters(n int64) {
	h.t.Helper()
	guard := time.Now().Add(20 * time.Second)
	for h.srv.metrics.waiters.Load() < n {
		if time.Now().After(guard) {
			h.t.Fatalf("%d clients blocked on a result, want %d", h.srv.metrics.waiters.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
