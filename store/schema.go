package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// applicationID marks a SQLite file as a brokerd journal ("BRKD"), so that
// brokerd never migrates another program's database into one.
const applicationID = 0x42524B44

// A migration brings the schema from version-1 to version, in one
// transaction. Steps are only ever appended: a released step never changes,
// because journals in the field have already run it.
type migration struct {
	version int
	about   string
	stmts   []string
}

// migrations is the schema's history; the journal's PRAGMA user_version is
// the number of steps it has run.
var migrations = []migration{
	{
		version: 1,
		about:   "operations journal and sim ledger",
		stmts: []string{
			fmt.Sprintf("PRAGMA application_id = %d", applicationID),
			// Times are Unix nanoseconds, NULL for "not set"; params and
			// result are JSON text, NULL when absent.
			`CREATE TABLE operations (
				id              TEXT    NOT NULL PRIMARY KEY,
				seq             INTEGER NOT NULL,
				name            TEXT    NOT NULL,
				terminal        TEXT    NOT NULL,
				params          TEXT,
				priority        INTEGER NOT NULL,
				status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
				result          TEXT,
				message         TEXT    NOT NULL DEFAULT '',
				error           TEXT    NOT NULL DEFAULT '',
				error_code      TEXT    NOT NULL DEFAULT '',
				submitted_at    INTEGER NOT NULL,
				started_at      INTEGER,
				finished_at     INTEGER,
				timeout_ns      INTEGER NOT NULL DEFAULT 0,
				expire_at       INTEGER,
				side_effect     INTEGER NOT NULL DEFAULT 0 CHECK (side_effect IN (0, 1)),
				idempotency_key TEXT    NOT NULL DEFAULT '',
				payload_hash    TEXT    NOT NULL DEFAULT ''
			)`,
			// History, newest first, unfiltered or by one filter. The status
			// index also serves recovery (the few unfinished rows, sorted by
			// seq) and retention (finished rows before a time).
			`CREATE INDEX operations_submitted ON operations (submitted_at, seq)`,
			`CREATE INDEX operations_status ON operations (status, submitted_at, seq)`,
			`CREATE INDEX operations_name ON operations (name, submitted_at, seq)`,
			`CREATE INDEX operations_terminal ON operations (terminal, submitted_at, seq)`,
			// Idempotency keys, scoped per terminal; most operations have none.
			`CREATE INDEX operations_key ON operations (terminal, idempotency_key, submitted_at, seq) WHERE idempotency_key <> ''`,
			`CREATE TABLE sim_ledger (
				terminal   TEXT    NOT NULL PRIMARY KEY,
				state      BLOB    NOT NULL,
				updated_at INTEGER NOT NULL
			)`,
		},
	},
	{
		version: 2,
		about:   "sim ledger archive",
		stmts: []string{
			// The finished history of sim accounts, appended when an
			// account rolls to a new day so that sim_ledger keeps only the
			// live state. body is the sim's JSON; day (Unix nanoseconds of
			// the record's day's start) selects for reads and retention;
			// seq, given by the sim, orders the records of a terminal and
			// refuses one archived twice; key is a lookup key (a client
			// order id), '' for none.
			`CREATE TABLE sim_archive (
				terminal TEXT    NOT NULL,
				seq      INTEGER NOT NULL,
				kind     TEXT    NOT NULL,
				day      INTEGER NOT NULL,
				key      TEXT    NOT NULL DEFAULT '',
				body     BLOB    NOT NULL,
				PRIMARY KEY (terminal, seq)
			)`,
			// Reads of one kind from a day on, in order; retention (the
			// days before a cutoff). Records are written once a day, so a
			// second index costs the orders nothing.
			`CREATE INDEX sim_archive_kind ON sim_archive (terminal, kind, day, seq)`,
			`CREATE INDEX sim_archive_day ON sim_archive (terminal, day)`,
			// Lookups by key; most records have none.
			`CREATE INDEX sim_archive_key ON sim_archive (terminal, kind, key, seq) WHERE key <> ''`,
		},
	},
	{
		version: 3,
		about:   "lane pauses",
		stmts: []string{
			// A paused lane stays paused across restarts: pause is the
			// trader's brake, and a crash or an update must not release it.
			`CREATE TABLE lanes (
				terminal   TEXT    NOT NULL PRIMARY KEY,
				paused     INTEGER NOT NULL,
				updated_at INTEGER NOT NULL
			)`,
		},
	},
	{
		version: 4,
		about:   "risk halts, scheduled operations, schedule pauses",
		stmts: []string{
			// not_before: an operation queued but not to start before then
			// (Unix nanoseconds, NULL for "at once").
			`ALTER TABLE operations ADD COLUMN not_before INTEGER`,
			// The kill switch per terminal: like a pause, a halt outlives
			// a restart until someone lifts it.
			`CREATE TABLE risk_halts (
				terminal   TEXT    NOT NULL PRIMARY KEY,
				reason     TEXT    NOT NULL DEFAULT '',
				halted_at  INTEGER NOT NULL
			)`,
			// Paused [[schedules]], by name: a paused schedule stays paused
			// across restarts.
			`CREATE TABLE schedule_pauses (
				name       TEXT    NOT NULL PRIMARY KEY,
				paused_at  INTEGER NOT NULL
			)`,
		},
	},
}

// prepareSchema checks that the file is usable as a journal and migrates it.
func prepareSchema(ctx context.Context, db *sql.DB, path string) error {
	if err := db.PingContext(ctx); err != nil {
		return sqliteOpenError(path, err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return sqliteOpenError(path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return &OpenError{Path: path,
			Msg: fmt.Sprintf("SQLite cannot use WAL mode on it (journal mode is %q): put the journal on a local disk, not a network share", mode)}
	}
	if err := checkIdentity(ctx, db, path); err != nil {
		return err
	}
	if err := migrate(ctx, db, migrations); err != nil {
		return sqliteOpenError(path, err)
	}
	return nil
}

// checkIdentity refuses a file that is another program's database, or a
// journal of a newer brokerd whose schema this one does not know.
func checkIdentity(ctx context.Context, db *sql.DB, path string) error {
	var appID, version, tables int
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table')`).Scan(&appID, &version, &tables)
	if err != nil {
		return sqliteOpenError(path, err)
	}
	latest := migrations[len(migrations)-1].version
	switch {
	case appID == applicationID && version > latest:
		return &OpenError{Path: path, Kind: ErrIncompatible,
			Msg: fmt.Sprintf("it was written by a newer brokerd (schema version %d; this one knows up to %d): run that version, or set [store] path to another file", version, latest)}
	case appID != applicationID && (appID != 0 || version != 0 || tables != 0):
		return &OpenError{Path: path, Kind: ErrIncompatible,
			Msg: "it is a SQLite database of another program, not a brokerd journal: set [store] path to another file"}
	}
	return nil
}

// migrate runs the steps the journal has not run yet, each in its own
// transaction, so that a failure leaves it at the last complete version.
func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	for i, m := range steps {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.about, m.version, i+1)
		}
		if err := migrateStep(ctx, db, m); err != nil {
			return fmt.Errorf("migrate journal to schema version %d (%s): %w", m.version, m.about, err)
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see writerDSN)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version >= m.version {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return err
	}
	return tx.Commit()
}
