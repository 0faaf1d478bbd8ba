package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const (
	// maxBatch bounds the records of one transaction, so that one commit
	// never holds its first caller back for long.
	maxBatch = 256
	// writeQueueDepth is how many writes may wait for the writer; beyond
	// it callers wait to enqueue (and may give up through their ctx).
	writeQueueDepth = 1024
)

// A write is one caller's change, applied by the writer goroutine inside a
// batch's transaction. apply returns a *recordError for a failure of its own
// that leaves the transaction usable; any other error fails the batch.
type write struct {
	apply applyFunc
	done  chan writeResult // buffered: the writer never blocks on a caller
}

type writeResult struct {
	n   int64 // rows affected, for Prune
	err error
}

// recordError is a write's own failure (a missing row, a forbidden state
// change, a constraint) that SQLite undid alone: statements are atomic, so
// the other writes of the batch still commit.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }

// applyFunc is one write's change, applied inside a batch's transaction.
type applyFunc = func(ctx context.Context, tx *sql.Tx) (int64, error)

// submit hands apply to the writer and waits for the commit of the
// transaction that holds it. ctx bounds only the wait to be enqueued: once
// the writer has the write, it is committed or reported failed, never
// abandoned half way, so that an error always means "not recorded".
// Writes are applied in the order they were enqueued: the writes of one
// operation, each awaited before the next is made, keep their order.
func (s *Store) submit(ctx context.Context, apply applyFunc) (int64, error) {
	w, err := s.enqueue(ctx, apply)
	if err != nil {
		return 0, err
	}
	return s.await(w)
}

// enqueue hands apply to the writer without waiting for its commit; the
// writer applies writes in the order they were enqueued.
func (s *Store) enqueue(ctx context.Context, apply applyFunc) (*write, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nothing recorded: %w", err)
	}
	if err := s.damage.get(); err != nil {
		return nil, err // a damaged journal records nothing more: see Health
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	w := &write{apply: apply, done: make(chan writeResult, 1)}
	select {
	case s.writes <- w:
		s.leave()
	case <-ctx.Done():
		s.leave()
		return nil, fmt.Errorf("nothing recorded: %w", ctx.Err())
	}
	return w, nil
}

// await waits for an enqueued write's commit.
func (s *Store) await(w *write) (int64, error) {
	r := <-w.done
	return r.n, s.noteDamage(r.err)
}

// runWriter is the writer goroutine, started by Open. It ends when Close
// closes s.writes, after committing every write handed to it.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	batch := make([]*write, 0, maxBatch)
	results := make([]writeResult, maxBatch)
	for first := range s.writes {
		batch = append(batch[:0], first)
		batch = gather(s.writes, batch)
		began := time.Now()
		err := s.commit(batch, results)
		s.stats.observe(len(batch), time.Since(began), err != nil)
		for i, w := range batch {
			if err != nil {
				w.done <- writeResult{err: err}
			} else {
				w.done <- results[i]
			}
			batch[i] = nil
		}
	}
}

// gather adds the writes that are already waiting, without waiting for
// more: the batch is whatever arrived while the previous commit was syncing.
func gather(writes <-chan *write, batch []*write) []*write {
	for len(batch) < maxBatch {
		select {
		case w, ok := <-writes:
			if !ok {
				return batch
			}
			batch = append(batch, w)
		default:
			return batch
		}
	}
	return batch
}

// commit applies batch in one transaction, in order. It returns an error
// when the transaction did not commit: then none of the batch is recorded.
func (s *Store) commit(batch []*write, results []writeResult) error {
	ctx := context.Background() // the writes are accepted: see submit
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal write failed, nothing recorded: %w", err)
	}
	for i, w := range batch {
		n, err := w.apply(ctx, tx)
		var rec *recordError
		switch {
		case errors.As(err, &rec):
			results[i] = writeResult{err: rec.err}
		case err != nil:
			tx.Rollback() //nolint:errcheck // the write's error says more
			return fmt.Errorf("journal write failed, nothing recorded: %w", err)
		default:
			results[i] = writeResult{n: n}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal commit failed, nothing recorded: %w", err)
	}
	return nil
}
