package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	// The dot import keeps these tests reading as the queue's own: they are
	// package queue_test only because queuetest imports queue.
	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// fakeClock is a Clock that moves only when a test says so. Its timers fire
// synchronously inside Advance, in deadline order, so a test knows that
// every callback due has run when Advance returns.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves time forward by d and runs the callbacks that fell due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(now):
			t.stopped = true
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// script is an Executor a test steers: every call announces itself on
// started and then does what the operation's params say.
type script struct {
	started chan Operation
	mu      sync.Mutex
	release map[string]chan struct{} // ops that block until released
	calls   []string                 // op names in call order
}

// The params a scripted operation understands.
type scriptParams struct {
	Block      bool   `json:"block"`       // wait for release, ignoring ctx
	HonourCtx  bool   `json:"honour_ctx"`  // wait for ctx to end
	Panic      string `json:"panic"`       // panic with this
	Fail       string `json:"fail"`        // fail with this message…
	FailCode   string `json:"fail_code"`   // …and this code
	ResultText string `json:"result_text"` // success with this data
}

func newScript() *script {
	return &script{started: make(chan Operation, 1000), release: make(map[string]chan struct{})}
}

func (s *script) gate(name string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.release[name]
	if !ok {
		ch = make(chan struct{})
		s.release[name] = ch
	}
	return ch
}

func (s *script) execute(ctx context.Context, op Operation) (Result, error) {
	s.mu.Lock()
	s.calls = append(s.calls, op.Name)
	s.mu.Unlock()
	s.started <- op
	var p scriptParams
	if len(op.Params) > 0 {
		if err := json.Unmarshal(op.Params, &p); err != nil {
			return Result{}, err
		}
	}
	switch {
	case p.Block:
		<-s.gate(op.Name)
	case p.HonourCtx:
		<-ctx.Done()
		return Result{}, ctx.Err()
	case p.Panic != "":
		panic(p.Panic)
	case p.Fail != "":
		return Result{}, &driverError{code: p.FailCode, msg: p.Fail}
	}
	data, _ := json.Marshal(map[string]string{"name": op.Name, "text": p.ResultText})
	return Result{Data: data, Message: "done " + op.Name}, nil
}

// driverError is a driver's error with a code: the queue reads the code of
// any error through its ErrorCode method, whatever its type.
type driverError struct{ code, msg string }

func (e *driverError) Error() string     { return e.msg }
func (e *driverError) ErrorCode() string { return e.code }

// releaseAll lets every operation scripted to block return.
func (s *script) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.release {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

// shutdown stops q at a test's end, failing the test if it cannot.
func shutdown(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func (s *script) callOrder() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	events  []Operation
	lanes   []LaneState
	changed chan struct{} // buffered(1): a lane changed state
}

func (r *recorder) OperationChanged(op Operation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, op)
}

func (r *recorder) LaneChanged(_ string, s LaneState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lanes = append(r.lanes, s)
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) statuses(id string) []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Status
	for _, e := range r.events {
		if e.ID == id {
			out = append(out, e.Status)
		}
	}
	return out
}

// harness is a queue on a fake clock with scripted lanes.
type harness struct {
	t      *testing.T
	q      *Queue
	clock  *fakeClock
	store  Store
	obs    *recorder
	script map[string]*script
}

func newHarness(t *testing.T, cfg Config, terminals ...string) *harness {
	t.Helper()
	return newHarnessWithStore(t, cfg, queuetest.NewMemStore(), terminals...)
}

func newHarnessWithStore(t *testing.T, cfg Config, store Store, terminals ...string) *harness {
	t.Helper()
	if len(terminals) == 0 {
		terminals = []string{"sim"}
	}
	h := &harness{t: t, clock: newFakeClock(), store: store, obs: &recorder{changed: make(chan struct{}, 1)}, script: map[string]*script{}}
	var lanes []Lane
	for _, name := range terminals {
		s := newScript()
		h.script[name] = s
		lanes = append(lanes, Lane{Terminal: name, Execute: s.execute})
	}
	q, err := New(cfg, lanes, Deps{Clock: h.clock, Store: store, Observer: h.obs})
	if err != nil {
		t.Fatal(err)
	}
	h.q = q
	t.Cleanup(func() {
		// Unblock anything still scripted to block, then stop.
		for _, s := range h.script {
			s.releaseAll()
		}
		shutdown(t, q)
	})
	return h
}

func (h *harness) submit(req Request) Submitted {
	h.t.Helper()
	s, err := h.q.Submit(context.Background(), req)
	if err != nil {
		h.t.Fatalf("submit %s: %v", req.Name, err)
	}
	return s
}

// wait waits for the operation to be final, failing the test if it takes
// unreasonably long (a hang is a bug, not slowness).
func (h *harness) wait(id string) Operation {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op, err := h.q.Wait(ctx, id)
	if err != nil {
		h.t.Fatalf("wait %s: %v", id, err)
	}
	return op
}

// started waits for the lane's executor to be called and returns the op.
func (h *harness) started(terminal string) Operation {
	h.t.Helper()
	select {
	case op := <-h.script[terminal].started:
		return op
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no operation started on %s", terminal)
		return Operation{}
	}
}

// waitLaneState waits until the lane is in state want, woken by the
// observer at each change (the worker changes it asynchronously).
func (h *harness) waitLaneState(terminal string, want LaneState) {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		for _, l := range h.q.Stats().Lanes {
			if l.Terminal == terminal && l.State == want {
				return
			}
		}
		select {
		case <-h.obs.changed:
		case <-timeout:
			h.t.Fatalf("lane %s never became %s (stats %+v)", terminal, want, h.q.Stats().Lanes)
		}
	}
}

func params(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// failingStore wraps a Store and fails the chosen calls.
type failingStore struct {
	Store
	failAppend, failRunning, failFinish bool
}

var errDisk = errors.New("disk full")

func (s *failingStore) Append(ctx context.Context, op Operation) error {
	if s.failAppend {
		return errDisk
	}
	return s.Store.Append(ctx, op)
}

func (s *failingStore) MarkRunning(ctx context.Context, id string, at time.Time) error {
	if s.failRunning {
		return errDisk
	}
	return s.Store.MarkRunning(ctx, id, at)
}

func (s *failingStore) Finish(ctx context.Context, op Operation) error {
	if s.failFinish {
		return errDisk
	}
	return s.Store.Finish(ctx, op)
}
