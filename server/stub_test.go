package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// stubQueue answers canned values, for states a real queue reaches only
// through timing (a stuck lane) or never (a panic).
type stubQueue struct {
	stats    queue.Stats
	panicGet bool
}

func (s *stubQueue) Submit(context.Context, queue.Request) (queue.Submitted, error) {
	return queue.Submitted{}, errBoom
}

func (s *stubQueue) Get(context.Context, string) (queue.Operation, error) {
	if s.panicGet {
		panic("stub: get exploded")
	}
	return queue.Operation{}, queue.ErrNotFound
}

func (s *stubQueue) Wait(context.Context, string) (queue.Operation, error) {
	return queue.Operation{}, queue.ErrNotFound
}

func (s *stubQueue) Cancel(context.Context, string) (queue.Operation, error) {
	return queue.Operation{}, queue.ErrNotFound
}

func (s *stubQueue) Stats() queue.Stats                   { return s.stats }
func (s *stubQueue) Pause(context.Context, string) error  { return nil }
func (s *stubQueue) Resume(context.Context, string) error { return nil }
func (s *stubQueue) Terminals() []string                  { return []string{"main"} }

type stubOption func(*Config)

func withStubKeys(key string) stubOption { return func(c *Config) { c.Keys = []APIKey{{Key: key}} } }

func newStubServer(t testing.TB, q Queue, opts ...stubOption) *harness {
	t.Helper()
	h := &harness{t: t, logs: &syncBuffer{}, main: newFakeTerminal("main"), metrics: NewMetrics(), events: NewEvents()}
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg, Deps{
		Queue: q, Operations: plugins.NewRegistry(plugins.StockSet()), Terminals: directory(t, h.main),
		Metrics: h.metrics, Events: h.events, Logger: slog.New(slog.NewTextHandler(h.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	return h
}

func TestPanicIsA500AndLogged(t *testing.T) {
	h := newStubServer(t, &stubQueue{panicGet: true})
	expect(t, h.get("/api/v1/operations/x/status"), http.StatusInternalServerError, codeInternal)
	if !strings.Contains(h.logs.String(), "stub: get exploded") {
		t.Errorf("panic not logged: %s", h.logs.String())
	}
	// The server still answers.
	expect(t, h.get("/api/v1/ping"), 200, "")
}

func TestSubmitInternalErrorIsA500(t *testing.T) {
	h := newStubServer(t, &stubQueue{})
	e := expect(t, h.post("/api/v1/operations/funds_query", ""), 500, codeInternal)
	if strings.Contains(e.message(), "boom") {
		t.Errorf("internal detail leaked to the client: %q", e.message())
	}
	if !strings.Contains(h.logs.String(), "boom") {
		t.Errorf("cause not logged: %s", h.logs.String())
	}
}

func TestNewChecksItsDependencies(t *testing.T) {
	reg := plugins.NewRegistry(plugins.StockSet())
	main := newFakeTerminal("main")
	tests := []struct {
		name string
		cfg  Config
		deps Deps
	}{
		{"no queue", Config{}, Deps{Operations: reg, Metrics: NewMetrics(), Events: NewEvents(), Terminals: directory(t, main)}},
		{"no terminals", Config{}, Deps{Queue: &stubQueue{}, Operations: reg, Metrics: NewMetrics(), Events: NewEvents()}},
		{"lane without terminal", Config{}, Deps{Queue: &stubQueue{}, Operations: reg, Metrics: NewMetrics(), Events: NewEvents(),
			Terminals: directory(t, newFakeTerminal("other"))}},
		{"terminal without lane", Config{}, Deps{Queue: &stubQueue{}, Operations: reg, Metrics: NewMetrics(), Events: NewEvents(),
			Terminals: directory(t, main, newFakeTerminal("other"))}},
		{"empty key", Config{Keys: []APIKey{{Name: "a", Key: " "}}}, Deps{Queue: &stubQueue{}, Operations: reg, Metrics: NewMetrics(),
			Events: NewEvents(), Terminals: directory(t, main)}},
		{"unknown scope", Config{Keys: []APIKey{{Key: "0123456789abcdef", Scopes: []Scope{"root"}}}}, Deps{Queue: &stubQueue{},
			Operations: reg, Metrics: NewMetrics(), Events: NewEvents(), Terminals: directory(t, main)}},
		{"same key twice", Config{Keys: []APIKey{{Key: "0123456789abcdef"}, {Key: "0123456789abcdef"}}}, Deps{Queue: &stubQueue{},
			Operations: reg, Metrics: NewMetrics(), Events: NewEvents(), Terminals: directory(t, main)}},
		{"bad CORS origin", Config{CORSOrigins: []string{"example.com"}}, Deps{Queue: &stubQueue{}, Operations: reg,
			Metrics: NewMetrics(), Events: NewEvents(), Terminals: directory(t, main)}},
		{"negative rate", Config{RateLimit: -1}, Deps{Queue: &stubQueue{}, Operations: reg,
			Metrics: NewMetrics(), Events: NewEvents(), Terminals: directory(t, main)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, tc.deps); err == nil {
				t.Error("New accepted it")
			}
		})
	}

	m := NewMetrics()
	deps := Deps{Queue: &stubQueue{}, Operations: reg, Metrics: m, Events: NewEvents(), Terminals: directory(t, main)}
	if _, err := New(Config{}, deps); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}, deps); err == nil {
		t.Error("one Metrics served two servers")
	}
}

func (s *stubQueue) Exclusive(ctx context.Context, _ string, fn func(context.Context) error) error {
	return fn(ctx)
}
