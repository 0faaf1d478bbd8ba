package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// brokenStore is a MemStore whose writes fail while broken is set, as a
// full disk or a read-only file system fails SQLite's.
type brokenStore struct {
	*queuetest.MemStore
	broken atomic.Bool
}

var errDiskFull = errors.New("database or disk is full")

func (s *brokenStore) Append(ctx context.Context, op queue.Operation) error {
	if s.broken.Load() {
		return errDiskFull
	}
	return s.MemStore.Append(ctx, op)
}

func (s *brokenStore) FindByKey(ctx context.Context, terminal, key string, since time.Time) (queue.Operation, error) {
	if s.broken.Load() {
		return queue.Operation{}, errDiskFull
	}
	return s.MemStore.FindByKey(ctx, terminal, key, since)
}

func (s *brokenStore) SetPaused(ctx context.Context, terminal string, paused bool) error {
	if s.broken.Load() {
		return errDiskFull
	}
	return s.MemStore.SetPaused(ctx, terminal, paused)
}

// TestJournalUnavailableIsA503: a journal that cannot be written is a state
// of the machine, not a bug: submit, pause and resume answer 503
// journal_unavailable with Retry-After, and the cause stays in the log.
func TestJournalUnavailableIsA503(t *testing.T) {
	store := &brokenStore{MemStore: queuetest.NewMemStore()}
	h := newHarness(t, withStore(store))
	store.broken.Store(true)

	tests := []struct {
		name, path, body string
		header           map[string]string
		outcome          string
	}{
		{"submit", "/api/v1/operations/buy", buyBody, nil, "nothing was queued"},
		{"submit with a key", "/api/v1/operations/buy", buyBody, map[string]string{"Idempotency-Key": "k-1"}, "nothing was queued"},
		{"resume", "/api/v1/queue/resume", "", nil, "resumed for now"},
		{"pause", "/api/v1/queue/pause?terminal=main", "", nil, "paused for now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.serve(request{method: http.MethodPost, path: tc.path, body: tc.body, header: tc.header})
			e := expect(t, w, http.StatusServiceUnavailable, codeJournalUnavailable)
			if secs, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
			}
			if !strings.Contains(e.message(), tc.outcome) || strings.Contains(e.message(), "disk is full") {
				t.Errorf("message %q: want it to say %q and not the store's error", e.message(), tc.outcome)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "database or disk is full") {
		t.Errorf("the cause is not logged: %s", h.logs.String())
	}
	if n := h.submits(); n != 0 {
		t.Errorf("%d operations taken while the journal was broken", n)
	}

	store.broken.Store(false)
	expect(t, h.post("/api/v1/operations/buy", buyBody), http.StatusOK, "")
}

// damagedJournal is a journal that found itself damaged.
type damagedJournal struct{ err error }

func (d damagedJournal) Health() error { return d.err }

// TestHealthSaysTheJournalIsDamaged: a damaged journal makes brokerd
// unhealthy, first of all problems, with the journal's own words.
func TestHealthSaysTheJournalIsDamaged(t *testing.T) {
	h := newHarness(t, withJournal(damagedJournal{errors.New("journal is damaged: the database file is malformed")}))
	h.backup.setState("disconnected")
	e := expect(t, h.get("/api/v1/system/health"), http.StatusServiceUnavailable, codeUnavailable)
	v := dataAs[HealthView](t, e)
	if v.Status != "unhealthy" || len(v.Problems) != 2 || !strings.HasPrefix(v.Problems[0], "journal: journal is damaged") {
		t.Fatalf("%s", e.Data)
	}
	if !strings.Contains(e.message(), "malformed") {
		t.Errorf("message %q", e.message())
	}

	ok := newHarness(t, withJournal(damagedJournal{}))
	expect(t, ok.get("/api/v1/system/health"), http.StatusOK, "")
}

// The queue frees the idempotency key of an operation that failed with the
// drivers' not_connected code: the two must be the same string.
func TestNotConnectedCodesAgree(t *testing.T) {
	if queue.CodeNotConnected != automation.CodeNotConnected {
		t.Fatalf("queue %q, automation %q", queue.CodeNotConnected, automation.CodeNotConnected)
	}
}
