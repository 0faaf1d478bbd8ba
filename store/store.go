// Package store is brokerd's journal: a SQLite database (modernc.org/sqlite,
// pure Go) in WAL mode that records every operation of the queue with its
// idempotency key, and the sim terminal's ledger, so that after a crash
// nothing acknowledged is lost and nothing is executed twice.
//
// One writer goroutine owns every write and commits the records of
// concurrent callers in one transaction (group commit): a caller returns once
// the transaction holding its record is durable. Reads go through a small
// pool of read-only connections and never wait for the writer (WAL lets them
// read the last committed state while a commit is being synced). A lock file
// beside the database keeps a second brokerd away from it.
//
// Times are stored as Unix nanoseconds (NULL for the zero time) and come
// back in the local time zone; params and results as JSON text.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Errors of a Store in use. The errors of Open are in open.go.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("journal is closed")
	// ErrConflict is returned for a write the recorded state forbids: an
	// id appended twice, a running or finished operation marked running,
	// a finished operation finished again.
	ErrConflict = errors.New("conflicts with the journal")
)

// Options tunes a Store. The zero value is the production setting.
type Options struct {
	// BusyTimeout bounds how long a statement waits for a lock that another
	// program holds on the database (a sqlite3 shell, a backup tool).
	// Default 5s.
	BusyTimeout time.Duration
	// Readers is the number of read connections. Default 4.
	Readers int
	// Now stamps the ledger's updated_at. Default time.Now.
	Now func() time.Time

	// synchronous is SQLite's synchronous setting for the writer. It is
	// FULL, and not settable from outside: in WAL mode FULL syncs the WAL
	// at every commit, so an acknowledged submit survives a power loss or
	// an OS crash; NORMAL syncs only at checkpoints and may lose the last
	// commits then (it only survives a crash of brokerd itself). An order
	// acknowledged to a trader and then forgotten is the failure this
	// package exists to prevent, and group commit pays one sync for many
	// records, so FULL costs little throughput (see BenchmarkAppend).
	synchronous string
	// sqliteReadOnly opens the database read-only at the SQLite level, so
	// tests run as root can reach the read-only error path.
	sqliteReadOnly bool
	// integrityBudget bounds the integrity check at Open (default
	// defaultIntegrityBudget); tests shorten it.
	integrityBudget time.Duration
	// walCheckInterval is how often the WAL file is checked (default
	// defaultWALCheckInterval).
	walCheckInterval time.Duration
}

const (
	defaultBusyTimeout = 5 * time.Second
	defaultReaders     = 4
)

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = defaultBusyTimeout
	}
	if o.Readers <= 0 {
		o.Readers = defaultReaders
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.synchronous == "" {
		o.synchronous = "FULL"
	}
	if o.integrityBudget <= 0 {
		o.integrityBudget = defaultIntegrityBudget
	}
	if o.walCheckInterval <= 0 {
		o.walCheckInterval = defaultWALCheckInterval
	}
	return o
}

// Store is the journal. It implements queue.Store, the sim terminal's ledger
// persistence and the history behind GET /history. Its methods are safe for
// concurrent use.
type Store struct {
	path  string
	now   func() time.Time
	lock  *lockFile
	write *sql.DB // one connection, used only by the writer goroutine and Open
	read  *sql.DB // read-only connections
	stmts *statements

	writes     chan *write
	writerDone chan struct{}
	pruneBatch int
	holds      holds // ledger writes waiting for an outcome (hold.go)
	damage     *damage
	wal        *walWatch
	stats      commitStats
	integrity  string // how the integrity check at Open went

	// mu guards closed; active counts the calls that got in before Close,
	// so that Close can wait for them before it shuts the writer down.
	mu        sync.RWMutex
	closed    bool
	active    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close commits the writes already handed to the writer, stops it, and
// closes the database and its lock. It waits for the calls in progress.
// Calling it again does nothing and returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.active.Wait()
		close(s.wal.stop)
		<-s.wal.done
		close(s.writes)
		<-s.writerDone
		// The writer's connection closes last, so that it checkpoints the
		// WAL into the database and removes it.
		s.stmts.close()
		s.closeErr = errors.Join(s.read.Close(), s.write.Close(), s.lock.release())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close journal %s: %w", s.path, s.closeErr)
		}
	})
	return s.closeErr
}

// enter admits a call unless the store is closed; the caller must leave.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.active.Add(1)
	return nil
}

func (s *Store) leave() { s.active.Done() }

// readTx runs f in a read-only transaction, so that the statements of f see
// one snapshot of the journal.
func (s *Store) readTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read journal: %w", s.noteDamage(err))
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to undo
	return s.noteDamage(f(tx))
}
