package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/brokerd/brokerd/queue"
)

// operationColumns are the columns of an operation, in the order of
// scanOperation and of the arguments of Append.
const operationColumns = `id, seq, name, terminal, params, priority, status, result, message, error, error_code,
	submitted_at, started_at, finished_at, timeout_ns, expire_at, side_effect, idempotency_key, payload_hash, not_before`

// The statements on operations (the query plans test checks their indexes).
const (
	insertOperation = `INSERT INTO operations (` + operationColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	markRunning = `UPDATE operations SET status = 'running', started_at = ?
		WHERE id = ? AND status = 'queued'`
	finishOperation = `UPDATE operations
		SET status = ?, result = ?, message = ?, error = ?, error_code = ?,
			started_at = coalesce(?, started_at), finished_at = ?
		WHERE id = ? AND status IN ('queued', 'running')`
	selectStatus = `SELECT status FROM operations WHERE id = ?`
	selectByID   = `SELECT ` + operationColumns + ` FROM operations WHERE id = ?`
	// idempotency_key <> '' lets SQLite use the partial index operations_key.
	selectByKey = `SELECT ` + operationColumns + ` FROM operations
		WHERE terminal = ? AND idempotency_key = ? AND idempotency_key <> '' AND submitted_at >= ?
		ORDER BY submitted_at DESC, seq DESC LIMIT 1`
	// Served by operations_status; the unfinished are few (bounded by the
	// queues), so sorting them is cheap.
	selectUnfinished = `SELECT ` + operationColumns + ` FROM operations
		WHERE status IN ('queued', 'running') ORDER BY seq`
)

// Append records a new operation, which must be queued. It returns once the
// record is durable.
func (s *Store) Append(ctx context.Context, op queue.Operation) error {
	args, err := appendArgs(op)
	if err != nil {
		return fmt.Errorf("journal: cannot append operation %q: %w", op.ID, err)
	}
	_, err = s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.StmtContext(ctx, s.stmts.insert).ExecContext(ctx, args...)
		switch constraint(err) {
		case 0:
			return 0, err
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return 0, &recordError{fmt.Errorf("journal: cannot append operation %s: it is already recorded: %w", op.ID, ErrConflict)}
		default:
			return 0, &recordError{fmt.Errorf("journal: cannot append operation %s: %w", op.ID, err)}
		}
	})
	return err
}

func appendArgs(op queue.Operation) ([]any, error) {
	switch {
	case op.ID == "":
		return nil, errors.New("no id")
	case op.Name == "":
		return nil, errors.New("no name")
	case op.Terminal == "":
		return nil, errors.New("no terminal")
	case op.Status == queue.StatusRunning && op.StartedAt.IsZero():
		return nil, errors.New("status is running but there is no start time")
	case op.Status != queue.StatusQueued && op.Status != queue.StatusRunning:
		return nil, fmt.Errorf("status is %q, a new operation must be queued or running", op.Status)
	case op.SubmittedAt.IsZero():
		return nil, errors.New("no submission time")
	case op.Seq > math.MaxInt64:
		return nil, fmt.Errorf("seq %d is out of range", op.Seq)
	case op.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %v", op.Timeout)
	}
	params, err := jsonText("params", op.Params)
	if err != nil {
		return nil, err
	}
	result, err := jsonText("result", op.Result)
	if err != nil {
		return nil, err
	}
	times := make([]any, 5)
	for i, t := range []time.Time{op.SubmittedAt, op.StartedAt, op.FinishedAt, op.ExpireAt, op.NotBefore} {
		if times[i], err = nanos(t); err != nil {
			return nil, err
		}
	}
	return []any{op.ID, int64(op.Seq), op.Name, op.Terminal, params, op.Priority, string(op.Status),
		result, op.Message, op.Error, op.ErrorCode, times[0], times[1], times[2], int64(op.Timeout),
		times[3], op.SideEffect, op.IdempotencyKey, op.PayloadHash, times[4]}, nil
}

// MarkRunning records that the queued operation id starts at the given time.
// It returns once the record is durable; the queue calls the terminal only
// then.
func (s *Store) MarkRunning(ctx context.Context, id string, at time.Time) error {
	apply, err := s.markRunningApply(id, at)
	if err != nil {
		return err
	}
	_, err = s.submit(ctx, apply)
	return err
}

func (s *Store) markRunningApply(id string, at time.Time) (applyFunc, error) {
	started, err := nanos(at)
	if err != nil || started == nil {
		return nil, fmt.Errorf("journal: cannot mark operation %s running: bad start time %v", id, at)
	}
	return func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := tx.StmtContext(ctx, s.stmts.markRunning).ExecContext(ctx, started, id)
		if err != nil {
			return 0, err
		}
		return 0, s.expectOneRow(ctx, tx, res, id, "mark operation "+id+" running")
	}, nil
}

// Finish records the final state of a queued or running operation, with its
// result and error. It returns once the record is durable. When ctx carries
// a hold (HoldWrites), the ledger writes held under it are committed in the
// same transaction, before the outcome: both are recorded or neither.
func (s *Store) Finish(ctx context.Context, op queue.Operation) error {
	apply, err := s.finishApply(op)
	if err != nil {
		return err
	}
	return s.commitOutcome(ctx, apply)
}

// FinishAndStart implements queue.Handover: op's final state (with the
// writes held under ctx, as Finish) and the start of the queued operation
// next at the given time, in one transaction. Nothing is recorded when
// either cannot be.
func (s *Store) FinishAndStart(ctx context.Context, op queue.Operation, next string, at time.Time) error {
	finish, err := s.finishApply(op)
	if err != nil {
		return err
	}
	start, err := s.markRunningApply(next, at)
	if err != nil {
		return err
	}
	return s.commitOutcome(ctx, atomically([]heldWrite{{apply: finish}}, start))
}

// commitOutcome commits an outcome's apply with the writes held under ctx.
func (s *Store) commitOutcome(ctx context.Context, apply applyFunc) error {
	h := holdOf(ctx)
	if h == nil {
		_, err := s.submit(ctx, apply)
		return err
	}
	s.holds.mu.Lock()
	held := s.takeAll(h)
	w, err := s.enqueue(ctx, atomically(held, apply))
	s.holds.mu.Unlock()
	if err == nil {
		_, err = s.await(w)
	}
	if err != nil {
		s.giveBack(h, held)
	}
	return err
}

func (s *Store) finishApply(op queue.Operation) (applyFunc, error) {
	if !op.Status.Final() {
		return nil, fmt.Errorf("journal: cannot finish operation %s with status %q: not a final status", op.ID, op.Status)
	}
	result, err := jsonText("result", op.Result)
	if err != nil {
		return nil, fmt.Errorf("journal: cannot finish operation %s: %w", op.ID, err)
	}
	started, err := nanos(op.StartedAt)
	if err != nil {
		return nil, fmt.Errorf("journal: cannot finish operation %s: %w", op.ID, err)
	}
	finished, err := nanos(op.FinishedAt)
	if err != nil {
		return nil, fmt.Errorf("journal: cannot finish operation %s: %w", op.ID, err)
	}
	return func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := tx.StmtContext(ctx, s.stmts.finish).ExecContext(ctx,
			string(op.Status), result, op.Message, op.Error, op.ErrorCode, started, finished, op.ID)
		if err != nil {
			return 0, err
		}
		return 0, s.expectOneRow(ctx, tx, res, op.ID, "finish operation "+op.ID)
	}, nil
}

// expectOneRow explains an update that matched no row: the operation is not
// recorded, or its recorded state forbids the change.
func (s *Store) expectOneRow(ctx context.Context, tx *sql.Tx, res sql.Result, id, change string) error {
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return err
	}
	var status string
	err = tx.StmtContext(ctx, s.stmts.status).QueryRowContext(ctx, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return &recordError{queue.ErrNotFound}
	}
	if err != nil {
		return err
	}
	return &recordError{fmt.Errorf("journal: cannot %s: it is already %s: %w", change, status, ErrConflict)}
}

// Get returns the recorded operation id, or queue.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (queue.Operation, error) {
	if err := s.enter(); err != nil {
		return queue.Operation{}, err
	}
	defer s.leave()
	row := s.stmts.byID.QueryRowContext(ctx, id)
	op, err := scanOne(row)
	return op, s.noteDamage(err)
}

// FindByKey returns the newest operation recorded on terminal with the
// idempotency key, submitted at or after since (any time if zero), or
// queue.ErrNotFound. An empty key matches nothing.
func (s *Store) FindByKey(ctx context.Context, terminal, key string, since time.Time) (queue.Operation, error) {
	if key == "" {
		return queue.Operation{}, queue.ErrNotFound
	}
	from := int64(math.MinInt64)
	if !since.IsZero() {
		from = clampNanos(since)
	}
	if err := s.enter(); err != nil {
		return queue.Operation{}, err
	}
	defer s.leave()
	row := s.stmts.byKey.QueryRowContext(ctx, terminal, key, from)
	op, err := scanOne(row)
	return op, s.noteDamage(err)
}

// Unfinished returns the operations recorded queued or running, in Seq
// order, for recovery at start.
func (s *Store) Unfinished(ctx context.Context) ([]queue.Operation, error) {
	var ops []queue.Operation
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectUnfinished)
		if err != nil {
			return err
		}
		ops, err = scanAll(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: read unfinished operations: %w", err)
	}
	return ops, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanOne(row *sql.Row) (queue.Operation, error) {
	op, err := scanOperation(row)
	if errors.Is(err, sql.ErrNoRows) {
		return queue.Operation{}, queue.ErrNotFound
	}
	if err != nil {
		return queue.Operation{}, fmt.Errorf("journal: read operation: %w", err)
	}
	return op, nil
}

func scanAll(rows *sql.Rows) ([]queue.Operation, error) {
	defer rows.Close()
	var ops []queue.Operation
	for rows.Next() {
		op, err := scanOperation(rows)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, rows.Err()
}

func scanOperation(row scanner) (queue.Operation, error) {
	var (
		op                          queue.Operation
		seq, timeout, submitted     int64
		status                      string
		params, result              sql.NullString
		started, finished, expireAt sql.NullInt64
		notBefore                   sql.NullInt64
	)
	err := row.Scan(&op.ID, &seq, &op.Name, &op.Terminal, &params, &op.Priority, &status,
		&result, &op.Message, &op.Error, &op.ErrorCode, &submitted, &started, &finished,
		&timeout, &expireAt, &op.SideEffect, &op.IdempotencyKey, &op.PayloadHash, &notBefore)
	if err != nil {
		return queue.Operation{}, err
	}
	op.Seq = uint64(seq)
	op.Status = queue.Status(status)
	op.Params = rawJSON(params)
	op.Result = rawJSON(result)
	op.SubmittedAt = time.Unix(0, submitted)
	op.StartedAt = fromNanos(started)
	op.FinishedAt = fromNanos(finished)
	op.ExpireAt = fromNanos(expireAt)
	op.NotBefore = fromNanos(notBefore)
	op.Timeout = time.Duration(timeout)
	return op, nil
}

// jsonText checks raw and gives its column value: NULL when absent.
func jsonText(field string, raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s is not valid JSON", field)
	}
	return string(raw), nil
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

// The times Unix nanoseconds can hold: years 1677 to 2262.
var (
	minNanosTime = time.Unix(0, math.MinInt64)
	maxNanosTime = time.Unix(0, math.MaxInt64)
)

// nanos gives t's column value: NULL for the zero time.
func nanos(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minNanosTime) || t.After(maxNanosTime) {
		return nil, fmt.Errorf("time %v is out of the journal's range (1678 to 2261)", t)
	}
	return t.UnixNano(), nil
}

// clampNanos gives t in Unix nanoseconds, clamped to the range they hold:
// for bounds of a search, where "after 3000" simply finds nothing.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanosTime):
		return math.MinInt64
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}

// constraint gives the extended result code of a constraint violation (the
// statement was undone alone, the transaction goes on), or 0.
func constraint(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se.Code()
	}
	return 0
}

// MaxSeq returns the highest sequence number recorded, 0 for an empty
// journal, so that the queue's numbering keeps rising across restarts.
func (s *Store) MaxSeq(ctx context.Context) (uint64, error) {
	var top int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM operations`).Scan(&top)
	})
	if err != nil {
		return 0, fmt.Errorf("journal: read the last sequence number: %w", err)
	}
	return uint64(top), nil
}
