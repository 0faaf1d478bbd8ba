package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// corruptJournal makes a real journal of n operations, closes it, and
// overwrites the root page of its operations table with garbage, as a bad
// sector or a stray write would. It returns the path and the ops' ids.
func corruptJournal(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s, err := Open(context.Background(), path, Options{})
	must(t, err)
	var ids []string
	for i := range n {
		op := queued(fmt.Sprintf("op-%04d", i), uint64(i+1), t0.Add(time.Duration(i)*time.Millisecond))
		appendOps(t, s, op)
		ids = append(ids, op.ID)
	}
	must(t, s.Close())

	db := rawDB(t, path)
	var root, pageSize int64
	must(t, db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'operations'`).Scan(&root))
	must(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	must(t, db.Close())

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt([]byte(strings.Repeat("\xff", int(pageSize))), (root-1)*pageSize)
	must(t, err)
	must(t, f.Close())
	return path, ids
}

// TestOpenRefusesACorruptJournal: a journal with a damaged page is refused
// at start, saying what to do, instead of starting healthy and failing
// every submit.
func TestOpenRefusesACorruptJournal(t *testing.T) {
	path, _ := corruptJournal(t, 300)
	msg := openErr(t, path, Options{}, ErrCorrupt)
	wantAll(t, msg, path, "damaged", "integrity check", ".recover", "[store] path", "new file")
}

// TestIntegrityCheckIsBounded: a check that does not finish within its
// budget (a huge journal) does not keep brokerd from starting.
func TestIntegrityCheckIsBounded(t *testing.T) {
	path, _ := corruptJournal(t, 300)
	s, err := Open(context.Background(), path, Options{integrityBudget: time.Nanosecond})
	if err != nil {
		t.Fatalf("Open with a check cut short: %v", err)
	}
	if !strings.HasPrefix(s.IntegrityCheck(), "skipped") {
		t.Errorf("IntegrityCheck = %q", s.IntegrityCheck())
	}
	must(t, s.Close())
	if ok := openTest(t, Options{}); ok.IntegrityCheck() != "ok" {
		t.Errorf("a healthy journal: IntegrityCheck = %q", ok.IntegrityCheck())
	}
}

// TestMalformedAtRunTimeCondemnsTheJournal: damage found while running (the
// check was cut short, or the page went bad later) turns the journal
// unhealthy for good: every write is refused, so nothing more is
// acknowledged, and Damaged tells brokerd to block its lanes.
func TestMalformedAtRunTimeCondemnsTheJournal(t *testing.T) {
	path, ids := corruptJournal(t, 300)
	s := openAt(t, path, Options{integrityBudget: time.Nanosecond})
	if err := s.Health(); err != nil {
		t.Fatalf("healthy before any read: %v", err)
	}
	select {
	case <-s.Damaged():
		t.Fatal("Damaged before any damage was seen")
	default:
	}

	if _, err := s.Get(context.Background(), ids[150]); err == nil {
		t.Fatal("read a corrupt page without an error")
	}
	health := s.Health()
	if !errors.Is(health, ErrDamaged) {
		t.Fatalf("Health = %v, want ErrDamaged", health)
	}
	wantAll(t, health.Error(), "malformed", path, ".recover", "[store] path")
	select {
	case <-s.Damaged():
	default:
		t.Fatal("Damaged not closed")
	}
	err := s.Append(context.Background(), queued("after", 1000, t0))
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("Append on a damaged journal = %v, want ErrDamaged", err)
	}
	if err := s.SetPaused(context.Background(), "sim", true); !errors.Is(err, ErrDamaged) {
		t.Errorf("SetPaused on a damaged journal = %v, want ErrDamaged", err)
	}
	var _ queue.Store = s
}
