package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// Amend completes a finished operation's result and message, keeps its
// status, and refuses what has not finished or does not exist.
func TestAmend(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	done, open := queued("done", 1, at), queued("open", 2, at)
	appendOps(t, s, done, open)
	end := finished(done, queue.StatusFailed, at, at.Add(time.Second))
	if err := s.Finish(ctx, end); err != nil {
		t.Fatal(err)
	}
	if err := s.Amend(ctx, "done", json.RawMessage(`{"settled_at":"2026-12-02T01:00:05Z"}`), "settled"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "done")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != queue.StatusFailed || got.ErrorCode != "rejected" || string(got.Result) != `{"settled_at":"2026-12-02T01:00:05Z"}` || got.Message != "settled" {
		t.Errorf("amended: %+v", got)
	}
	if err := s.Amend(ctx, "open", json.RawMessage(`{}`), "x"); !errors.Is(err, queue.ErrNotFinished) {
		t.Errorf("amend a queued operation: %v", err)
	}
	if err := s.Amend(ctx, "nope", json.RawMessage(`{}`), "x"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("amend an unknown operation: %v", err)
	}
	if err := s.Amend(ctx, "done", json.RawMessage(`{"bad`), "x"); err == nil {
		t.Error("amend with bad JSON was taken")
	}
}
