// Package schedule runs the [[schedules]] of config.toml: operations that
// brokerd submits by itself on a cron schedule (the daily reverse repo at
// 14:55). Each firing is an ordinary operation, validated and risk-checked
// like any submit, with an idempotency key made of the schedule's name and
// its slot, so that a restart during a slot never runs it twice. Time comes
// from an injected clock.
package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/brokerd/brokerd/queue"
)

// Missed-slot policies: a slot that passed while brokerd was not running
// (or its timer was late, as after a sleep) is skipped, or run when it is
// at most Grace late.
const (
	MissedSkip = "skip"
	MissedRun  = "run"
)

// onTime is how late a firing may be and still count as on time under the
// skip policy: a timer wakes a little after its slot.
const onTime = time.Minute

// Spec is one [[schedules]] entry.
type Spec struct {
	Name      string
	Operation string
	Terminal  string
	Params    json.RawMessage
	Cron      string // five fields: minute hour day-of-month month day-of-week
	TimeZone  string // default Asia/Shanghai (fixed +08:00)
	Missed    string // skip (default) or run
	Grace     time.Duration
}

// Firing is one slot of a schedule, to submit.
type Firing struct {
	Schedule       string
	Operation      string
	Terminal       string
	Params         json.RawMessage
	Slot           time.Time
	IdempotencyKey string
}

// Submitter submits a firing as an ordinary operation (validated,
// risk-checked, journaled) and returns its operation id; duplicate is true
// when the key had been used (the slot had already fired).
type Submitter interface {
	SubmitFiring(ctx context.Context, f Firing) (id string, duplicate bool, err error)
}

// Journal remembers paused schedules and finds a slot's operation.
type Journal interface {
	SetSchedulePaused(ctx context.Context, name string, paused bool) error
	PausedSchedules(ctx context.Context) ([]string, error)
	FindByKey(ctx context.Context, terminal, key string, since time.Time) (queue.Operation, error)
}

// Deps are the scheduler's collaborators, all required but Logger.
type Deps struct {
	Clock     queue.Clock
	Submitter Submitter
	Journal   Journal
	// OnError is told of a firing that could not be submitted (nil: it is
	// only kept as the schedule's last run).
	OnError func(name string, slot time.Time, err error)
}

// ErrUnknown is returned for a schedule name not configured.
var ErrUnknown = errors.New("no such schedule")

// Scheduler runs the schedules.
type Scheduler struct {
	deps    Deps
	entries []*entry
	changed chan struct{} // buffered(1): pause, resume

	mu sync.Mutex
}

type entry struct {
	spec  Spec
	sched cron.Schedule
	zone  *time.Location
	// guarded by Scheduler.mu
	paused bool
	last   *Run
	next   time.Time // the next slot, zero until Run computes it
}

// Run is one firing as it went.
type Run struct {
	Slot        time.Time `json:"slot"`
	FiredAt     time.Time `json:"fired_at"`
	OperationID string    `json:"operation_id"`
	// Duplicate: the slot had fired before (a restart); this is that
	// operation.
	Duplicate bool   `json:"duplicate"`
	Error     string `json:"error"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// China is Asia/Shanghai as a fixed +08:00 zone: no tzdata needed.
var China = time.FixedZone("Asia/Shanghai", 8*60*60)

// Zone reads a time_zone: Asia/Shanghai (fixed +08:00, the default), UTC,
// a fixed offset such as +08:00, or an IANA name (which needs the system's
// time zone database).
func Zone(name string) (*time.Location, error) {
	switch name {
	case "", "Asia/Shanghai":
		return China, nil
	case "UTC", "Etc/UTC":
		return time.UTC, nil
	}
	if t, err := time.Parse("-07:00", name); err == nil {
		_, off := t.Zone()
		return time.FixedZone(name, off), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is unknown here (%v): use Asia/Shanghai, UTC or an offset such as +08:00", name, err)
	}
	return loc, nil
}

// Check checks the specs as config.toml gives them; the errors name the
// schedule and the key.
func Check(specs []Spec) error {
	_, err := parse(specs)
	return err
}

func parse(specs []Spec) ([]*entry, error) {
	var out []*entry
	seen := map[string]bool{}
	for i, s := range specs {
		where := fmt.Sprintf("schedules[%d]", i)
		switch {
		case strings.TrimSpace(s.Name) == "":
			return nil, fmt.Errorf("%s.name is empty", where)
		case !validName.MatchString(s.Name):
			return nil, fmt.Errorf("%s.name %q: at most 64 letters, digits, '-' and '_' (it is part of a URL and of idempotency keys)", where, s.Name)
		case seen[s.Name]:
			return nil, fmt.Errorf("%s.name %q is used twice", where, s.Name)
		case s.Operation == "":
			return nil, fmt.Errorf("%s (%s).operation is empty", where, s.Name)
		}
		seen[s.Name] = true
		if strings.Contains(s.Cron, "TZ=") {
			return nil, fmt.Errorf("%s (%s).cron: give the zone in time_zone, not in the expression", where, s.Name)
		}
		sched, err := parser.Parse(s.Cron)
		if err != nil {
			return nil, fmt.Errorf("%s (%s).cron %q: %v (five fields: minute hour day-of-month month day-of-week, such as \"55 14 * * 1-5\")", where, s.Name, s.Cron, err)
		}
		zone, err := Zone(s.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("%s (%s).time_zone: %w", where, s.Name, err)
		}
		switch s.Missed {
		case "":
			s.Missed = MissedSkip
		case MissedSkip, MissedRun:
		default:
			return nil, fmt.Errorf("%s (%s).missed %q: use \"skip\" or \"run\"", where, s.Name, s.Missed)
		}
		if s.Missed == MissedRun && s.Grace <= 0 {
			return nil, fmt.Errorf("%s (%s).grace: missed = \"run\" needs a grace period, such as \"10m\": how late a missed slot may still run", where, s.Name)
		}
		if len(s.Params) == 0 {
			s.Params = json.RawMessage("{}")
		}
		out = append(out, &entry{spec: s, sched: sched, zone: zone})
	}
	return out, nil
}

// New builds a scheduler over checked specs.
func New(specs []Spec, deps Deps) (*Scheduler, error) {
	if deps.Clock == nil || deps.Submitter == nil || deps.Journal == nil {
		return nil, errors.New("schedule: clock, submitter and journal are required")
	}
	entries, err := parse(specs)
	if err != nil {
		return nil, err
	}
	return &Scheduler{deps: deps, entries: entries, changed: make(chan struct{}, 1)}, nil
}

// Key is the idempotency key of a schedule's slot.
func Key(name string, slot time.Time) string {
	return "schedule:" + name + ":" + slot.Format("2006-01-02T15:04Z07:00")
}

// Load reads the paused schedules and, for each, whether its latest slot
// ran (its last run). Call it before Run.
func (s *Scheduler) Load(ctx context.Context) error {
	paused, err := s.deps.Journal.PausedSchedules(ctx)
	if err != nil {
		return err
	}
	now := s.deps.Clock.Now()
	for _, e := range s.entries {
		paused := slices.Contains(paused, e.spec.Name)
		var last *Run
		if slot, ok := e.previous(now); ok {
			key := Key(e.spec.Name, slot)
			op, err := s.deps.Journal.FindByKey(ctx, e.spec.Terminal, key, slot.Add(-time.Hour))
			switch {
			case err == nil:
				last = &Run{Slot: slot, FiredAt: op.SubmittedAt, OperationID: op.ID}
			case !errors.Is(err, queue.ErrNotFound):
				return fmt.Errorf("schedule %s: look up its last run: %w", e.spec.Name, err)
			}
		}
		s.mu.Lock()
		e.paused, e.last = paused, last
		s.mu.Unlock()
	}
	return nil
}

// previous is the latest slot at or before now within the last week.
func (e *entry) previous(now time.Time) (time.Time, bool) {
	var last time.Time
	t := now.Add(-7 * 24 * time.Hour).In(e.zone)
	for range 20000 {
		n := e.sched.Next(t)
		if n.IsZero() || n.After(now) {
			break
		}
		last, t = n, n
	}
	return last, !last.IsZero()
}

// Run fires the schedules until ctx is done. At start, a slot missed while
// brokerd was down runs when its schedule says missed = "run" and it is
// within grace (its key makes a slot that did run before the restart a
// duplicate, not a second run); then each slot fires at its time.
func (s *Scheduler) Run(ctx context.Context) {
	now := s.deps.Clock.Now()
	for _, e := range s.entries {
		s.mu.Lock()
		paused := e.paused
		e.next = e.sched.Next(now.In(e.zone))
		s.mu.Unlock()
		if e.spec.Missed != MissedRun || paused {
			continue
		}
		if slot, ok := e.previous(now); ok && now.Sub(slot) <= e.spec.Grace {
			s.fire(ctx, e, slot)
		}
	}
	wake := make(chan struct{}, 1)
	for {
		next, ok := s.nextSlot()
		var timer queue.Timer
		if ok {
			timer = s.deps.Clock.AfterFunc(next.Sub(s.deps.Clock.Now()), func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-wake:
		case <-s.changed:
		}
		if timer != nil {
			timer.Stop()
		}
		s.fireDue(ctx)
	}
}

// nextSlot is the earliest next slot of the schedules not paused.
func (s *Scheduler) nextSlot() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first time.Time
	for _, e := range s.entries {
		if e.paused || e.next.IsZero() {
			continue
		}
		if first.IsZero() || e.next.Before(first) {
			first = e.next
		}
	}
	return first, !first.IsZero()
}

// fireDue fires every schedule whose slot has come. Only a schedule's
// latest due slot fires, and only when it is on time (or within grace for
// missed = "run"): a timer hours late, after a sleep, is a missed slot.
func (s *Scheduler) fireDue(ctx context.Context) {
	now := s.deps.Clock.Now()
	for _, e := range s.entries {
		s.mu.Lock()
		if e.paused || e.next.IsZero() || e.next.After(now) {
			s.mu.Unlock()
			continue
		}
		slot := e.next
		for {
			n := e.sched.Next(slot)
			if n.IsZero() || n.After(now) {
				e.next = n
				break
			}
			slot = n
		}
		s.mu.Unlock()
		late := now.Sub(slot)
		tolerance := onTime
		if e.spec.Missed == MissedRun {
			tolerance = max(onTime, e.spec.Grace)
		}
		if late <= tolerance {
			s.fire(ctx, e, slot)
		}
	}
}

func (s *Scheduler) fire(ctx context.Context, e *entry, slot time.Time) {
	f := Firing{Schedule: e.spec.Name, Operation: e.spec.Operation, Terminal: e.spec.Terminal,
		Params: e.spec.Params, Slot: slot, IdempotencyKey: Key(e.spec.Name, slot)}
	id, dup, err := s.deps.Submitter.SubmitFiring(ctx, f)
	run := &Run{Slot: slot, FiredAt: s.deps.Clock.Now(), OperationID: id, Duplicate: dup}
	if err != nil {
		run.Error = err.Error()
		if s.deps.OnError != nil {
			s.deps.OnError(e.spec.Name, slot, err)
		}
	}
	s.mu.Lock()
	e.last = run
	s.mu.Unlock()
}

// Status is one schedule as GET /api/v1/schedules shows it.
type Status struct {
	Name      string          `json:"name"`
	Operation string          `json:"operation"`
	Terminal  string          `json:"terminal"`
	Params    json.RawMessage `json:"params" swaggertype:"object"`
	Cron      string          `json:"cron"`
	TimeZone  string          `json:"time_zone"`
	Missed    string          `json:"missed"`
	Grace     string          `json:"grace"`
	Paused    bool            `json:"paused"`
	// NextRun is the next slot; null while paused.
	NextRun *time.Time `json:"next_run"`
	// LastRun is the latest firing known (since start, or the latest slot
	// found in the journal); null when none.
	LastRun *Run `json:"last_run"`
}

// List gives every schedule, in config order.
func (s *Scheduler) List() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.deps.Clock.Now()
	out := make([]Status, 0, len(s.entries))
	for _, e := range s.entries {
		st := Status{Name: e.spec.Name, Operation: e.spec.Operation, Terminal: e.spec.Terminal, Params: e.spec.Params,
			Cron: e.spec.Cron, TimeZone: e.zone.String(), Missed: e.spec.Missed, Grace: e.spec.Grace.String(), Paused: e.paused}
		if !e.paused {
			next := e.next
			if next.IsZero() || next.Before(now) {
				next = e.sched.Next(now.In(e.zone))
			}
			st.NextRun = &next
		}
		if e.last != nil {
			last := *e.last
			st.LastRun = &last
		}
		out = append(out, st)
	}
	return out
}

// Pause stops a schedule from firing until Resume; the pause is journaled.
func (s *Scheduler) Pause(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, true)
}

// Resume lets a paused schedule fire again from its next slot on.
func (s *Scheduler) Resume(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, false)
}

func (s *Scheduler) setPaused(ctx context.Context, name string, paused bool) error {
	var e *entry
	for _, x := range s.entries {
		if x.spec.Name == name {
			e = x
		}
	}
	if e == nil {
		return fmt.Errorf("%w %q", ErrUnknown, name)
	}
	if err := s.deps.Journal.SetSchedulePaused(ctx, name, paused); err != nil {
		return err
	}
	s.mu.Lock()
	e.paused = paused
	if !paused {
		e.next = e.sched.Next(s.deps.Clock.Now().In(e.zone))
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
}
