package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stub answers each request with the next of answers (the last repeats).
func stub(t *testing.T, answers ...func(w http.ResponseWriter)) (*Client, *atomic.Int32, *[]time.Duration) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1)) - 1
		answers[min(n, len(answers)-1)](w)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, WithRetries(3, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var pauses []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
	return c, &hits, &pauses
}

func answer(status int, retryAfter, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

const (
	okStats   = `{"success":true,"message":null,"data":{"queued_count":1,"terminals":{}},"error_code":null,"timestamp":"2026-01-05T10:00:00.000000+08:00"}`
	okSubmit  = `{"success":true,"message":"operation queued","data":{"operation_id":"x","status":"queued"},"error_code":null,"timestamp":"2026-01-05T10:00:00.000000+08:00"}`
	queueFull = `{"success":false,"message":"full","data":null,"error_code":"queue_full","timestamp":"2026-01-05T10:00:00.000000+08:00"}`
	limited   = `{"success":false,"message":"slow down","data":null,"error_code":"rate_limited","timestamp":"2026-01-05T10:00:00.000000+08:00"}`
	internal  = `{"success":false,"message":"boom","data":null,"error_code":"internal","timestamp":"2026-01-05T10:00:00.000000+08:00"}`
)

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		answers    []func(http.ResponseWriter)
		call       func(ctx context.Context, c *Client) error
		wantHits   int32
		wantCode   string
		wantPauses []time.Duration
	}{
		{"a query retries a 503 with Retry-After, as told",
			[]func(http.ResponseWriter){answer(503, "2", queueFull), answer(200, "", okStats)},
			func(ctx context.Context, c *Client) error { _, err := c.Stats(ctx); return err },
			2, "", []time.Duration{2 * time.Second}},
		{"a query retries a 429 with backoff, then gives up",
			[]func(http.ResponseWriter){answer(429, "", limited)},
			func(ctx context.Context, c *Client) error { _, err := c.Stats(ctx); return err },
			4, "rate_limited", []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{"a 500 is not retried",
			[]func(http.ResponseWriter){answer(500, "", internal), answer(200, "", okStats)},
			func(ctx context.Context, c *Client) error { _, err := c.Stats(ctx); return err },
			1, "internal", nil},
		{"a submit without a key is never retried",
			[]func(http.ResponseWriter){answer(503, "1", queueFull), answer(200, "", okSubmit)},
			func(ctx context.Context, c *Client) error {
				_, err := c.Submit(ctx, "buy", nil, SubmitOptions{})
				return err
			},
			1, "queue_full", nil},
		{"a submit with a key is retried",
			[]func(http.ResponseWriter){answer(503, "1", queueFull), answer(200, "", okSubmit)},
			func(ctx context.Context, c *Client) error {
				_, err := c.Submit(ctx, "buy", nil, SubmitOptions{IdempotencyKey: "k"})
				return err
			},
			2, "", []time.Duration{time.Second}},
		{"a cancel is never retried",
			[]func(http.ResponseWriter){answer(429, "", limited), answer(200, "", okStats)},
			func(ctx context.Context, c *Client) error { _, err := c.Cancel(ctx, "x"); return err },
			1, "rate_limited", nil},
		{"a 503 without Retry-After (unhealthy, shutting down for good) is not retried",
			[]func(http.ResponseWriter){answer(503, "", queueFull), answer(200, "", okStats)},
			func(ctx context.Context, c *Client) error { _, err := c.Stats(ctx); return err },
			1, "queue_full", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, hits, pauses := stub(t, tt.answers...)
			err := tt.call(context.Background(), c)
			if Code(err) != tt.wantCode {
				t.Fatalf("err = %v, want code %q", err, tt.wantCode)
			}
			if hits.Load() != tt.wantHits {
				t.Fatalf("%d requests, want %d", hits.Load(), tt.wantHits)
			}
			if len(*pauses) != len(tt.wantPauses) {
				t.Fatalf("pauses %v, want %v", *pauses, tt.wantPauses)
			}
			for i := range tt.wantPauses {
				if (*pauses)[i] != tt.wantPauses[i] {
					t.Fatalf("pauses %v, want %v", *pauses, tt.wantPauses)
				}
			}
		})
	}
}

func TestNotAnEnvelope(t *testing.T) {
	c, _, _ := stub(t, answer(502, "", "<html>bad gateway</html>"))
	_, err := c.Stats(context.Background())
	if e, ok := err.(*Error); !ok || e.Status != 502 || e.Code != "bad_answer" {
		t.Fatalf("err = %v", err)
	}
}

func TestLostAnswerWarns(t *testing.T) {
	// A server that hangs up on every request after reading it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithRetries(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(context.Background(), "buy", nil, SubmitOptions{})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "may have reached it") {
		t.Fatalf("a lost answer to a submit: %v", err)
	}
	_, err = c.Stats(context.Background())
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "may have reached it") {
		t.Fatalf("a lost answer to a query: %v", err)
	}
}

func TestUnhealthyIsAnAnswer(t *testing.T) {
	body := `{"success":false,"message":"unhealthy: terminal sim is disconnected","data":{"status":"unhealthy","components":{"terminals":{"sim":"disconnected"},"lanes":{"sim":"idle"}},"problems":["terminal sim is disconnected"]},"error_code":"unavailable","timestamp":"2026-01-05T10:00:00.000000+08:00"}`
	c, hits, _ := stub(t, answer(503, "", body))
	h, err := c.Health(context.Background())
	if err != nil || h.Healthy() || h.Components.Terminals["sim"] != "disconnected" || len(h.Problems) != 1 {
		t.Fatalf("health %+v, %v", h, err)
	}
	if hits.Load() != 1 {
		t.Fatalf("an unhealthy answer was asked %d times", hits.Load())
	}
}
