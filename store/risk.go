package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// The journal's part in the risk limits, the kill switch and the schedules
// (schema version 4).

// selectSubmittedSince serves the risk limits' day counters: every
// operation of a terminal submitted since a time, by operations_terminal.
const selectSubmittedSince = `SELECT ` + operationColumns + ` FROM operations
	WHERE terminal = ? AND submitted_at >= ? ORDER BY submitted_at, seq`

// SubmittedSince returns the operations recorded on terminal that were
// submitted at or after since, oldest first, whatever their status: the
// risk limits count a day's orders from them, so that the counters are
// exact after a crash.
func (s *Store) SubmittedSince(ctx context.Context, terminal string, since time.Time) ([]queue.Operation, error) {
	var ops []queue.Operation
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectSubmittedSince, terminal, clampNanos(since))
		if err != nil {
			return err
		}
		ops, err = scanAll(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: read the operations of %q since %s: %w", terminal, since.Format(time.RFC3339), err)
	}
	return ops, nil
}

// Halt is a terminal's kill switch as the journal holds it.
type Halt struct {
	Terminal string
	Reason   string
	At       time.Time
}

// SetHalt records that terminal is halted (halted) or not; durable on
// return.
func (s *Store) SetHalt(ctx context.Context, terminal string, halted bool, reason string, at time.Time) error {
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if !halted {
			_, err := tx.ExecContext(ctx, `DELETE FROM risk_halts WHERE terminal = ?`, terminal)
			return 0, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO risk_halts (terminal, reason, halted_at) VALUES (?, ?, ?)
			ON CONFLICT (terminal) DO UPDATE SET reason = excluded.reason, halted_at = excluded.halted_at`,
			terminal, reason, clampNanos(at))
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: record the halt of terminal %q: %w", terminal, err)
	}
	return nil
}

// Halts lists the halted terminals.
func (s *Store) Halts(ctx context.Context) ([]Halt, error) {
	var halts []Halt
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT terminal, reason, halted_at FROM risk_halts ORDER BY terminal`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h Halt
			var at int64
			if err := rows.Scan(&h.Terminal, &h.Reason, &at); err != nil {
				return err
			}
			h.At = time.Unix(0, at)
			halts = append(halts, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: read the halts: %w", err)
	}
	return halts, nil
}

// SetSchedulePaused records whether the named schedule is paused; durable
// on return.
func (s *Store) SetSchedulePaused(ctx context.Context, name string, paused bool) error {
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if !paused {
			_, err := tx.ExecContext(ctx, `DELETE FROM schedule_pauses WHERE name = ?`, name)
			return 0, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schedule_pauses (name, paused_at) VALUES (?, ?)
			ON CONFLICT (name) DO NOTHING`, name, s.now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("journal: record the pause of schedule %q: %w", name, err)
	}
	return nil
}

// PausedSchedules lists the schedules left paused.
func (s *Store) PausedSchedules(ctx context.Context) ([]string, error) {
	var names []string
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM schedule_pauses ORDER BY name`)
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
		return nil, fmt.Errorf("journal: read the paused schedules: %w", err)
	}
	return names, nil
}
