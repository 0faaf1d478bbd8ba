package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// History paging bounds.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// HistoryFilter is the queue's filter (queue.HistoryFilter): one
// definition, which the store reads.
type HistoryFilter = queue.HistoryFilter

// FilterError names a HistoryFilter field that is out of bounds. Its
// ErrorCode is "invalid_params", for the HTTP layer.
type FilterError struct {
	Field  string
	Reason string
}

func (e *FilterError) Error() string     { return "history filter " + e.Field + ": " + e.Reason }
func (e *FilterError) ErrorCode() string { return string(automation.CodeInvalidParams) }

// normalizeFilter checks f and fills in the default limit.
func normalizeFilter(f HistoryFilter) (HistoryFilter, error) {
	switch f.Status {
	case "", queue.StatusQueued, queue.StatusRunning, queue.StatusSuccess, queue.StatusFailed, queue.StatusCancelled:
	default:
		return f, &FilterError{"status", fmt.Sprintf("%q is not one of queued, running, success, failed, cancelled", f.Status)}
	}
	if f.Limit == 0 {
		f.Limit = DefaultHistoryLimit
	}
	if f.Limit < 1 || f.Limit > MaxHistoryLimit {
		return f, &FilterError{"limit", fmt.Sprintf("must be between 1 and %d, got %d", MaxHistoryLimit, f.Limit)}
	}
	if f.Offset < 0 {
		return f, &FilterError{"offset", fmt.Sprintf("must not be negative, got %d", f.Offset)}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, &FilterError{"until", fmt.Sprintf("must be after since (%s), got %s",
			f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))}
	}
	return f, nil
}

// filterWhere gives f's WHERE clause (with its leading space) and arguments.
func filterWhere(f HistoryFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Name != "" {
		add("name = ?", f.Name)
	}
	if f.Terminal != "" {
		add("terminal = ?", f.Terminal)
	}
	if !f.Since.IsZero() {
		add("submitted_at >= ?", clampNanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("submitted_at < ?", clampNanos(f.Until))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func historyCount(where string) string { return `SELECT count(*) FROM operations` + where }

func historyPage(where string) string {
	return `SELECT ` + operationColumns + ` FROM operations` + where + `
		ORDER BY submitted_at DESC, seq DESC LIMIT ? OFFSET ?`
}

// History returns one page of the operations f selects, newest first (by
// submission, then Seq), and how many match in all.
func (s *Store) History(ctx context.Context, f HistoryFilter) ([]queue.Operation, int, error) {
	f, err := normalizeFilter(f)
	if err != nil {
		return nil, 0, err
	}
	where, args := filterWhere(f)
	var (
		ops   []queue.Operation
		total int
	)
	// One read transaction, so that the page and the total agree.
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, historyCount(where), args...).Scan(&total); err != nil {
			return err
		}
		if f.Offset >= total {
			return nil
		}
		rows, err := tx.QueryContext(ctx, historyPage(where), append(args, f.Limit, f.Offset)...)
		if err != nil {
			return err
		}
		ops, err = scanAll(rows)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("journal: read history: %w", err)
	}
	return ops, total, nil
}

// defaultPruneBatch bounds the rows one Prune transaction deletes, so that
// the writes queued behind it wait for one short transaction at most.
const defaultPruneBatch = 500

// pruneFinished deletes one batch. It has no ORDER BY: every match goes
// eventually, and sorting them all to pick the oldest batch would cost a
// sort of the whole backlog per batch.
const pruneFinished = `DELETE FROM operations WHERE rowid IN (
	SELECT rowid FROM operations
	WHERE submitted_at < ? AND status IN ('success', 'failed', 'cancelled')
	LIMIT ?)`

// Prune deletes the finished operations submitted before before, and
// returns how many it deleted; a zero before deletes nothing. It never
// deletes a queued or running one.
// It deletes in small transactions through the writer, so that submits go
// on between them; on a ctx error it stops between two of them and returns
// what it has deleted so far. Idempotency keys go with their operations:
// callers keep at least a day (the keys' promised lifetime).
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	cutoff := clampNanos(before)
	var total int64
	for {
		n, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
			res, err := tx.StmtContext(ctx, s.stmts.prune).ExecContext(ctx, cutoff, s.pruneBatch)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("journal: prune: %w", err)
		}
		if n < int64(s.pruneBatch) {
			return total, nil
		}
	}
}
