package easytrader

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/easytrader/easytradertest"
)

// tomlOptions decode as cmd/brokerd decodes [terminals.options]: strictly.
type tomlOptions map[string]any

func (o tomlOptions) Decode(into any) error {
	b, err := toml.Marshal(map[string]any(o))
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(into)
}

// syncBuffer collects a log written from several goroutines.
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

const (
	testUser     = "user-8842"
	testPassword = "pw-Secret-5531"
)

// fixture is a terminal open against a peer, with its log.
type fixture struct {
	peer *easytradertest.Server
	term *Terminal
	log  *syncBuffer
}

func open(t *testing.T, popts easytradertest.Options, extra map[string]any) fixture {
	t.Helper()
	peer := easytradertest.New(popts)
	t.Cleanup(peer.Close)
	opts := tomlOptions{
		"url": peer.URL, "prepare": true, "user_env": "ET_USER", "password_env": "ET_PASSWORD",
		"request_timeout": "5s", "probe_every": "1h",
	}
	for k, v := range extra {
		opts[k] = v
	}
	logs := &syncBuffer{}
	env := automation.Env{
		Getenv: func(k string) string {
			return map[string]string{"ET_USER": testUser, "ET_PASSWORD": testPassword}[k]
		},
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	term, err := Open(ctx, "ths", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	tt := term.(*Terminal)
	tt.settleWait = 10 * time.Millisecond
	t.Cleanup(func() {
		tt.Close()
		if s := logs.String(); bytes.Contains([]byte(s), []byte(testPassword)) || bytes.Contains([]byte(s), []byte(testUser)) {
			t.Errorf("a secret reached the log:\n%s", s)
		}
		if n := peer.Overlaps(); n != 0 {
			t.Errorf("%d calls overlapped at the agent", n)
		}
	})
	return fixture{peer: peer, term: tt, log: logs}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitState polls State until want, failing after a generous guard.
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
