package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// What can keep Open from starting. An *OpenError wraps one of them (or
// none, for an unexpected failure) and says what to do.
var (
	ErrLocked       = errors.New("journal is in use by another process")
	ErrNotDatabase  = errors.New("file is not a database")
	ErrReadOnly     = errors.New("journal is not writable")
	ErrIncompatible = errors.New("file is not a journal this brokerd can use")
)

// OpenError is a failure of Open: which file, what is wrong with it, and
// what the person starting brokerd can do about it.
type OpenError struct {
	Path string
	Kind error  // ErrLocked, ErrNotDatabase, ErrReadOnly, ErrIncompatible, or nil
	Msg  string // the problem and the remedy
	Err  error  // the cause, if any
}

func (e *OpenError) Error() string {
	msg := "open journal " + e.Path + ": " + e.Msg
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *OpenError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Open opens the journal at path, creating it (and its directory) on first
// run and migrating its schema to this version's. It takes the journal's
// lock file (path + ".lock") for the life of the Store: a second Open of the
// same file, from this process or another, fails with ErrLocked until Close.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	path, err := journalPath(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, osOpenError(path, "cannot create its directory", err)
	}
	lock, err := acquireLock(path + ".lock")
	if err != nil {
		if errors.Is(err, errLockHeld) {
			holder := "another brokerd"
			if pid := lockHolder(path + ".lock"); pid > 0 {
				holder = fmt.Sprintf("another brokerd (pid %d)", pid)
			}
			return nil, &OpenError{Path: path, Kind: ErrLocked,
				Msg: fmt.Sprintf("it is in use by %s, which holds %s.lock; two brokerd processes must never drive the same terminals: stop the other one, or give this one its own [store] path", holder, path)}
		}
		return nil, osOpenError(path, "cannot take its lock file "+path+".lock", err)
	}
	s, err := open(ctx, path, lock, opts)
	if err != nil {
		lock.release() //nolint:errcheck // the open error says more
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, path string, lock *lockFile, opts Options) (*Store, error) {
	// Create the file ourselves, so that a journal of trades is readable by
	// its owner only (SQLite gives the -wal and -shm files the same mode),
	// and so that an unwritable file is reported before SQLite quietly
	// falls back to read-only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, osOpenError(path, "cannot open it for writing", err)
	}
	f.Close()

	writeDB, err := sql.Open("sqlite", writerDSN(path, opts))
	if err != nil {
		return nil, sqliteOpenError(path, err)
	}
	// One connection: the writer goroutine's. SQLite allows one writer at a
	// time anyway, and one connection lets its prepared statements be reused.
	writeDB.SetMaxOpenConns(1)
	writeDB.SetMaxIdleConns(1)
	writeDB.SetConnMaxLifetime(0)
	writeDB.SetConnMaxIdleTime(0)
	if err := prepareSchema(ctx, writeDB, path); err != nil {
		writeDB.Close()
		return nil, err
	}

	readDB, err := sql.Open("sqlite", readerDSN(path, opts))
	if err != nil {
		writeDB.Close()
		return nil, sqliteOpenError(path, err)
	}
	readDB.SetMaxOpenConns(opts.Readers)
	readDB.SetMaxIdleConns(opts.Readers)
	if err := readDB.PingContext(ctx); err != nil {
		readDB.Close()
		writeDB.Close()
		return nil, sqliteOpenError(path, err)
	}

	stmts, err := prepareStatements(ctx, writeDB, readDB)
	if err != nil {
		readDB.Close()
		writeDB.Close()
		return nil, sqliteOpenError(path, err)
	}

	s := &Store{
		stmts:      stmts,
		path:       path,
		now:        opts.Now,
		lock:       lock,
		write:      writeDB,
		read:       readDB,
		writes:     make(chan *write, writeQueueDepth),
		holds:      holds{by: map[string]*hold{}},
		writerDone: make(chan struct{}),
		pruneBatch: defaultPruneBatch,
		damage:     newDamage(),
	}
	if err := integrityCheck(ctx, s, opts.integrityBudget); err != nil {
		stmts.close()
		readDB.Close()
		writeDB.Close()
		return nil, err
	}
	// The integrity check has read the journal, so SQLite has its WAL open.
	s.wal = newWALWatch(path)
	go s.watchWAL(opts.walCheckInterval)
	go s.runWriter()
	return s, nil
}

// journalPath makes path absolute, so that errors name the file exactly,
// and resolves symbolic links, so that two paths to one file share one lock.
func journalPath(path string) (string, error) {
	switch {
	case strings.TrimSpace(path) == "":
		return "", &OpenError{Path: `""`, Msg: "no journal path given: set [store] path to a file, for example brokerd.db"}
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?'):
		return "", &OpenError{Path: path, Msg: "[store] path must be a plain file path (not a SQLite URI, no '?')"}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", &OpenError{Path: path, Msg: "cannot make the path absolute", Err: err}
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

func writerDSN(path string, opts Options) string {
	q := []string{
		fmt.Sprintf("_busy_timeout=%d", opts.BusyTimeout.Milliseconds()),
		"_journal_mode=WAL",
		"_synchronous=" + opts.synchronous,
		"_txlock=immediate",
		// Keep an idle WAL file from staying as large as its busiest moment.
		"_pragma=journal_size_limit(67108864)",
	}
	if opts.sqliteReadOnly {
		return "file:" + path + "?mode=ro&" + strings.Join(q, "&")
	}
	return path + "?" + strings.Join(q, "&")
}

func readerDSN(path string, opts Options) string {
	return fmt.Sprintf("%s?_busy_timeout=%d&_query_only=1", path, opts.BusyTimeout.Milliseconds())
}

// osOpenError explains a failure of the file system.
func osOpenError(path, what string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return &OpenError{Path: path, Kind: ErrReadOnly, Err: err,
			Msg: what + ": brokerd needs write access to the file and to its directory " + filepath.Dir(path) + " (for the -wal, -shm and .lock files beside it); fix the permissions or set [store] path to a writable place"}
	}
	return &OpenError{Path: path, Msg: what, Err: err}
}

// sqliteOpenError explains a failure of SQLite while opening the journal.
func sqliteOpenError(path string, err error) error {
	var oe *OpenError
	if errors.As(err, &oe) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return &OpenError{Path: path, Msg: "cannot open it", Err: err}
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_NOTADB:
		return &OpenError{Path: path, Kind: ErrNotDatabase, Err: err,
			Msg: "file is not a database (not SQLite, or encrypted): set [store] path to another file, or move this one aside so that brokerd starts a new, empty journal"}
	case sqlite3.SQLITE_CORRUPT:
		return &OpenError{Path: path, Kind: ErrNotDatabase, Err: err,
			Msg: "the database file is damaged: keep a copy for inspection, then set [store] path to a new file (or try the sqlite3 shell's .recover on the copy)"}
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_AUTH:
		return &OpenError{Path: path, Kind: ErrReadOnly, Err: err,
			Msg: "cannot write it: brokerd needs write access to the file and to its directory " + filepath.Dir(path) + " (for the -wal, -shm and .lock files beside it); fix the permissions or set [store] path to a writable place"}
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &OpenError{Path: path, Kind: ErrLocked, Err: err,
			Msg: "another program holds a lock on the database (a sqlite3 shell, a backup, another brokerd without its lock file): close it and start again"}
	}
	return &OpenError{Path: path, Msg: "cannot open it", Err: err}
}
