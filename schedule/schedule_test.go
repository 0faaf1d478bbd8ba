package schedule

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// fakeClock moves only when told; armed tells the test that the scheduler
// has set its timer (and so is waiting).
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan time.Time
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan time.Time, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) queue.Timer {
	c.mu.Lock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.armed <- t.at
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Set moves the clock to at and runs the timers due.
func (c *fakeClock) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(at) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// fakeBrokerd is the submitter and the journal: keys already used answer
// as duplicates, as the queue does.
type fakeBrokerd struct {
	mu     sync.Mutex
	keys   map[string]string
	paused map[string]bool
	fired  chan Firing
	n      int
}

func newFakeBrokerd() *fakeBrokerd {
	return &fakeBrokerd{keys: map[string]string{}, paused: map[string]bool{}, fired: make(chan Firing, 100)}
}

func (b *fakeBrokerd) SubmitFiring(_ context.Context, f Firing) (string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, ok := b.keys[f.IdempotencyKey]; ok {
		return id, true, nil
	}
	b.n++
	id := "op-" + string(rune('0'+b.n))
	b.keys[f.IdempotencyKey] = id
	b.fired <- f
	return id, false, nil
}

func (b *fakeBrokerd) SetSchedulePaused(_ context.Context, name string, paused bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused[name] = paused
	return nil
}

func (b *fakeBrokerd) PausedSchedules(context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for n, p := range b.paused {
		if p {
			out = append(out, n)
		}
	}
	return out, nil
}

func (b *fakeBrokerd) FindByKey(_ context.Context, _, key string, _ time.Time) (queue.Operation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, ok := b.keys[key]; ok {
		return queue.Operation{ID: id}, nil
	}
	return queue.Operation{}, queue.ErrNotFound
}

var repo = Spec{Name: "daily-repo", Operation: "reverse_repo_buy", Terminal: "sim",
	Params: json.RawMessage(`{"market":"上海","time_range":"1天期","amount":10000}`), Cron: "55 14 * * 1-5"}

// running starts a scheduler and returns a stop that waits for it.
func running(t *testing.T, clock *fakeClock, b *fakeBrokerd, specs ...Spec) (*Scheduler, func()) {
	t.Helper()
	s, err := New(specs, Deps{Clock: clock, Submitter: b, Journal: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	return s, func() {
		cancel()
		<-done
	}
}

func armed(t *testing.T, c *fakeClock) time.Time {
	t.Helper()
	select {
	case at := <-c.armed:
		return at
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduler never set its timer")
		return time.Time{}
	}
}

func fired(t *testing.T, b *fakeBrokerd) Firing {
	t.Helper()
	select {
	case f := <-b.fired:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("nothing fired")
		return Firing{}
	}
}

func noFiring(t *testing.T, b *fakeBrokerd) {
	t.Helper()
	select {
	case f := <-b.fired:
		t.Fatalf("fired %s at slot %v", f.Schedule, f.Slot)
	default:
	}
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, China) // Dec 2 2026 is a Wednesday
}

func TestFiresOnWeekdaysAtTheSlotWithAKeyPerSlot(t *testing.T) {
	clock := newFakeClock(at(2, 9, 0))
	b := newFakeBrokerd()
	s, stop := running(t, clock, b, repo)
	defer stop()
	if got := armed(t, clock); !got.Equal(at(2, 14, 55)) {
		t.Fatalf("timer for %v; want 14:55 today", got)
	}
	if st := s.List()[0]; st.NextRun == nil || !st.NextRun.Equal(at(2, 14, 55)) || st.LastRun != nil {
		t.Fatalf("listed %+v", st)
	}
	clock.Set(at(2, 14, 55))
	f := fired(t, b)
	if f.IdempotencyKey != "schedule:daily-repo:2026-12-02T14:55+08:00" || f.Operation != "reverse_repo_buy" || f.Terminal != "sim" {
		t.Fatalf("firing %+v", f)
	}
	// Thursday, Friday, then Monday: the weekend is skipped.
	for _, want := range []time.Time{at(3, 14, 55), at(4, 14, 55), at(7, 14, 55)} {
		if got := armed(t, clock); !got.Equal(want) {
			t.Fatalf("next timer %v; want %v", got, want)
		}
		clock.Set(want)
		if f := fired(t, b); !f.Slot.Equal(want) {
			t.Fatalf("fired slot %v; want %v", f.Slot, want)
		}
	}
	armed(t, clock)
	if st := s.List()[0]; st.LastRun == nil || st.LastRun.OperationID != "op-4" || !st.LastRun.Slot.Equal(at(7, 14, 55)) {
		t.Fatalf("last run %+v", st.LastRun)
	}
}

func TestMissedSlotSkipped(t *testing.T) {
	clock := newFakeClock(at(2, 15, 30)) // brokerd was down at 14:55
	b := newFakeBrokerd()
	_, stop := running(t, clock, b, repo)
	defer stop()
	if got := armed(t, clock); !got.Equal(at(3, 14, 55)) {
		t.Fatalf("timer %v; want tomorrow", got)
	}
	noFiring(t, b)
}

func TestMissedSlotRunWithinGraceAndOnlyOnceAcrossRestarts(t *testing.T) {
	spec := repo
	spec.Missed, spec.Grace = MissedRun, time.Hour
	b := newFakeBrokerd()

	clock := newFakeClock(at(2, 15, 30)) // 35 minutes late: within grace
	_, stop := running(t, clock, b, spec)
	f := fired(t, b)
	if !f.Slot.Equal(at(2, 14, 55)) {
		t.Fatalf("caught up slot %v", f.Slot)
	}
	armed(t, clock)
	stop()

	// A restart a minute later: the same slot, the same key, a duplicate.
	clock2 := newFakeClock(at(2, 15, 31))
	s2, stop2 := running(t, clock2, b, spec)
	armed(t, clock2)
	noFiring(t, b)
	if st := s2.List()[0]; st.LastRun == nil || !st.LastRun.Duplicate || st.LastRun.OperationID != "op-1" {
		t.Fatalf("after the restart, last run %+v; want the duplicate of op-1", st.LastRun)
	}
	stop2()

	// Past grace: the slot is left alone.
	clock3 := newFakeClock(at(3, 16, 0))
	_, stop3 := running(t, clock3, b, spec)
	defer stop3()
	armed(t, clock3)
	noFiring(t, b)
}

func TestLastRunFoundInTheJournalAfterARestart(t *testing.T) {
	b := newFakeBrokerd()
	b.keys[Key("daily-repo", at(2, 14, 55))] = "op-earlier"
	clock := newFakeClock(at(2, 16, 0))
	s, stop := running(t, clock, b, repo)
	defer stop()
	armed(t, clock)
	if st := s.List()[0]; st.LastRun == nil || st.LastRun.OperationID != "op-earlier" {
		t.Fatalf("last run %+v", st.LastRun)
	}
}

func TestPauseHoldsAcrossRestartsAndResumeFiresTheNextSlot(t *testing.T) {
	b := newFakeBrokerd()
	clock := newFakeClock(at(2, 9, 0))
	s, stop := running(t, clock, b, repo)
	armed(t, clock)
	if err := s.Pause(context.Background(), "daily-repo"); err != nil {
		t.Fatal(err)
	}
	clock.Set(at(2, 14, 55))
	noFiring(t, b)
	if err := s.Pause(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), "no such schedule") {
		t.Fatalf("unknown schedule: %v", err)
	}
	stop()

	clock2 := newFakeClock(at(3, 9, 0))
	s2, stop2 := running(t, clock2, b, repo)
	defer stop2()
	if st := s2.List()[0]; !st.Paused || st.NextRun != nil {
		t.Fatalf("after a restart: %+v; want still paused", st)
	}
	if err := s2.Resume(context.Background(), "daily-repo"); err != nil {
		t.Fatal(err)
	}
	if got := armed(t, clock2); !got.Equal(at(3, 14, 55)) {
		t.Fatalf("timer %v after resume", got)
	}
	clock2.Set(at(3, 14, 55))
	fired(t, b)
}

func TestZonesWithoutDST(t *testing.T) {
	for _, tt := range []struct{ zone, want string }{
		{"", "2026-12-02T14:55:00+08:00"},
		{"Asia/Shanghai", "2026-12-02T14:55:00+08:00"},
		{"UTC", "2026-12-02T14:55:00Z"},
		{"+09:00", "2026-12-02T14:55:00+09:00"},
	} {
		spec := repo
		spec.TimeZone = tt.zone
		entries, err := parse([]Spec{spec})
		if err != nil {
			t.Fatal(err)
		}
		next := entries[0].sched.Next(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).In(entries[0].zone))
		if got := next.Format(time.RFC3339); got != tt.want {
			t.Errorf("zone %q: next %s; want %s", tt.zone, got, tt.want)
		}
	}
}

func TestCheckNamesTheBadKey(t *testing.T) {
	for _, tt := range []struct {
		mutate func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.Cron = "55 14 * *" }, "schedules[0] (daily-repo).cron"},
		{func(s *Spec) { s.Cron = "0 55 14 * * 1-5" }, ".cron"},
		{func(s *Spec) { s.Cron = "CRON_TZ=UTC 55 14 * * *" }, "give the zone in time_zone"},
		{func(s *Spec) { s.TimeZone = "Mars/Olympus" }, ".time_zone"},
		{func(s *Spec) { s.Missed = "later" }, ".missed"},
		{func(s *Spec) { s.Missed = MissedRun }, ".grace"},
		{func(s *Spec) { s.Name = "" }, ".name is empty"},
		{func(s *Spec) { s.Name = "a/b" }, ".name"},
		{func(s *Spec) { s.Operation = "" }, ".operation is empty"},
	} {
		spec := repo
		tt.mutate(&spec)
		if err := Check([]Spec{spec}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v; want one containing %q", err, tt.want)
		}
	}
	if err := Check([]Spec{repo, repo}); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate: %v", err)
	}
}
