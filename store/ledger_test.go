package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	now := t0
	s := openAt(t, path, Options{Now: func() time.Time { return now }})

	if got, err := s.LoadLedger(ctx, "sim"); got != nil || err != nil {
		t.Fatalf("LoadLedger of a terminal that never saved = %q, %v; want nil, nil", got, err)
	}
	buf := []byte(`{"cash":1000000}`)
	must(t, s.SaveLedger(ctx, "sim", buf))
	copy(buf, "XXXXXXX") // the caller reuses its buffer
	must(t, s.SaveLedger(ctx, "paper2", []byte(`{"cash":5}`)))
	must(t, s.SaveLedger(ctx, "empty", nil))

	now = t0.Add(time.Hour)
	must(t, s.SaveLedger(ctx, "paper2", []byte(`{"cash":6}`)))

	tests := []struct {
		terminal string
		want     string
		present  bool
	}{
		{"sim", `{"cash":1000000}`, true},
		{"paper2", `{"cash":6}`, true},
		{"empty", "", true},
		{"never", "", false},
	}
	check := func(s *Store) {
		t.Helper()
		for _, tt := range tests {
			got, err := s.LoadLedger(ctx, tt.terminal)
			if err != nil || string(got) != tt.want || (got != nil) != tt.present {
				t.Errorf("LoadLedger(%s) = %q (present %v), %v; want %q (present %v)",
					tt.terminal, got, got != nil, err, tt.want, tt.present)
			}
		}
	}
	check(s)
	var updated int64
	must(t, s.read.QueryRow(`SELECT updated_at FROM sim_ledger WHERE terminal = 'paper2'`).Scan(&updated))
	if updated != now.UnixNano() {
		t.Errorf("updated_at = %d, want the injected clock's %d", updated, now.UnixNano())
	}
	must(t, s.Close())
	check(openAt(t, path, Options{}))

	if err := s.SaveLedger(ctx, "sim", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveLedger after Close = %v", err)
	}
}

func TestSaveLedgerNeedsATerminal(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.SaveLedger(context.Background(), "", []byte("{}")); err == nil {
		t.Error("SaveLedger without a terminal name succeeded")
	}
}
