package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SetPaused records whether a terminal's lane is paused; durable on return.
func (s *Store) SetPaused(ctx context.Context, terminal string, paused bool) error {
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO lanes (terminal, paused, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (terminal) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
			terminal, paused, s.now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: record the pause of lane %q: %w", terminal, err)
	}
	return nil
}

// PausedLanes lists the terminals whose lanes were left paused.
func (s *Store) PausedLanes(ctx context.Context) ([]string, error) {
	var names []string
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT terminal FROM lanes WHERE paused ORDER BY terminal`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			names = append(names, name)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: read paused lanes: %w", err)
	}
	return names, nil
}
