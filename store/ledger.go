package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// LoadLedger returns the state the sim terminal named terminal saved last,
// or nil and no error when it never saved one.
func (s *Store) LoadLedger(ctx context.Context, terminal string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var state []byte
	err := s.read.QueryRowContext(ctx, `SELECT state FROM sim_ledger WHERE terminal = ?`, terminal).Scan(&state)
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
	if state == nil {
		state = []byte{}
	}
	state = append([]byte(nil), state...) // the caller may reuse its buffer once we return, or before
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO sim_ledger (terminal, state, updated_at) VALUES (?, coalesce(?, x''), ?)
			ON CONFLICT (terminal) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
			terminal, state, s.now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: save ledger of terminal %q: %w", terminal, err)
	}
	return nil
}
