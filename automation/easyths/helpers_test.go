package easyths

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/easyths/easythstest"
)

type tomlOptions map[string]any

func (o tomlOptions) Decode(into any) error {
	b, err := toml.Marshal(map[string]any(o))
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(into)
}

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

const testKey = "ek-Secret-77aa19"

type fixture struct {
	peer   *easythstest.Server
	term   *Terminal
	log    *syncBuffer
	events *eventLog
}

type eventLog struct {
	mu  sync.Mutex
	evs []automation.VenueEvent
	got chan struct{}
}

func (e *eventLog) publish(ev automation.VenueEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.got <- struct{}{}:
	default:
	}
}

func open(t *testing.T, popts easythstest.Options, extra map[string]any, ledger automation.Ledger) fixture {
	t.Helper()
	popts.APIKey = testKey
	if popts.Quotes == nil {
		popts.Quotes = map[string]float64{"000001": 12.5}
	}
	peer := easythstest.New(popts)
	t.Cleanup(peer.Close)
	opts := tomlOptions{"url": peer.URL, "api_key_env": "EASYTHS_KEY", "request_timeout": "5s", "probe_every": "1h"}
	for k, v := range extra {
		opts[k] = v
	}
	logs := &syncBuffer{}
	events := &eventLog{got: make(chan struct{}, 16)}
	env := automation.Env{
		Getenv:  func(k string) string { return map[string]string{"EASYTHS_KEY": testKey}[k] },
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ledger:  ledger,
		Publish: events.publish,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	term, err := Open(ctx, "easyths", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	tt := term.(*Terminal)
	tt.pollEvery = 10 * time.Millisecond
	t.Cleanup(func() {
		tt.Close()
		if strings.Contains(logs.String(), testKey) {
			t.Errorf("the API key reached the log:\n%s", logs.String())
		}
	})
	return fixture{peer: peer, term: tt, log: logs, events: events}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func waitState(t *testing.T, term automation.Terminal, want automation.State) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for term.State() != want {
		if time.Now().After(deadline) {
			t.Fatalf("state %s, want %s", term.State(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// memLedger is an automation.Ledger in memory (only the live state).
type memLedger struct {
	mu    sync.Mutex
	state map[string][]byte
}

func (m *memLedger) LoadLedger(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[name], nil
}

func (m *memLedger) SaveLedger(_ context.Context, name string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == nil {
		m.state = map[string][]byte{}
	}
	m.state[name] = append([]byte(nil), b...)
	return nil
}

func (m *memLedger) ArchiveLedger(context.Context, string, []automation.LedgerRecord, []byte) error {
	return nil
}

func (m *memLedger) LoadLedgerArchive(context.Context, string, string, time.Time) ([][]byte, error) {
	return nil, nil
}

func (m *memLedger) FindLedgerArchive(context.Context, string, string, string) ([]byte, error) {
	return nil, nil
}

func (m *memLedger) PruneLedgerArchive(context.Context, string, time.Time) error { return nil }
