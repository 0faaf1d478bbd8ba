package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// The sim terminal's ledger: the live state of each simulated account (one
// row, replaced at every change) and the archive of its finished records
// (rows appended with the change that finished them, deleted after a year).

const (
	loadLedger = `SELECT state FROM sim_ledger WHERE terminal = ?`
	// An empty state is bound as NULL by the driver: store it as x''.
	saveLedger = `INSERT INTO sim_ledger (terminal, state, updated_at) VALUES (?, coalesce(?, x''), ?)
		ON CONFLICT (terminal) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`

	insertArchive = `INSERT INTO sim_archive (terminal, seq, kind, day, key, body)
		VALUES (?, ?, ?, ?, ?, coalesce(?, x''))`
	selectArchive = `SELECT body FROM sim_archive
		WHERE terminal = ? AND kind = ? AND day >= ? ORDER BY day, seq`
	// key <> '' lets SQLite use the partial index.
	findArchive = `SELECT body FROM sim_archive
		WHERE terminal = ? AND kind = ? AND key = ? AND key <> '' ORDER BY seq DESC LIMIT 1`
	// pruneArchive deletes one batch; like pruneFinished, no ORDER BY.
	pruneArchive = `DELETE FROM sim_archive WHERE rowid IN (
		SELECT rowid FROM sim_archive WHERE terminal = ? AND day < ? LIMIT ?)`
)

// The Store implements automation.Ledger, the port of drivers that keep
// state of their own (the sim's paper accounts).
var _ automation.Ledger = (*Store)(nil)

// LoadLedger returns the state the sim terminal named terminal saved last,
// or nil and no error when it never saved one.
func (s *Store) LoadLedger(ctx context.Context, terminal string) ([]byte, error) {
	if err := s.flushHeld(ctx, terminal); err != nil {
		return nil, fmt.Errorf("journal: load ledger of terminal %q: %w", terminal, err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var state []byte
	err := s.stmts.loadLedger.QueryRowContext(ctx, terminal).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("journal: load ledger of terminal %q: %w", terminal, s.noteDamage(err))
	case state == nil:
		return []byte{}, nil // saved empty: present, unlike never saved
	}
	return state, nil
}

// SaveLedger replaces the saved state of the sim terminal named terminal.
// It returns once the state is durable, committed by the writer with the
// operations of the same moment.
func (s *Store) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	if terminal == "" {
		return errors.New("journal: cannot save a ledger without a terminal name")
	}
	_, err := s.ledgerWrite(ctx, terminal, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.StmtContext(ctx, s.stmts.saveLedger).ExecContext(ctx, terminal, state, s.now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: save ledger of terminal %q: %w", terminal, err)
	}
	return nil
}

// ArchiveLedger appends records to the archive of the sim terminal named
// terminal and replaces its saved state, atomically: when it returns nil,
// both are durable; when it returns an error, neither is recorded. A record
// whose Seq the terminal's archive already holds fails it with ErrConflict,
// so that history is never archived twice.
func (s *Store) ArchiveLedger(ctx context.Context, terminal string, records []automation.LedgerRecord, state []byte) error {
	if terminal == "" {
		return errors.New("journal: cannot archive a ledger without a terminal name")
	}
	for i, r := range records {
		if r.Kind == "" || r.Day.IsZero() {
			return fmt.Errorf("journal: archive ledger of terminal %q: record %d (seq %d) has no kind or no day", terminal, i, r.Seq)
		}
	}
	_, err := s.ledgerWrite(ctx, terminal, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		// A savepoint makes the write all or nothing inside the batch's
		// transaction: a conflict on the fifth record must not leave the
		// first four to be committed with the other callers' writes.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT archive_ledger`); err != nil {
			return 0, err
		}
		err := s.archive(ctx, tx, terminal, records, state)
		if err == nil {
			_, err = tx.ExecContext(ctx, `RELEASE archive_ledger`)
			return 0, err
		}
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO archive_ledger`); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		if _, rerr := tx.ExecContext(ctx, `RELEASE archive_ledger`); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		if constraint(err) != 0 {
			return 0, &recordError{fmt.Errorf("%w: %w", ErrConflict, err)}
		}
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: archive ledger of terminal %q: %w", terminal, err)
	}
	return nil
}

func (s *Store) archive(ctx context.Context, tx *sql.Tx, terminal string, records []automation.LedgerRecord, state []byte) error {
	insert := tx.StmtContext(ctx, s.stmts.insertArchive)
	for _, r := range records {
		if _, err := insert.ExecContext(ctx, terminal, r.Seq, r.Kind, clampNanos(r.Day), r.Key, r.Body); err != nil {
			if constraint(err) != 0 {
				return fmt.Errorf("record %d (%s) is already archived: %w", r.Seq, r.Kind, err)
			}
			return err
		}
	}
	_, err := tx.StmtContext(ctx, s.stmts.saveLedger).ExecContext(ctx, terminal, state, s.now().UnixNano())
	return err
}

// LoadLedgerArchive returns the bodies of the archived records of kind of
// the sim terminal named terminal whose Day is at or after since, by Day
// and then Seq. A zero since selects every day.
func (s *Store) LoadLedgerArchive(ctx context.Context, terminal, kind string, since time.Time) ([][]byte, error) {
	if err := s.flushHeld(ctx, terminal); err != nil {
		return nil, fmt.Errorf("journal: load ledger archive of terminal %q: %w", terminal, err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	from := int64(math.MinInt64)
	if !since.IsZero() {
		from = clampNanos(since)
	}
	rows, err := s.stmts.selectArchive.QueryContext(ctx, terminal, kind, from)
	if err != nil {
		return nil, fmt.Errorf("journal: load ledger archive of terminal %q: %w", terminal, s.noteDamage(err))
	}
	defer rows.Close()
	bodies := [][]byte{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("journal: load ledger archive of terminal %q: %w", terminal, err)
		}
		bodies = append(bodies, body)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: load ledger archive of terminal %q: %w", terminal, s.noteDamage(err))
	}
	return bodies, nil
}

// FindLedgerArchive returns the body of the last archived record of kind
// with key of the sim terminal named terminal, or nil and no error when
// there is none. An empty key finds nothing.
func (s *Store) FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	if err := s.flushHeld(ctx, terminal); err != nil {
		return nil, fmt.Errorf("journal: find %s %q in the ledger archive of terminal %q: %w", kind, key, terminal, err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var body []byte
	err := s.stmts.findArchive.QueryRowContext(ctx, terminal, kind, key).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("journal: find %s %q in the ledger archive of terminal %q: %w", kind, key, terminal, s.noteDamage(err))
	case body == nil:
		return []byte{}, nil
	}
	return body, nil
}

// PruneLedgerArchive deletes the archived records of the sim terminal named
// terminal whose Day is before before. Like Prune, it deletes in small
// transactions through the writer, so that other writes go on between
// them, and stops between two of them on a ctx error.
func (s *Store) PruneLedgerArchive(ctx context.Context, terminal string, before time.Time) error {
	if before.IsZero() {
		return nil
	}
	cutoff := clampNanos(before)
	for {
		n, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
			res, err := tx.StmtContext(ctx, s.stmts.pruneArchive).ExecContext(ctx, terminal, cutoff, s.pruneBatch)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		if err != nil {
			return fmt.Errorf("journal: prune ledger archive of terminal %q: %w", terminal, err)
		}
		if n < int64(s.pruneBatch) {
			return nil
		}
	}
}
