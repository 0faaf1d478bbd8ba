package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// historyFixture journals 12 operations, one a minute from t0: on terminals
// a and b alternately, named buy except every third (sell), and in turn
// success, failed, cancelled, queued. The last two share a submission time
// so that Seq breaks the tie.
func historyFixture(t *testing.T) *Store {
	t.Helper()
	return historyFixtureWith(t, Options{})
}

func historyFixtureWith(t *testing.T, opts Options) *Store {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, opts)
	statuses := []queue.Status{queue.StatusSuccess, queue.StatusFailed, queue.StatusCancelled, queue.StatusQueued}
	for i := range 12 {
		at := t0.Add(time.Duration(min(i, 10)) * time.Minute)
		op := queued(fmt.Sprintf("op%02d", i), uint64(i+1), at)
		op.Terminal = []string{"a", "b"}[i%2]
		if i%3 == 0 {
			op.Name = "sell"
		}
		appendOps(t, s, op)
		if st := statuses[i%4]; st.Final() {
			must(t, s.Finish(ctx, finished(op, st, at, at.Add(time.Second))))
		}
	}
	return s
}

func TestHistory(t *testing.T) {
	s := historyFixture(t)
	newestFirst := []string{"op11", "op10", "op09", "op08", "op07", "op06", "op05", "op04", "op03", "op02", "op01", "op00"}
	tests := []struct {
		name      string
		f         HistoryFilter
		want      []string
		wantTotal int
	}{
		{"all, newest first, seq breaks ties", HistoryFilter{}, newestFirst, 12},
		{"first page", HistoryFilter{Limit: 5}, newestFirst[:5], 12},
		{"second page", HistoryFilter{Limit: 5, Offset: 5}, newestFirst[5:10], 12},
		{"last partial page", HistoryFilter{Limit: 5, Offset: 10}, newestFirst[10:], 12},
		{"offset past the end", HistoryFilter{Limit: 5, Offset: 12}, nil, 12},
		{"status", HistoryFilter{Status: queue.StatusFailed}, []string{"op09", "op05", "op01"}, 3},
		{"queued", HistoryFilter{Status: queue.StatusQueued}, []string{"op11", "op07", "op03"}, 3},
		{"name", HistoryFilter{Name: "sell"}, []string{"op09", "op06", "op03", "op00"}, 4},
		{"terminal", HistoryFilter{Terminal: "a", Limit: 2}, []string{"op10", "op08"}, 6},
		{"since is inclusive", HistoryFilter{Since: t0.Add(9 * time.Minute)}, []string{"op11", "op10", "op09"}, 3},
		{"until is exclusive", HistoryFilter{Until: t0.Add(2 * time.Minute)}, []string{"op01", "op00"}, 2},
		{"window", HistoryFilter{Since: t0.Add(3 * time.Minute), Until: t0.Add(6 * time.Minute)}, []string{"op05", "op04", "op03"}, 3},
		{"all filters", HistoryFilter{Status: queue.StatusSuccess, Name: "buy", Terminal: "a",
			Since: t0.Add(time.Minute), Until: t0.Add(11 * time.Minute)}, []string{"op08", "op04"}, 2},
		{"nothing matches", HistoryFilter{Name: "repo"}, nil, 0},
		{"window in another zone", HistoryFilter{Since: t0.Add(10 * time.Minute).In(time.FixedZone("CST", 8*3600))},
			[]string{"op11", "op10"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := s.History(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) || total != tt.wantTotal {
				t.Errorf("History = %v total %d, want %v total %d", ids(got), total, tt.want, tt.wantTotal)
			}
		})
	}
}

func TestHistoryReturnsWholeOperations(t *testing.T) {
	s := openTest(t, Options{})
	op := queued("x", 1, t0)
	appendOps(t, s, op)
	op = finished(op, queue.StatusSuccess, t0.Add(time.Second), t0.Add(2*time.Second))
	must(t, s.Finish(context.Background(), op))
	got, _, err := s.History(context.Background(), HistoryFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("History = %v, %v", got, err)
	}
	if d := diffOperation(got[0], op); d != "" {
		t.Error(d)
	}
}

func TestHistoryDefaultLimit(t *testing.T) {
	s := openTest(t, Options{})
	for i := range DefaultHistoryLimit + 1 {
		appendOps(t, s, queued(fmt.Sprint(i), uint64(i), t0.Add(time.Duration(i))))
	}
	got, total, err := s.History(context.Background(), HistoryFilter{})
	if err != nil || len(got) != DefaultHistoryLimit || total != DefaultHistoryLimit+1 {
		t.Errorf("History = %d operations, total %d, %v; want %d of %d", len(got), total, err, DefaultHistoryLimit, DefaultHistoryLimit+1)
	}
}

func TestHistoryFilterValidation(t *testing.T) {
	s := openTest(t, Options{})
	tests := []struct {
		name  string
		f     HistoryFilter
		field string
	}{
		{"unknown status", HistoryFilter{Status: "done"}, "status"},
		{"negative limit", HistoryFilter{Limit: -1}, "limit"},
		{"limit too large", HistoryFilter{Limit: MaxHistoryLimit + 1}, "limit"},
		{"negative offset", HistoryFilter{Offset: -1}, "offset"},
		{"until before since", HistoryFilter{Since: t0, Until: t0.Add(-time.Second)}, "until"},
		{"until equals since", HistoryFilter{Since: t0, Until: t0}, "until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.History(context.Background(), tt.f)
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("History = %v, want a FilterError on %s", err, tt.field)
			}
			if fe.ErrorCode() != "invalid_params" || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q code %q", err, fe.ErrorCode())
			}
		})
	}
	if _, _, err := s.History(context.Background(), HistoryFilter{Limit: MaxHistoryLimit}); err != nil {
		t.Errorf("History(limit %d) = %v", MaxHistoryLimit, err)
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name       string
		batch      int
		before     time.Time
		wantPruned int64
		wantLeft   []string
	}{
		// historyFixture: op i submitted at t0+i min (op11 at t0+10);
		// op03, op07, op11 are queued.
		{"nothing before", 500, t0, 0, nil},
		{"zero time prunes nothing", 500, time.Time{}, 0, nil},
		{"finished before 6 min, one batch", 500, t0.Add(6 * time.Minute), 5, []string{"op03"}},
		{"many small batches", 2, t0.Add(6 * time.Minute), 5, []string{"op03"}},
		{"batch of exactly what is left", 9, t0.Add(time.Hour), 9, []string{"op03", "op07", "op11"}},
		{"everything finished", 1, t0.Add(time.Hour), 9, []string{"op03", "op07", "op11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := historyFixture(t)
			s.pruneBatch = tt.batch
			n, err := s.Prune(context.Background(), tt.before)
			if err != nil || n != tt.wantPruned {
				t.Fatalf("Prune = %d, %v; want %d", n, err, tt.wantPruned)
			}
			got, total, err := s.History(context.Background(), HistoryFilter{Until: tt.before})
			if tt.before.IsZero() {
				got, total, err = s.History(context.Background(), HistoryFilter{})
				if total != 12 {
					t.Errorf("%d operations left, want all 12", total)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(got)
			if !slices.Equal(ids(got), tt.wantLeft) {
				t.Errorf("left before the cutoff: %v, want %v", ids(got), tt.wantLeft)
			}
			if all, _, _ := s.History(context.Background(), HistoryFilter{}); len(all) != 12-int(n) {
				t.Errorf("%d operations left in all, want %d", len(all), 12-n)
			}
		})
	}
}

func TestPruneStopsOnContext(t *testing.T) {
	s := historyFixtureWith(t, Options{BusyTimeout: heldBusyTimeout})
	ctx, cancel := context.WithCancel(context.Background())
	s.pruneBatch = 1
	lock := lockOutside(t, s.Path())
	type result struct {
		n   int64
		err error
	}
	pruned := make(chan result, 1)
	go func() {
		n, err := s.Prune(ctx, t0.Add(time.Hour))
		pruned <- result{n, err}
	}()
	// The writer has the first batch's delete: it is committed whatever
	// becomes of ctx, and the next batch is never enqueued.
	waitInTransaction(t, s)
	cancel()
	lock.release()
	if r := <-pruned; !errors.Is(r.err, context.Canceled) || r.n != 1 {
		t.Errorf("Prune = %d, %v; want 1 deleted and context.Canceled", r.n, r.err)
	}
	if _, total, err := s.History(context.Background(), HistoryFilter{}); err != nil || total != 11 {
		t.Errorf("%d operations left, %v; want 11", total, err)
	}
}
