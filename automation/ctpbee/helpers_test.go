package ctpbee

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
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/ctpbee/ctpbeetest"
)

// The secrets of the test account: no log line or error may show them.
const (
	testAuthorization = "auth-code-7f3a91"
	testUserID        = "user-208841"
	testPassword      = "pass-Zq81-secret"
	testAuthCode      = "ctp-auth-0000QWERTY"
)

var testEnv = map[string]string{
	"CTPBEE_AUTH":   testAuthorization,
	"CTP_USER":      testUserID,
	"CTP_PASSWORD":  testPassword,
	"CTP_AUTH_CODE": testAuthCode,
}

func newPeer(t *testing.T) *ctpbeetest.Server {
	t.Helper()
	p := ctpbeetest.New(ctpbeetest.Config{Authorization: testAuthorization, UserID: testUserID, Password: testPassword})
	t.Cleanup(p.Close)
	return p
}

// tomlOptions decode like cmd/brokerd's: strictly, through go-toml.
type tomlOptions map[string]any

func (o tomlOptions) Decode(into any) error {
	b, err := toml.Marshal(map[string]any(o))
	if err != nil {
		return err
	}
	return toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(into)
}

func peerOptions(p *ctpbeetest.Server) tomlOptions {
	return tomlOptions{
		"url":               p.URL,
		"authorization_env": "CTPBEE_AUTH",
		"userid_env":        "CTP_USER",
		"password_env":      "CTP_PASSWORD",
		"brokerid":          "9999",
		"auth_code_env":     "CTP_AUTH_CODE",
		"appid":             "simnow_client_test",
		"interface":         "ctp",
		"td_address":        "tcp://127.0.0.1:10130",
		"md_address":        "tcp://127.0.0.1:10131",
		"request_timeout":   "5s",
	}
}

// syncBuffer is the captured log.
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

// harness is one terminal on one peer, with its log and events.
type harness struct {
	t      *testing.T
	peer   *ctpbeetest.Server
	term   *terminal
	logs   *syncBuffer
	mu     sync.Mutex
	events []automation.VenueEvent
}

func (h *harness) Events() []automation.VenueEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]automation.VenueEvent(nil), h.events...)
}

func open(t *testing.T, peer *ctpbeetest.Server, opts tomlOptions) *harness {
	t.Helper()
	h := &harness{t: t, peer: peer, logs: &syncBuffer{}}
	env := automation.Env{
		Getenv: func(k string) string { return testEnv[k] },
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Publish: func(ev automation.VenueEvent) {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		},
	}
	term, err := Open(context.Background(), "ctp", opts, env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	h.term = term.(*terminal)
	t.Cleanup(func() {
		h.term.Close()
		h.assertNoSecrets()
	})
	return h
}

// ready opens a terminal on peer and waits until it has logged in.
func ready(t *testing.T, peer *ctpbeetest.Server) *harness {
	t.Helper()
	h := open(t, peer, peerOptions(peer))
	h.waitState(automation.StateReady)
	return h
}

func (h *harness) waitState(want automation.State) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a failure guard only
	for h.term.State() != want {
		if time.Now().After(deadline) {
			h.t.Fatalf("state %s, want %s (%s)", h.term.State(), want, h.term.reason)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertNoSecrets fails if a secret or the session's token reached the log.
func (h *harness) assertNoSecrets() {
	h.t.Helper()
	logs := h.logs.String()
	for _, s := range []string{testAuthorization, testUserID, testPassword, testAuthCode} {
		if strings.Contains(logs, s) {
			h.t.Errorf("the log shows the secret %q:\n%s", s, logs)
		}
	}
	if strings.Contains(logs, "eyJ") {
		h.t.Errorf("the log shows a JWT:\n%s", logs)
	}
}

// noSecret fails if err shows a secret.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{testAuthorization, testUserID, testPassword, testAuthCode, "eyJ"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func code(err error) automation.Code {
	if err == nil {
		return "ok"
	}
	return automation.CodeOf(err)
}

func orderString(o automation.ExchangeOrder) string {
	return fmt.Sprintf("%s %s %s %s %s/%s@%s", o.Symbol, o.Side, o.Offset, o.Status, o.ExecutedQuantity, o.Quantity, o.Price)
}
