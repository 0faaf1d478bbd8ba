// Package queuetest holds what tests of the queue, and of what is built on
// it, need and brokerd itself does not: a Store in memory. It is a package
// of its own, not a file of queue, so that no binary carries it; the
// queue's own tests import it as package queue_test.
package queuetest

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// MemStore is a queue.Store that keeps everything in memory, for tests of the
// queue and of what is built on it. Nothing survives the process.
type MemStore struct {
	mu     sync.Mutex
	ops    map[string]queue.Operation
	paused map[string]bool
}

var _ queue.Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{ops: make(map[string]queue.Operation), paused: make(map[string]bool)}
}

func (s *MemStore) Append(_ context.Context, op queue.Operation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op.ID] = op
	return nil
}

func (s *MemStore) MarkRunning(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[id]
	if !ok {
		return queue.ErrNotFound
	}
	op.Status = queue.StatusRunning
	op.StartedAt = at
	s.ops[id] = op
	return nil
}

func (s *MemStore) Finish(_ context.Context, op queue.Operation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ops[op.ID]; !ok {
		return queue.ErrNotFound
	}
	s.ops[op.ID] = op
	return nil
}

func (s *MemStore) Get(_ context.Context, id string) (queue.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[id]
	if !ok {
		return queue.Operation{}, queue.ErrNotFound
	}
	return op, nil
}

func (s *MemStore) FindByKey(_ context.Context, terminal, key string, since time.Time) (queue.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found queue.Operation
	for _, op := range s.ops {
		if op.Terminal == terminal && op.IdempotencyKey == key && !op.SubmittedAt.Before(since) &&
			(found.ID == "" || op.Seq > found.Seq) {
			found = op
		}
	}
	if found.ID == "" {
		return queue.Operation{}, queue.ErrNotFound
	}
	return found, nil
}

func (s *MemStore) Unfinished(context.Context) ([]queue.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []queue.Operation
	for _, op := range s.ops {
		if !op.Status.Final() {
			out = append(out, op)
		}
	}
	slices.SortFunc(out, func(a, b queue.Operation) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

func (s *MemStore) MaxSeq(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var top uint64
	for _, op := range s.ops {
		top = max(top, op.Seq)
	}
	return top, nil
}

func (s *MemStore) SetPaused(_ context.Context, terminal string, paused bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused[terminal] = paused
	return nil
}

func (s *MemStore) PausedLanes(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, paused := range s.paused {
		if paused {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (s *MemStore) Amend(_ context.Context, id string, result []byte, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[id]
	if !ok {
		return queue.ErrNotFound
	}
	if !op.Status.Final() {
		return queue.ErrNotFinished
	}
	op.Result, op.Message = result, message
	s.ops[id] = op
	return nil
}
