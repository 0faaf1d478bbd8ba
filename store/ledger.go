package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const (
	loadLedger = `SELECT state FROM sim_ledger WHERE terminal = ?`
	// An empty state is bound as NULL by the driver: store it as x''.
	saveLedger = `INSERT INTO sim_ledger (terminal, state, updated_at) VALUES (?, coalesce(?, x''), ?)
		ON CONFLICT (terminal) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`
)

// LoadLedger returns the state the sim terminal named terminal saved last,
// or nil and no error when it never saved one.
func (s *Store) LoadLedger(ctx context.Context, terminal string) ([]byte, error) {
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
		return nil, fmt.Errorf("journal: load ledger of terminal %q: %w", terminal, err)
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
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.StmtContext(ctx, s.stmts.saveLedger).ExecContext(ctx, terminal, state, s.now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: save ledger of terminal %q: %w", terminal, err)
	}
	return nil
}
