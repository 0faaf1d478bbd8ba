package binance

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance/binancetest"
)

const (
	testKey    = "peer-api-key-5jTq2uWzHkM3"
	testSecret = "peer-hmac-secret-Yz4hR7pQ9vLx2"
)

// logBuffer collects a terminal's log safely.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harness is a terminal against a peer.
type harness struct {
	peer   *binancetest.Server
	term   *Terminal
	logs   *logBuffer
	events chan automation.VenueEvent
	cids   atomic.Int64
}

type setup struct {
	peer    binancetest.Config
	opts    func(*Options)
	ed25519 bool
}

func newHarness(t testing.TB, s setup) *harness {
	t.Helper()
	cfg := s.peer
	cfg.APIKey = testKey
	opts := DefaultOptions()
	opts.APIKeyEnv = "BINANCE_API_KEY"
	if s.ed25519 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		path := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Ed25519Key = pub
		opts.PrivateKeyFile = path
	} else {
		if cfg.Secret == "" {
			cfg.Secret = testSecret
		}
		opts.SecretEnv = "BINANCE_SECRET"
	}
	peer := binancetest.New(cfg)
	t.Cleanup(peer.Close)
	opts.URL, opts.RESTURL, opts.StreamURL = peer.URL(), peer.RESTURL(), peer.StreamURL()
	opts.RequestTimeout = Duration(5 * time.Second)
	if s.opts != nil {
		s.opts(&opts)
	}
	h := &harness{peer: peer, logs: &logBuffer{}, events: make(chan automation.VenueEvent, 256)}
	env := automation.Env{
		Getenv: func(k string) string {
			return map[string]string{"BINANCE_API_KEY": testKey, "BINANCE_SECRET": testSecret}[k]
		},
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Publish: func(ev automation.VenueEvent) {
			select {
			case h.events <- ev:
			default:
			}
		},
	}
	term, err := New("binance", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	h.term = term
	return h
}

// ready waits for the terminal to be ready.
func (h *harness) ready(t testing.TB) {
	t.Helper()
	waitFor(t, "state ready", func() bool { return h.term.State() == automation.StateReady })
}

// waitFor polls cond until it holds; the timeout only guards a failure.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) cid() string { return fmt.Sprintf("test-%d", h.cids.Add(1)) }

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// limit is a LIMIT BUY far under the price: it rests.
func (h *harness) limit(qty, price string) automation.PlaceOrderRequest {
	return automation.PlaceOrderRequest{
		Symbol: "BTCUSDT", Side: automation.SideBuy, Type: automation.TypeLimit,
		Quantity: d(qty), Price: d(price), ClientOrderID: h.cid(),
	}
}

// tomlOptions decodes a TOML table as strictly as brokerd does.
type tomlOptions string

func (o tomlOptions) Decode(into any) error {
	err := toml.NewDecoder(bytes.NewReader([]byte(o))).DisallowUnknownFields().Decode(into)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var keys []string
		for _, e := range strict.Errors {
			keys = append(keys, strings.Join(e.Key(), "."))
		}
		return fmt.Errorf("unknown key options.%s", strings.Join(keys, ", options."))
	}
	return err
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func nowFunc() time.Time { return time.Unix(1700000000, 0) }
