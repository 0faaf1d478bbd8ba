package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// t0 is the tests' clock: a fixed instant, never the wall clock.
var t0 = time.Date(2025, 3, 14, 9, 30, 0, 123456789, time.UTC)

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "brokerd.db"), opts)
}

func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// queued is a fresh operation with every field a queued one may have.
func queued(id string, seq uint64, at time.Time) queue.Operation {
	return queue.Operation{
		ID:             id,
		Name:           "buy",
		Terminal:       "sim",
		Params:         json.RawMessage(`{"stock_code":"600000","price":10.5,"quantity":100}`),
		Priority:       3,
		Status:         queue.StatusQueued,
		SubmittedAt:    at,
		Timeout:        30 * time.Second,
		ExpireAt:       at.Add(time.Minute),
		SideEffect:     true,
		IdempotencyKey: "key-" + id,
		PayloadHash:    "sha256:" + id,
		Seq:            seq,
	}
}

// appendOps appends ops, failing the test on any error.
func appendOps(t testing.TB, s *Store, ops ...queue.Operation) {
	t.Helper()
	for _, op := range ops {
		if err := s.Append(context.Background(), op); err != nil {
			t.Fatalf("Append(%s): %v", op.ID, err)
		}
	}
}

// finished returns op as the queue finishes it: ran from start to end with status.
func finished(op queue.Operation, status queue.Status, start, end time.Time) queue.Operation {
	op.Status = status
	op.StartedAt = start
	op.FinishedAt = end
	op.Result = json.RawMessage(`{"entrust_no":"` + op.ID + `"}`)
	op.Message = "done " + op.ID
	if status != queue.StatusSuccess {
		op.Error = "broker said no"
		op.ErrorCode = "rejected"
	}
	return op
}

// diffOperation describes how got differs from want, "" when equal; times
// are compared as instants.
func diffOperation(got, want queue.Operation) string {
	type norm struct {
		queue.Operation
		Submitted, Started, Finished, Expire int64
	}
	n := func(op queue.Operation) string {
		nanos := func(t time.Time) int64 {
			if t.IsZero() {
				return 0
			}
			return t.UnixNano()
		}
		x := norm{op, nanos(op.SubmittedAt), nanos(op.StartedAt), nanos(op.FinishedAt), nanos(op.ExpireAt)}
		x.SubmittedAt, x.StartedAt, x.FinishedAt, x.ExpireAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		return fmt.Sprintf("%+v params=%s result=%s", x, x.Params, x.Result)
	}
	if g, w := n(got), n(want); g != w {
		return fmt.Sprintf("\n got %s\nwant %s", g, w)
	}
	return ""
}

func ids(ops []queue.Operation) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.ID
	}
	return out
}
