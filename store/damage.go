package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/brokerd/brokerd/queue"
)

// ErrDamaged is returned by every write once the journal was found damaged
// while brokerd ran (a malformed database, a WAL file removed under it):
// nothing more is recorded, so nothing more can be acknowledged.
// Store.Health says what was found and what to do.
var ErrDamaged = errors.New("journal is damaged")

// ErrCorrupt is the Kind of an OpenError for a journal whose integrity
// check failed at start.
var ErrCorrupt = errors.New("journal failed its integrity check")

// defaultIntegrityBudget bounds the integrity check at Open: quick_check
// reads every page, which on a journal of many gigabytes would hold up a
// start for minutes. A check cut short by it is skipped, not failed (a
// damaged page is still caught when it is read).
const defaultIntegrityBudget = 10 * time.Second

// damage is the journal's verdict on itself, set once and for good.
type damage struct {
	mu     sync.Mutex
	err    error         // nil while healthy
	signal chan struct{} // closed when err is set
}

func newDamage() *damage { return &damage{signal: make(chan struct{})} }

// set records why the journal is damaged; only the first reason counts.
func (d *damage) set(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = err
		close(d.signal)
	}
}

func (d *damage) get() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// IntegrityCheck says how the check at Open went: "ok", or why it was
// skipped.
func (s *Store) IntegrityCheck() string { return s.integrity }

// Health is nil while the journal is usable, else why it is not and what
// to do, wrapping ErrDamaged.
func (s *Store) Health() error { return s.damage.get() }

// Damaged is closed once the journal is found damaged: brokerd then blocks
// its lanes at once instead of at their next operation.
func (s *Store) Damaged() <-chan struct{} { return s.damage.signal }

// noteDamage looks at an error of SQLite: a malformed database is no
// passing failure, so the journal is condemned and takes no more writes. It
// returns err.
func (s *Store) noteDamage(err error) error {
	if err == nil {
		return nil
	}
	if malformed(err) {
		s.damage.set(fmt.Errorf("%w: SQLite reports the database file %s as malformed (%v): nothing more is recorded or acknowledged; "+
			"stop brokerd, keep a copy of the file (with its -wal), recover it (sqlite3 %s \".recover\" | sqlite3 recovered.db) "+
			"and set [store] path to the recovered file, or to a new one", ErrDamaged, s.path, err, s.path))
		return err
	}
	if !errors.Is(err, queue.ErrNotFound) && !errors.Is(err, ErrConflict) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.checkWAL() // a failing journal may be one whose WAL was removed
	}
	return err
}

// malformed reports whether err is SQLite's "database disk image is
// malformed" or "file is not a database".
func malformed(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// integrityCheck runs SQLite's quick_check on the journal at open, within
// budget. A failed check refuses the journal with what to do; a check the
// budget cut short passes.
func integrityCheck(ctx context.Context, s *Store, budget time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	rows, err := s.read.QueryContext(cctx, "PRAGMA quick_check(20)")
	var problems []string
	if err == nil {
		for rows.Next() {
			var line string
			if err = rows.Scan(&line); err != nil {
				break
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	switch {
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		s.integrity = fmt.Sprintf("skipped: not finished within %v (a big journal); damage is still caught when a page is read", budget)
		return nil // too big to check within the budget: see defaultIntegrityBudget
	case err != nil && !malformed(err):
		return sqliteOpenError(s.path, err)
	case err != nil:
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		s.integrity = "ok"
		return nil
	}
	return &OpenError{Path: s.path, Kind: ErrCorrupt,
		Msg: fmt.Sprintf("the journal is damaged (SQLite's integrity check: %s): brokerd will not run operations it may have lost track of. "+
			"Keep a copy of the file and its -wal; recover what it holds with the sqlite3 shell (sqlite3 %s \".recover\" | sqlite3 recovered.db) "+
			"and set [store] path to recovered.db, or set [store] path to a new file to start an empty journal (then check the account at the broker: "+
			"operations queued in the damaged journal will not run)", clipProblems(problems), s.path)}
}

// clipProblems puts quick_check's findings on one line, short enough for
// a log line: the first findings say enough to recognise the damage.
func clipProblems(p []string) string {
	line := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(p, "\n"), "\n", " | ")), " ")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}
