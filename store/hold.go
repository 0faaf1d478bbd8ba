package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Writes held for an operation's outcome. A buy on the sim was two durable
// writes after its running record: the sim's ledger, then the outcome. The
// queue asks for a hold (HoldWrites) before it calls the driver; the ledger
// writes the driver makes under that ctx are kept here, not committed, and
// Finish commits them in the outcome's own transaction: one fsync instead
// of two, and a crash keeps both or neither (an interrupted buy never left
// an order in the sim's ledger).
//
// Order is what makes this safe. The ledger is a state replaced whole at
// each write, so a held state committed after a newer one would bring the
// account back in time. Every ledger write of a terminal therefore goes
// through holds.mu, which also covers its enqueue to the (FIFO) writer: a
// write from outside the operation (an operator's quote, a background
// match) and any read of the terminal's ledger first commit the writes held
// for that terminal, and a held write that outlived its operation's Finish
// is taken along by the next one. What a reader sees is every write made
// before it, held or not.

// holdKey is the context key of a hold.
type holdKey struct{}

// hold is what a driver wrote under one operation, waiting for its
// outcome. Guarded by holds.mu.
type hold struct {
	// closed: Finish has been called; writes made under the hold from now
	// on (a driver that outlived its deadline) are committed on their own.
	closed bool
	writes []heldWrite
}

type heldWrite struct {
	terminal string // the ledger's terminal, for ordering
	apply    applyFunc
}

// holds is the store's registry of the writes held per ledger terminal.
type holds struct {
	mu sync.Mutex
	// by is the hold that has writes for a ledger terminal; one at most:
	// a hold taking a write for a terminal takes over another's for it.
	by map[string]*hold
}

// HoldWrites implements queue.WriteHolder: the ledger writes made under the
// returned ctx wait for the Finish of an operation whose ctx carries the
// same hold, and commit in its transaction.
func (s *Store) HoldWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, holdKey{}, &hold{})
}

func holdOf(ctx context.Context) *hold {
	h, _ := ctx.Value(holdKey{}).(*hold)
	return h
}

// ledgerWrite commits a ledger write of terminal, or holds it when ctx
// carries an open hold (then it returns at once: it is durable with the
// operation's outcome).
func (s *Store) ledgerWrite(ctx context.Context, terminal string, apply applyFunc) (int64, error) {
	s.holds.mu.Lock()
	if h := holdOf(ctx); h != nil && !h.closed {
		if err := s.damage.get(); err != nil {
			s.holds.mu.Unlock()
			return 0, err
		}
		if old := s.holds.by[terminal]; old != nil && old != h {
			h.writes = append(old.take(terminal), h.writes...)
		}
		h.writes = append(h.writes, heldWrite{terminal, apply})
		s.holds.by[terminal] = h
		s.holds.mu.Unlock()
		return 0, nil
	}
	return s.commitWithHeld(ctx, terminal, apply)
}

// flushHeld commits the writes held for terminal, so that a read of its
// ledger sees them.
func (s *Store) flushHeld(ctx context.Context, terminal string) error {
	s.holds.mu.Lock()
	if s.holds.by[terminal] == nil {
		s.holds.mu.Unlock()
		return nil
	}
	_, err := s.commitWithHeld(ctx, terminal, nil)
	return err
}

// commitWithHeld commits the writes held for terminal and then apply (nil:
// none) in one write, and waits for it. Called with holds.mu held; it
// releases it once the write is enqueued. On failure the held writes go
// back, in front of any held since.
func (s *Store) commitWithHeld(ctx context.Context, terminal string, apply applyFunc) (int64, error) {
	var held []heldWrite
	owner := s.holds.by[terminal]
	if owner != nil {
		held = owner.take(terminal)
		delete(s.holds.by, terminal)
	}
	w, err := s.enqueue(ctx, atomically(held, apply))
	s.holds.mu.Unlock()
	var n int64
	if err == nil {
		n, err = s.await(w)
	}
	if err != nil {
		s.giveBack(owner, held)
	}
	return n, err
}

// take removes and returns h's writes for terminal. Called with holds.mu
// held.
func (h *hold) take(terminal string) []heldWrite {
	var taken, kept []heldWrite
	for _, w := range h.writes {
		if w.terminal == terminal {
			taken = append(taken, w)
		} else {
			kept = append(kept, w)
		}
	}
	h.writes = kept
	return taken
}

// takeAll closes h and removes all its writes from the registry.
// Called with holds.mu held.
func (s *Store) takeAll(h *hold) []heldWrite {
	h.closed = true
	held := h.writes
	h.writes = nil
	for _, w := range held {
		if s.holds.by[w.terminal] == h {
			delete(s.holds.by, w.terminal)
		}
	}
	return held
}

// giveBack puts held writes whose commit failed back into owner, the hold
// they were taken from (so that a retry of its Finish finds them), ahead of
// any held for their terminals since: they are older. When another hold
// has taken over a terminal meanwhile, they go to it, in front.
func (s *Store) giveBack(owner *hold, held []heldWrite) {
	if len(held) == 0 {
		return
	}
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	for i := len(held) - 1; i >= 0; i-- {
		w := held[i]
		h := s.holds.by[w.terminal]
		if h == nil {
			h = owner
			s.holds.by[w.terminal] = h
		}
		h.writes = append([]heldWrite{w}, h.writes...)
	}
}

// atomically applies held and then apply (nil: none) as one write: a
// write's own failure (a recordError) in any of them undoes all of them and
// fails the write, so that an outcome is never recorded without the ledger
// writes it answers for, nor those without it.
func atomically(held []heldWrite, apply applyFunc) applyFunc {
	if len(held) == 0 && apply != nil {
		return apply
	}
	return func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT held_writes`); err != nil {
			return 0, err
		}
		var n int64
		var err error
		for _, w := range held {
			if _, err = w.apply(ctx, tx); err != nil {
				break
			}
		}
		if err == nil && apply != nil {
			n, err = apply(ctx, tx)
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, `RELEASE held_writes`)
			return n, err
		}
		var rec *recordError
		if !errors.As(err, &rec) {
			return 0, err // the batch fails: nothing of it is recorded
		}
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO held_writes`); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		if _, rerr := tx.ExecContext(ctx, `RELEASE held_writes`); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		return 0, err
	}
}
