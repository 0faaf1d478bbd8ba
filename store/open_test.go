package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// rawDB opens path with SQLite alone: no lock file, no migration.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pragmaInt(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFreshJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	path := filepath.Join(dir, "brokerd.db")
	s := openAt(t, path, Options{})
	if s.Path() != path {
		t.Errorf("Path = %s, want %s", s.Path(), path)
	}
	must(t, s.Close())

	db := rawDB(t, path)
	if v := pragmaInt(t, db, "user_version"); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	if id := pragmaInt(t, db, "application_id"); id != applicationID {
		t.Errorf("application_id = %#x, want %#x", id, applicationID)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		must(t, rows.Scan(&n))
		names = append(names, n)
	}
	want := []string{"lanes", "operations", "operations_key", "operations_name", "operations_status", "operations_submitted",
		"operations_terminal", "risk_halts", "schedule_pauses", "sim_archive", "sim_archive_day", "sim_archive_key", "sim_archive_kind", "sim_ledger"}
	if !slices.Equal(names, want) {
		t.Errorf("schema = %v, want %v", names, want)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{path, path + ".lock"} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, %v; want 0600 (a journal of trades is private)", p, fi.Mode().Perm(), err)
			}
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s := openAt(t, path, Options{})
	op := queued("kept", 1, t0)
	appendOps(t, s, op, queued("pending", 2, t0))
	op = finished(op, queue.StatusSuccess, t0, t0.Add(time.Second))
	must(t, s.Finish(ctx, op))
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"cash":1}`)))
	must(t, s.Close())

	s = openAt(t, path, Options{})
	got, err := s.Get(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOperation(got, op); d != "" {
		t.Error(d)
	}
	if un, err := s.Unfinished(ctx); err != nil || !slices.Equal(ids(un), []string{"pending"}) {
		t.Errorf("Unfinished = %v, %v", ids(un), err)
	}
	if byKey, err := s.FindByKey(ctx, "sim", op.IdempotencyKey, t0); err != nil || byKey.ID != "kept" {
		t.Errorf("idempotency key lost on restart: FindByKey = %s, %v", byKey.ID, err)
	}
	if l, err := s.LoadLedger(ctx, "sim"); err != nil || string(l) != `{"cash":1}` {
		t.Errorf("LoadLedger = %s, %v", l, err)
	}
	if v := pragmaInt(t, rawDB(t, path), "user_version"); v != len(migrations) {
		t.Errorf("user_version after reopen = %d", v)
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	next := migration{version: len(migrations) + 1, about: "test step", stmts: []string{
		`CREATE TABLE extra (x INTEGER)`, `INSERT INTO extra VALUES (42)`}}
	broken := migration{version: len(migrations) + 1, about: "broken step", stmts: []string{
		`CREATE TABLE extra (x INTEGER)`, `INSERT INTO missing VALUES (1)`}}
	tests := []struct {
		name        string
		steps       []migration
		runs        int
		wantVersion int
		wantErr     string
		wantExtra   bool
	}{
		{"all steps on a fresh file", migrations, 1, len(migrations), "", false},
		{"again: nothing to do", migrations, 2, len(migrations), "", false},
		{"a new step runs once", append(slices.Clone(migrations), next), 2, len(migrations) + 1, "", true},
		{"a failing step leaves the last version, nothing of itself", append(slices.Clone(migrations), broken), 1,
			len(migrations), fmt.Sprintf("schema version %d (broken step)", len(migrations)+1), false},
		{"misnumbered steps", []migration{{version: 2, about: "gap"}}, 1, 0, "want 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
			var err error
			for range tt.runs {
				if err = migrate(ctx, db, tt.steps); err != nil {
					break
				}
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("migrate = %v, want error %q", err, tt.wantErr)
			}
			if v := pragmaInt(t, db, "user_version"); v != tt.wantVersion {
				t.Errorf("user_version = %d, want %d", v, tt.wantVersion)
			}
			var n int
			err = db.QueryRow(`SELECT count(*) FROM extra`).Scan(&n)
			if got := err == nil; got != tt.wantExtra || tt.wantExtra && n != 1 {
				t.Errorf("table extra present %v with %d rows, want present %v with 1", got, n, tt.wantExtra)
			}
		})
	}
}

// openErr opens path, expecting a failure of kind; it returns the message.
func openErr(t *testing.T, path string, opts Options, kind error) string {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded, want %v", path, kind)
	}
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Errorf("Open error %T %v, want an *OpenError", err, err)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("Open = %v, want errors.Is %v", err, kind)
	}
	return err.Error()
}

func wantAll(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not say %q", msg, p)
		}
	}
}

func TestOpenRefusesWhatIsNotAJournal(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		kind    error
		says    []string
	}{
		{"garbage", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte(strings.Repeat("these are not the pages you are looking for\n", 200)), 0o600))
		}, ErrNotDatabase, []string{"file is not a database", "[store] path", "move this one aside"}},
		{"another program's database", func(t *testing.T, path string) {
			_, err := rawDB(t, path).Exec(`CREATE TABLE accounts (id INTEGER)`)
			must(t, err)
		}, ErrIncompatible, []string{"another program", "[store] path"}},
		{"another program's application id", func(t *testing.T, path string) {
			_, err := rawDB(t, path).Exec(`PRAGMA application_id = 7`)
			must(t, err)
		}, ErrIncompatible, []string{"another program"}},
		{"a newer brokerd's journal", func(t *testing.T, path string) {
			s, err := Open(context.Background(), path, Options{})
			must(t, err)
			must(t, s.Close())
			_, err = rawDB(t, path).Exec(`PRAGMA user_version = 99`)
			must(t, err)
		}, ErrIncompatible, []string{"newer brokerd", "schema version 99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "brokerd.db")
			tt.prepare(t, path)
			msg := openErr(t, path, Options{}, tt.kind)
			wantAll(t, msg, append(tt.says, path)...)
			// A refused file is left as it was, and its lock is released.
			if _, err := os.Stat(path + "-wal"); err == nil && tt.kind == ErrNotDatabase {
				t.Errorf("a -wal file was created beside a non-database")
			}
			l, err := acquireLock(path + ".lock")
			if err != nil {
				t.Fatalf("lock still held after a failed Open: %v", err)
			}
			must(t, l.release())
		})
	}
}

func TestOpenRejectsPaths(t *testing.T) {
	for _, path := range []string{"", "  ", ":memory:", "file:brokerd.db", "brokerd.db?mode=ro"} {
		t.Run(path, func(t *testing.T) {
			wantAll(t, openErr(t, path, Options{}, nil), "[store] path")
		})
	}
}

// refusesWrites reports whether this process is refused to write path (a
// file or, when dir, a new file in that directory), made read-only: root
// (or CAP_DAC_OVERRIDE) writes anyway.
func refusesWrites(path string, dir bool) bool {
	if dir {
		path = filepath.Join(path, "probe")
		defer os.Remove(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		f.Close()
	}
	return err != nil
}

const rootSkip = "this process ignores file permissions (root): the sqlite read-only case covers the error path"

func TestOpenReadOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	t.Run("directory not writable", func(t *testing.T) {
		dir := t.TempDir()
		must(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		if !refusesWrites(dir, true) {
			t.Skip(rootSkip)
		}
		path := filepath.Join(dir, "brokerd.db")
		wantAll(t, openErr(t, path, Options{}, ErrReadOnly), path, "write access", "[store] path")
	})
	t.Run("file not writable", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "brokerd.db")
		s := openAt(t, path, Options{})
		must(t, s.Close())
		must(t, os.Chmod(path, 0o400))
		if !refusesWrites(path, false) {
			t.Skip(rootSkip)
		}
		wantAll(t, openErr(t, path, Options{}, ErrReadOnly), path, "write access")
	})
	t.Run("sqlite read-only", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "brokerd.db")
		wantAll(t, openErr(t, path, Options{sqliteReadOnly: true}, ErrReadOnly), path, "write access", "[store] path")
	})
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "brokerd.db")
	first := openAt(t, path, Options{})
	appendOps(t, first, queued("x", 1, t0))

	msg := openErr(t, path, Options{}, ErrLocked)
	wantAll(t, msg, path, "another brokerd", fmt.Sprintf("pid %d", os.Getpid()), "[store] path")

	if runtime.GOOS != "windows" {
		link := filepath.Join(dir, "link.db")
		must(t, os.Symlink(path, link))
		openErr(t, link, Options{}, ErrLocked)
	}
	// The refused Open touched nothing: the first store still works.
	appendOps(t, first, queued("y", 2, t0))

	must(t, first.Close())
	second := openAt(t, path, Options{})
	if _, err := second.Get(context.Background(), "y"); err != nil {
		t.Errorf("Get after reopen: %v", err)
	}
}

// TestOpenLockedAcrossProcesses holds the journal in a child process (this
// test binary, running TestHoldJournal) and opens it here.
func TestOpenLockedAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	for _, end := range []string{"close", "kill"} {
		t.Run(end, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "brokerd.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestHoldJournal$")
			cmd.Env = append(os.Environ(), "STORE_TEST_HOLD="+path)
			stdin, err := cmd.StdinPipe()
			must(t, err)
			stdout, err := cmd.StdoutPipe()
			must(t, err)
			cmd.Stderr = os.Stderr
			must(t, cmd.Start())
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "holding") {
				cmd.Process.Kill()
				t.Fatalf("child: %q, %v", line, err)
			}

			msg := openErr(t, path, Options{}, ErrLocked)
			wantAll(t, msg, "pid "+strconv.Itoa(cmd.Process.Pid))

			if end == "kill" { // a crash leaves no stale lock
				must(t, cmd.Process.Kill())
			} else {
				stdin.Close()
			}
			cmd.Wait() //nolint:errcheck // killed: an error by design
			s := openAt(t, path, Options{})
			if _, err := s.Get(context.Background(), "child"); err != nil {
				t.Errorf("the child's acknowledged append is missing: %v", err)
			}
		})
	}
}

// TestHoldJournal is the child of TestOpenLockedAcrossProcesses: it opens
// the journal, appends, says so, and holds it until stdin closes.
func TestHoldJournal(t *testing.T) {
	path := os.Getenv("STORE_TEST_HOLD")
	if path == "" {
		t.Skip("the child process of TestOpenLockedAcrossProcesses")
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendOps(t, s, queued("child", 1, t0))
	fmt.Println("holding")
	bufio.NewReader(os.Stdin).ReadString('\n') //nolint:errcheck // EOF is the signal
	must(t, s.Close())
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	must(t, s.Close())
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	calls := map[string]func() error{
		"Append":      func() error { return s.Append(ctx, queued("a", 1, t0)) },
		"MarkRunning": func() error { return s.MarkRunning(ctx, "a", t0) },
		"Finish":      func() error { return s.Finish(ctx, finished(queued("a", 1, t0), queue.StatusSuccess, t0, t0)) },
		"Get":         func() error { _, err := s.Get(ctx, "a"); return err },
		"FindByKey":   func() error { _, err := s.FindByKey(ctx, "sim", "k", t0); return err },
		"Unfinished":  func() error { _, err := s.Unfinished(ctx); return err },
		"History":     func() error { _, _, err := s.History(ctx, HistoryFilter{}); return err },
		"Prune":       func() error { _, err := s.Prune(ctx, t0); return err },
		"LoadLedger":  func() error { _, err := s.LoadLedger(ctx, "sim"); return err },
		"SaveLedger":  func() error { return s.SaveLedger(ctx, "sim", nil) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}
