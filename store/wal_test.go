//go:build unix

// Removing a file another handle holds open is a Unix thing: Windows
// refuses it, so there is nothing to detect there.

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRemovedWALCondemnsTheJournal: a WAL removed under the running journal
// (a cleanup script) is noticed, what the removed file holds is copied into
// the database at once, and no more writes are acknowledged.
func TestRemovedWALCondemnsTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s, err := Open(context.Background(), path, Options{walCheckInterval: 10 * time.Millisecond})
	must(t, err)
	defer s.Close()
	var ids []string
	for i := range 50 {
		op := queued(fmt.Sprintf("op-%02d", i), uint64(i+1), t0)
		appendOps(t, s, op)
		ids = append(ids, op.ID)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while the journal is open: %v", err)
	}
	must(t, os.Remove(path+"-wal"))

	select {
	case <-s.Damaged():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed WAL went unnoticed")
	}
	health := s.Health()
	if !errors.Is(health, ErrDamaged) {
		t.Fatalf("Health = %v", health)
	}
	wantAll(t, health.Error(), path+"-wal", "removed", "nothing acknowledged is lost", "SIGTERM", "never kill -9")
	if err := s.Append(context.Background(), queued("late", 99, t0)); !errors.Is(err, ErrDamaged) {
		t.Errorf("Append after the WAL was removed = %v, want ErrDamaged", err)
	}

	// As after a kill -9 now: the database file alone, without any WAL,
	// holds every acknowledged operation.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(crashed, b, 0o600))
	db := rawDB(t, crashed)
	var n int
	must(t, db.QueryRow(`SELECT count(*) FROM operations`).Scan(&n))
	must(t, db.Close())
	if n != len(ids) {
		t.Errorf("the database file alone holds %d of the %d acknowledged operations", n, len(ids))
	}

	// A graceful close keeps everything too.
	must(t, s.Close())
	r := openAt(t, path, Options{})
	for _, id := range ids {
		if _, err := r.Get(context.Background(), id); err != nil {
			t.Errorf("after a graceful close, %s: %v", id, err)
		}
	}
}

// TestWALCheckLeavesAHealthyJournalAlone: checkpoints, restarts of the
// watch and a busy journal never look like a removed WAL.
func TestWALCheckLeavesAHealthyJournalAlone(t *testing.T) {
	s := openTest(t, Options{walCheckInterval: time.Millisecond})
	for i := range 300 {
		appendOps(t, s, queued(fmt.Sprintf("op-%03d", i), uint64(i+1), t0))
		if i%100 == 0 {
			_, err := s.write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			must(t, err)
		}
	}
	s.checkWAL()
	if err := s.Health(); err != nil {
		t.Fatalf("a healthy journal condemned: %v", err)
	}
}
