package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/brokerd/brokerd/queue"
)

const amendOperation = `UPDATE operations SET result = ?, message = ?
	WHERE id = ? AND status IN ('success', 'failed', 'cancelled')`

// Amend replaces a finished operation's result and message (a settled
// unknown outcome), keeping its status. It returns once the change is
// durable; queue.ErrNotFound, or an error wrapping queue.ErrNotFinished for
// an operation still queued or running.
func (s *Store) Amend(ctx context.Context, id string, result []byte, message string) error {
	text, err := jsonText("result", result)
	if err != nil {
		return fmt.Errorf("journal: cannot amend operation %s: %w", id, err)
	}
	_, err = s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, amendOperation, text, message, id)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return 0, err
		}
		var status string
		if err := tx.StmtContext(ctx, s.stmts.status).QueryRowContext(ctx, id).Scan(&status); err != nil {
			return 0, &recordError{queue.ErrNotFound}
		}
		return 0, &recordError{fmt.Errorf("journal: cannot amend operation %s: it is %s: %w", id, status, queue.ErrNotFinished)}
	})
	return err
}
