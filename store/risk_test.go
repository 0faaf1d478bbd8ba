package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

func TestNotBeforeIsJournaled(t *testing.T) {
	path := t.TempDir() + "/brokerd.db"
	s := openAt(t, path, Options{})
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	held := queued("held", 1, at)
	held.NotBefore = at.Add(5 * time.Hour)
	appendOps(t, s, held, queued("now", 2, at))
	got, err := s.Get(context.Background(), "held")
	if err != nil || !got.NotBefore.Equal(held.NotBefore) {
		t.Fatalf("Get: not_before %v, %v; want %v", got.NotBefore, err, held.NotBefore)
	}
	ops, err := s.Unfinished(context.Background())
	if err != nil || len(ops) != 2 || !ops[0].NotBefore.Equal(held.NotBefore) || !ops[1].NotBefore.IsZero() {
		t.Fatalf("Unfinished: %v %v", ops, err)
	}
}

func TestSubmittedSinceServesTheDayCounters(t *testing.T) {
	s := openTest(t, Options{})
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	yesterday := queued("yesterday", 1, day.Add(-time.Minute))
	other := queued("other", 2, day.Add(time.Hour))
	other.Terminal = "ex"
	a, b := queued("a", 3, day), queued("b", 4, day.Add(2*time.Hour))
	appendOps(t, s, yesterday, other, a, b)
	must(t, s.Finish(context.Background(), finished(a, queue.StatusSuccess, day, day.Add(time.Second))))
	ops, err := s.SubmittedSince(context.Background(), "sim", day)
	if err != nil || !slices.Equal(ids(ops), []string{"a", "b"}) || ops[0].Status != queue.StatusSuccess {
		t.Fatalf("SubmittedSince: %v %v", ids(ops), err)
	}
	plan := strings.Join(queryPlan(t, s, selectSubmittedSince, "sim", int64(0)), "; ")
	if !strings.Contains(plan, "operations_terminal") || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("plan %q: want operations_terminal without a sort", plan)
	}
}

func TestHaltsAndSchedulePausesOutliveAReopen(t *testing.T) {
	path := t.TempDir() + "/brokerd.db"
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.SetHalt(ctx, "sim", true, "runaway", at))
	must(t, s.SetHalt(ctx, "ex", true, "", at))
	must(t, s.SetHalt(ctx, "ex", false, "", at))
	must(t, s.SetSchedulePaused(ctx, "daily-repo", true))
	must(t, s.SetSchedulePaused(ctx, "daily-repo", true)) // twice is once
	must(t, s.SetSchedulePaused(ctx, "snapshot", true))
	must(t, s.SetSchedulePaused(ctx, "snapshot", false))
	must(t, s.Close())

	s = openAt(t, path, Options{})
	halts, err := s.Halts(ctx)
	if err != nil || len(halts) != 1 || halts[0].Terminal != "sim" || halts[0].Reason != "runaway" || !halts[0].At.Equal(at) {
		t.Fatalf("halts %+v, %v", halts, err)
	}
	paused, err := s.PausedSchedules(ctx)
	if err != nil || !slices.Equal(paused, []string{"daily-repo"}) {
		t.Fatalf("paused schedules %v, %v", paused, err)
	}
}
