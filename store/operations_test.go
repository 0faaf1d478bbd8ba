package store

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	minimal := queue.Operation{ID: "min", Name: "balance_query", Terminal: "sim",
		Status: queue.StatusQueued, SubmittedAt: t0}
	tests := []struct {
		name   string
		op     queue.Operation
		finish func(op queue.Operation) queue.Operation // nil: stays queued
		run    bool                                     // MarkRunning before finishing
	}{
		{name: "every field, success", op: queued("all", 1, t0), run: true,
			finish: func(op queue.Operation) queue.Operation {
				return finished(op, queue.StatusSuccess, t0.Add(time.Second), t0.Add(2*time.Second))
			}},
		{name: "failed with code", op: queued("fail", 2, t0), run: true,
			finish: func(op queue.Operation) queue.Operation {
				return finished(op, queue.StatusFailed, t0.Add(time.Second), t0.Add(3*time.Second))
			}},
		{name: "cancelled while queued keeps no start", op: queued("cxl", 3, t0),
			finish: func(op queue.Operation) queue.Operation {
				op.Status, op.FinishedAt, op.ErrorCode, op.Error = queue.StatusCancelled, t0.Add(time.Second), queue.CodeExpired, "expired"
				return op
			}},
		{name: "minimal, zero times and no JSON", op: minimal},
		{name: "JSON null, unicode, huge seq", op: func() queue.Operation {
			op := queued("uni", math.MaxInt64, t0.In(time.FixedZone("CST", 8*3600)))
			op.Params = json.RawMessage(`null`)
			op.IdempotencyKey = "客户-1"
			return op
		}()},
		{name: "running only", op: queued("run", 4, t0), run: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.op
			appendOps(t, s, want)
			if tt.run {
				want.Status, want.StartedAt = queue.StatusRunning, t0.Add(time.Second)
				if err := s.MarkRunning(ctx, want.ID, want.StartedAt); err != nil {
					t.Fatalf("MarkRunning: %v", err)
				}
			}
			if tt.finish != nil {
				want = tt.finish(want)
				if err := s.Finish(ctx, want); err != nil {
					t.Fatalf("Finish: %v", err)
				}
			}
			got, err := s.Get(ctx, want.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if d := diffOperation(got, want); d != "" {
				t.Error(d)
			}
			if (got.Params == nil) != (want.Params == nil) || (got.Result == nil) != (want.Result == nil) {
				t.Errorf("nil JSON not kept: params %v result %v", got.Params == nil, got.Result == nil)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	appendOps(t, s, queued("dup", 1, t0))
	tests := []struct {
		name    string
		change  func(*queue.Operation)
		wantErr string
		is      error
	}{
		{"no id", func(op *queue.Operation) { op.ID = "" }, "no id", nil},
		{"no name", func(op *queue.Operation) { op.Name = "" }, "no name", nil},
		{"no terminal", func(op *queue.Operation) { op.Terminal = "" }, "no terminal", nil},
		{"finished", func(op *queue.Operation) { op.Status = queue.StatusSuccess }, "must be queued or running", nil},
		{"running without a start", func(op *queue.Operation) { op.Status = queue.StatusRunning }, "no start time", nil},
		{"no submission time", func(op *queue.Operation) { op.SubmittedAt = time.Time{} }, "no submission time", nil},
		{"seq beyond int64", func(op *queue.Operation) { op.Seq = math.MaxInt64 + 1 }, "out of range", nil},
		{"negative timeout", func(op *queue.Operation) { op.Timeout = -time.Second }, "negative timeout", nil},
		{"bad params", func(op *queue.Operation) { op.Params = json.RawMessage(`{"a":`) }, "params is not valid JSON", nil},
		{"bad result", func(op *queue.Operation) { op.Result = json.RawMessage(`nope`) }, "result is not valid JSON", nil},
		{"time out of range", func(op *queue.Operation) { op.ExpireAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, "out of the journal's range", nil},
		{"duplicate id", func(op *queue.Operation) {}, "already recorded", ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := queued("dup", 2, t0)
			if tt.name != "duplicate id" {
				op.ID = "new-" + strings.ReplaceAll(tt.name, " ", "-")
			}
			tt.change(&op)
			err := s.Append(ctx, op)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Append = %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Append = %v, want errors.Is %v", err, tt.is)
			}
			if op.ID != "" && op.ID != "dup" {
				if _, err := s.Get(ctx, op.ID); !errors.Is(err, queue.ErrNotFound) {
					t.Errorf("rejected %s was recorded: Get = %v", op.ID, err)
				}
			}
		})
	}
	// The duplicate did not change the first record.
	got, err := s.Get(ctx, "dup")
	if err != nil || got.Seq != 1 {
		t.Errorf("Get(dup) = seq %d, %v; want the first record, seq 1", got.Seq, err)
	}
}

func TestStateChanges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	appendOps(t, s, queued("q", 1, t0), queued("r", 2, t0), queued("f", 3, t0))
	if err := s.MarkRunning(ctx, "r", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, finished(queued("f", 3, t0), queue.StatusSuccess, t0, t0)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		change  func() error
		is      error
		wantErr string
	}{
		{"mark missing running", func() error { return s.MarkRunning(ctx, "nope", t0) }, queue.ErrNotFound, ""},
		{"mark running twice", func() error { return s.MarkRunning(ctx, "r", t0) }, ErrConflict, "already running"},
		{"mark finished running", func() error { return s.MarkRunning(ctx, "f", t0) }, ErrConflict, "already success"},
		{"mark with no time", func() error { return s.MarkRunning(ctx, "q", time.Time{}) }, nil, "bad start time"},
		{"finish missing", func() error { return s.Finish(ctx, finished(queued("nope", 9, t0), queue.StatusFailed, t0, t0)) }, queue.ErrNotFound, ""},
		{"finish twice", func() error { return s.Finish(ctx, finished(queued("f", 3, t0), queue.StatusFailed, t0, t0)) }, ErrConflict, "already success"},
		{"finish with running", func() error {
			op := queued("q", 1, t0)
			op.Status = queue.StatusRunning
			return s.Finish(ctx, op)
		}, nil, "not a final status"},
		{"finish with bad result", func() error {
			op := finished(queued("q", 1, t0), queue.StatusSuccess, t0, t0)
			op.Result = json.RawMessage("{")
			return s.Finish(ctx, op)
		}, nil, "result is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.change()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	// None of the refused changes touched the records.
	for id, want := range map[string]queue.Status{"q": queue.StatusQueued, "r": queue.StatusRunning, "f": queue.StatusSuccess} {
		if got, err := s.Get(ctx, id); err != nil || got.Status != want {
			t.Errorf("Get(%s) = %s, %v; want %s", id, got.Status, err, want)
		}
	}
	// A queued operation may be finished directly (cancelled, expired, or
	// failed because MarkRunning could not be journaled).
	if err := s.Finish(ctx, finished(queued("q", 1, t0), queue.StatusCancelled, time.Time{}, t0)); err != nil {
		t.Errorf("Finish(queued) = %v", err)
	}
}

func TestGetMissing(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.Get(context.Background(), "nope"); err != queue.ErrNotFound {
		t.Errorf("Get = %v, want queue.ErrNotFound itself", err)
	}
}

func TestUnfinishedInSeqOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if got, err := s.Unfinished(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Unfinished on an empty journal = %v, %v", got, err)
	}
	// Appended out of Seq order, on two terminals, some finished.
	for _, seq := range []uint64{7, 3, 9, 1, 5, 2, 8} {
		op := queued(string(rune('a'+seq)), seq, t0.Add(-time.Duration(seq)*time.Second))
		if seq%2 == 0 {
			op.Terminal = "other"
		}
		appendOps(t, s, op)
	}
	must(t, s.MarkRunning(ctx, "d", t0)) // seq 3
	must(t, s.MarkRunning(ctx, "j", t0)) // seq 9
	must(t, s.Finish(ctx, finished(queued("j", 9, t0), queue.StatusSuccess, t0, t0)))
	must(t, s.Finish(ctx, finished(queued("c", 2, t0), queue.StatusCancelled, time.Time{}, t0)))

	got, err := s.Unfinished(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "d", "f", "h", "i"}; !slices.Equal(ids(got), want) {
		t.Errorf("Unfinished = %v, want %v (seq 1, 3, 5, 7, 8)", ids(got), want)
	}
	if got[1].Status != queue.StatusRunning || got[0].Status != queue.StatusQueued {
		t.Errorf("statuses = %s, %s; want queued, running", got[0].Status, got[1].Status)
	}
	// MaxSeq counts finished ones too: seq 9 is finished.
	if top, err := s.MaxSeq(ctx); err != nil || top != 9 {
		t.Errorf("MaxSeq = %d, %v; want 9", top, err)
	}
}

func TestMaxSeqOfAnEmptyJournal(t *testing.T) {
	s := openTest(t, Options{})
	if top, err := s.MaxSeq(context.Background()); err != nil || top != 0 {
		t.Errorf("MaxSeq = %d, %v; want 0", top, err)
	}
}

func TestFindByKey(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	op := func(id, terminal, key string, at time.Time, seq uint64) queue.Operation {
		o := queued(id, seq, at)
		o.Terminal, o.IdempotencyKey = terminal, key
		return o
	}
	appendOps(t, s,
		op("old", "sim", "k1", t0.Add(-48*time.Hour), 1),
		op("new", "sim", "k1", t0, 2),
		op("tie", "sim", "k2", t0, 3),
		op("tie-later-seq", "sim", "k2", t0, 4),
		op("other-terminal", "ths", "k1", t0.Add(time.Hour), 5),
		op("no-key", "sim", "", t0, 6),
	)
	tests := []struct {
		name          string
		terminal, key string
		since         time.Time
		want          string // "" for ErrNotFound
	}{
		{"newest of a key", "sim", "k1", time.Time{}, "new"},
		{"since excludes older", "sim", "k1", t0.Add(-24 * time.Hour), "new"},
		{"since is inclusive", "sim", "k1", t0, "new"},
		{"since after all", "sim", "k1", t0.Add(time.Nanosecond), ""},
		{"scoped per terminal", "ths", "k1", time.Time{}, "other-terminal"},
		{"unknown terminal", "nope", "k1", time.Time{}, ""},
		{"same time: higher seq", "sim", "k2", time.Time{}, "tie-later-seq"},
		{"unknown key", "sim", "k3", time.Time{}, ""},
		{"empty key matches nothing", "sim", "", time.Time{}, ""},
		{"since before 1678", "sim", "k1", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindByKey(ctx, tt.terminal, tt.key, tt.since)
			if tt.want == "" {
				if err != queue.ErrNotFound {
					t.Errorf("FindByKey = %s, %v; want queue.ErrNotFound", got.ID, err)
				}
				return
			}
			if err != nil || got.ID != tt.want {
				t.Errorf("FindByKey = %s, %v; want %s", got.ID, err, tt.want)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
