package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/gateway/gatewaytest"
)

const (
	testAccess = "AK-7f3e9c2b41d8"
	testSecret = "SK-secret-91b2c7d4e5f6a8"
)

// tomlOptions decode like brokerd's config: strictly, through TOML.
type tomlOptions map[string]any

func (o tomlOptions) Decode(into any) error {
	b, err := toml.Marshal(map[string]any(o))
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(into)
}

// lockedBuffer collects a log safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorder keeps the venue events a terminal published.
type recorder struct {
	mu     sync.Mutex
	events []automation.VenueEvent
}

func (r *recorder) publish(ev automation.VenueEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) kinds(kind string) []automation.VenueEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []automation.VenueEvent
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// rig is a peer and a hub of one test.
type rig struct {
	t    *testing.T
	peer *gatewaytest.Server
	hub  *Hub
	logs *lockedBuffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	peer := gatewaytest.New(gatewaytest.Config{})
	t.Cleanup(peer.Close)
	r := &rig{t: t, peer: peer, hub: &Hub{}, logs: &lockedBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("driver log:\n%s", r.logs.String())
		}
	})
	return r
}

// fast are options for tests: quick pings, reconnects and deadlines.
func (r *rig) options(platform string, extra map[string]any) tomlOptions {
	o := tomlOptions{
		"url": r.peer.URL, "platform": platform, "symbols": []string{"BTC/USDT", "ETH/USDT"},
		"access_key_env": "GW_ACCESS", "secret_key_env": "GW_SECRET",
		"ping_every": "50ms", "pong_timeout": "400ms", "reconnect_min": "20ms", "reconnect_max": "200ms",
		"request_timeout": "2s", "login_timeout": "5s",
	}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// env reads keys suffixed by the platform's access (so that two platforms
// are two accounts) and logs to the rig's buffer.
func (r *rig) env(name, access string, rec *recorder) automation.Env {
	vars := map[string]string{"GW_ACCESS": access, "GW_SECRET": testSecret}
	log := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("terminal", name)
	env := automation.Env{Getenv: func(k string) string { return vars[k] }, Logger: log}
	if rec != nil {
		env.Publish = rec.publish
	}
	return env
}

func (r *rig) open(name, platform string, extra map[string]any, rec *recorder) *Terminal {
	r.t.Helper()
	return r.openAs(name, platform, testAccess+"-"+platform, extra, rec)
}

func (r *rig) openAs(name, platform, access string, extra map[string]any, rec *recorder) *Terminal {
	r.t.Helper()
	term, err := r.hub.Open(context.Background(), name, r.options(platform, extra), r.env(name, access, rec))
	if err != nil {
		r.t.Fatalf("open %s: %v", name, err)
	}
	r.t.Cleanup(func() { term.Close() })
	return term.(*Terminal)
}

// eventually polls cond; the timeout is only a failure guard.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

func waitState(t *testing.T, term *Terminal, want automation.State) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s to be %s (is %s: %s)", term.Name(), want, term.State(), term.Reason()), func() bool {
		return term.State() == want
	})
}

// settled waits until the READY refresh of term is done (its symbols'
// rules cached, their open orders read), so that a test's requests are
// the only ones in flight.
func settled(t *testing.T, term *Terminal) {
	t.Helper()
	waitState(t, term, automation.StateReady)
	eventually(t, "the refresh after READY", func() bool {
		term.mu.Lock()
		defer term.mu.Unlock()
		for _, s := range term.opts.Symbols {
			if _, ok := term.rules[s]; !ok || !term.baselined[s] {
				return false
			}
		}
		return true
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func codeOf(err error) automation.Code { return automation.CodeOf(err) }

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}
