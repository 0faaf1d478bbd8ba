package queue_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
	"github.com/brokerd/brokerd/store"
)

// finalCounter is an Observer that counts final states per operation.
type finalCounter struct {
	mu     sync.Mutex
	finals map[string]int
}

func (f *finalCounter) OperationChanged(op Operation) {
	if !op.Status.Final() {
		return
	}
	f.mu.Lock()
	f.finals[op.ID]++
	f.mu.Unlock()
}

func (f *finalCounter) LaneChanged(string, LaneState) {}

// TestStress has many goroutines submit, wait and cancel at once on several
// lanes, on the wall clock with short deadlines and expiries, and checks the
// invariants: a lane never runs two operations at once, each operation
// reaches exactly one final state, the journal agrees, and no waiter hangs.
//
// It runs on the in-memory store, and on the SQLite journal, whose merged
// writes (an idle lane's submit journaled running, the handover from one
// operation to the next, the outcome's held writes) are then all in play;
// there every order must also find itself journaled running when its
// executor is called.
func TestStress(t *testing.T) {
	t.Run("memory", func(t *testing.T) { stress(t, queuetest.NewMemStore()) })
	t.Run("sqlite journal", func(t *testing.T) {
		journal, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer journal.Close()
		stress(t, journal)
	})
}

func stress(t *testing.T, store Store) {
	const (
		lanes     = 3
		clients   = 24
		perClient = 40
	)
	counter := &finalCounter{finals: map[string]int{}}
	var overlaps atomic.Int32
	var laneList []Lane
	for i := range lanes {
		var busy atomic.Int32
		laneList = append(laneList, Lane{Terminal: fmt.Sprint("t", i), Execute: func(ctx context.Context, op Operation) (Result, error) {
			if busy.Add(1) != 1 {
				overlaps.Add(1)
			}
			defer busy.Add(-1)
			if op.SideEffect {
				// Running, or already failed for a deadline that passed
				// before this goroutine was scheduled; never queued.
				got, err := store.Get(context.WithoutCancel(ctx), op.ID)
				if err != nil || got.Status == StatusQueued || got.Status != StatusRunning && ctx.Err() == nil {
					t.Errorf("order %s called while the journal says %s (%v)", op.ID, got.Status, err)
				}
			}
			switch op.Name {
			case "slow": // ignores its deadline for a while
				time.Sleep(3 * time.Millisecond)
			case "ctx":
				<-ctx.Done()
				return Result{}, ctx.Err()
			case "fail":
				return Result{}, errors.New("refused")
			case "panic":
				panic("boom")
			}
			return Result{Message: "ok"}, nil
		}})
	}
	q, err := New(Config{MaxSize: 50, DefaultTimeout: time.Millisecond},
		laneList, Deps{Clock: RealClock{}, Store: store, Observer: counter})
	if err != nil {
		t.Fatal(err)
	}
	q.Start()

	names := []string{"ok", "ok", "ok", "slow", "ctx", "fail", "panic"}
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for range perClient {
				req := Request{
					Name:       names[rng.IntN(len(names))],
					Terminal:   fmt.Sprint("t", rng.IntN(lanes)),
					Priority:   rng.IntN(11),
					SideEffect: rng.IntN(3) != 0,
				}
				if rng.IntN(5) == 0 {
					req.ExpireAfter = time.Duration(rng.IntN(3)) * time.Millisecond
				}
				if rng.IntN(4) == 0 {
					req.IdempotencyKey = fmt.Sprint("k", rng.IntN(20))
				}
				s, err := q.Submit(context.Background(), req)
				if errors.Is(err, ErrQueueFull) || errors.Is(err, ErrKeyConflict) {
					continue
				}
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				mu.Lock()
				ids = append(ids, s.Operation.ID)
				mu.Unlock()
				if rng.IntN(3) == 0 {
					q.Cancel(context.Background(), s.Operation.ID)
				}
				if rng.IntN(2) == 0 {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					op, err := q.Wait(ctx, s.Operation.ID)
					cancel()
					if err != nil || !op.Status.Final() {
						t.Errorf("wait %s: %s, %v", s.Operation.ID, op.Status, err)
					}
				}
			}
		}()
	}
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range ids {
		op, err := q.Wait(ctx, id)
		if err != nil || !op.Status.Final() {
			t.Fatalf("wait %s: %s, %v", id, op.Status, err)
		}
		stored, err := store.Get(ctx, id)
		if err != nil || stored.Status != op.Status || stored.ErrorCode != op.ErrorCode {
			t.Errorf("journal %s: %s/%s, queue says %s/%s", id, stored.Status, stored.ErrorCode, op.Status, op.ErrorCode)
		}
	}
	if err := q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("a lane ran two operations at once %d times", n)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for _, id := range ids {
		if n := counter.finals[id]; n != 1 {
			t.Errorf("operation %s reached %d final states", id, n)
		}
	}
	st := q.Stats()
	if int(st.Success+st.Failed+st.Cancelled) != len(counter.finals) {
		t.Errorf("stats count %d finals, observer %d", st.Success+st.Failed+st.Cancelled, len(counter.finals))
	}
	t.Logf("%d operations: %d success, %d failed, %d cancelled", len(counter.finals), st.Success, st.Failed, st.Cancelled)
}
