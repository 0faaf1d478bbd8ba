package main

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/risk"
	"github.com/brokerd/brokerd/schedule"
	"github.com/brokerd/brokerd/store"
)

// stepClock is a queue.Clock that moves only when Set; a timer already due
// when it is set fires at once.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	c       *stepClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) queue.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{c: c, at: c.now.Add(d), f: f}
	if d <= 0 {
		t.stopped = true
		go f()
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *stepClock) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	var due []*stepTimer
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

// brokerdOnClock is the wiring of run() (journal, sim, queue, risk
// checker, scheduler) on a clock the test steps, over a journal file that
// outlives it: a restart is a new one on the same file.
type brokerdOnClock struct {
	st    *store.Store
	q     *queue.Queue
	sched *schedule.Scheduler
	stop  func()
}

func startOnClock(t *testing.T, clock *stepClock, journal string, spec schedule.Spec) *brokerdOnClock {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, journal, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	term, err := sim.New(ctx, "sim", sim.Options{InitialCash: 1_000_000}, sim.Deps{Now: clock.Now, Ledger: st})
	if err != nil {
		t.Fatal(err)
	}
	terminals := []automation.Terminal{term}
	registry := plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet())
	checker, err := risk.New(risk.Config{Terminals: riskTerminals(terminals), Journal: riskJournal{st}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	must(t, checker.Load(ctx))
	q, err := queue.New(queue.Config{}, lanes(registry, terminals), queue.Deps{Clock: clock, Store: st, Observer: checker, Admission: checker})
	if err != nil {
		t.Fatal(err)
	}
	checker.Attach(q)
	sched, err := schedule.New([]schedule.Spec{spec}, schedule.Deps{Clock: clock,
		Submitter: firings{registry: registry, queue: q, terminals: terminals}, Journal: st})
	if err != nil {
		t.Fatal(err)
	}
	must(t, sched.Load(ctx))
	if _, err := q.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	q.Start()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sched.Run(runCtx)
	}()
	b := &brokerdOnClock{st: st, q: q, sched: sched}
	var once sync.Once
	b.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			sctx, c := context.WithTimeout(ctx, 10*time.Second)
			defer c()
			if err := q.Shutdown(sctx); err != nil {
				t.Error(err)
			}
			term.Close()
			must(t, st.Close())
		})
	}
	t.Cleanup(b.stop)
	return b
}

// repos lists the reverse_repo_buy operations in the journal, waiting
// (generously, as a failure guard) until n exist and are finished.
func (b *brokerdOnClock) repos(t *testing.T, n int) []queue.Operation {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ops, err := b.st.SubmittedSince(context.Background(), "sim", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var repos []queue.Operation
		done := true
		for _, op := range ops {
			if op.Name == automation.OpReverseRepoBuy {
				repos = append(repos, op)
				done = done && op.Status.Final()
			}
		}
		if len(repos) >= n && done {
			return repos
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reverse repos in the journal, want %d finished: %+v", len(repos), n, repos)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitTimerAt waits until a timer is set for at: the scheduler waits for
// that slot.
func (c *stepClock) waitTimerAt(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		for _, tm := range c.timers {
			if !tm.stopped && tm.at.Equal(at) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no timer was set for %v", at)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDailyRepoRunsOnceADayAcrossRestarts is the promise for the
// schedules: the daily reverse repo runs itself at 14:55, and a restart
// during the slot (with missed = "run", which catches the slot up) does not
// run it a second time.
func TestDailyRepoRunsOnceADayAcrossRestarts(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "brokerd.db")
	spec := schedule.Spec{Name: "daily-repo", Operation: automation.OpReverseRepoBuy, Terminal: "sim",
		Params: []byte(`{"market":"上海","time_range":"1天期","amount":10000}`), Cron: "55 14 * * 1-5",
		Missed: schedule.MissedRun, Grace: 10 * time.Minute}
	wednesday := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, risk.ChinaTime) }
	thursday := time.Date(2026, 12, 3, 14, 55, 0, 0, risk.ChinaTime)
	clock := &stepClock{now: wednesday(14, 50)}

	first := startOnClock(t, clock, journal, spec)
	clock.waitTimerAt(t, wednesday(14, 55))
	clock.Set(wednesday(14, 55))
	repos := first.repos(t, 1)
	if repos[0].Status != queue.StatusSuccess || repos[0].IdempotencyKey != "schedule:daily-repo:2026-12-02T14:55+08:00" {
		t.Fatalf("the 14:55 repo: %s %s %s", repos[0].Status, repos[0].Error, repos[0].IdempotencyKey)
	}
	first.stop()

	// Restarted at 14:57, within grace: the slot is caught up, finds its
	// key, and is not run again.
	clock.Set(wednesday(14, 57))
	second := startOnClock(t, clock, journal, spec)
	clock.waitTimerAt(t, thursday) // the catch-up is done
	if got := second.repos(t, 1); len(got) != 1 {
		t.Fatalf("%d repos after a restart during the slot; want 1", len(got))
	}
	last := second.sched.List()[0].LastRun
	if last == nil || last.OperationID != repos[0].ID || !last.Duplicate {
		t.Fatalf("last run after the restart: %+v; want the duplicate of %s", last, repos[0].ID)
	}

	// Thursday's slot runs once more.
	clock.Set(thursday)
	if got := second.repos(t, 2); len(got) != 2 || got[1].Status != queue.StatusSuccess {
		t.Fatalf("after Thursday's slot: %+v", got)
	}
}
