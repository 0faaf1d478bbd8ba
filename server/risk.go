package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerd/brokerd/risk"
	"github.com/brokerd/brokerd/schedule"
)

// The API of the risk limits, the kill switch and the schedules.

// Risk is the pre-trade check and kill switch (*risk.Checker). The check
// itself runs inside the queue's Submit (a queue.Admission); the API shows
// it and pulls the switch.
type Risk interface {
	Status() []risk.TerminalStatus
	Halted(terminal string) (risk.Halt, bool)
	Halt(ctx context.Context, terminal, reason string) ([]risk.HaltResult, error)
	Resume(ctx context.Context, terminal string) ([]risk.HaltResult, error)
}

// Schedules are the [[schedules]] of config.toml (*schedule.Scheduler).
type Schedules interface {
	List() []schedule.Status
	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
}

// codeRiskLimit is a submit the risk limits or the kill switch refused.
const codeRiskLimit = risk.CodeRiskLimit

// Register adds a collector (the risk metrics) to the metrics' registry.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// riskRefused answers a submit the limits refused: 422 risk_limit naming
// the rule, its limit and the value that broke it. Nothing was queued.
// When the order was journaled (and cancelled: a halt came during its
// journal write), id names it.
func (s *Server) riskRefused(c *gin.Context, r *risk.Refusal, id string) {
	msg := r.Error() + ": nothing was queued"
	if id != "" {
		msg = r.Error() + ": operation " + id + " is journaled as cancelled"
	}
	s.fail(c, codeRiskLimit, msg, RiskRefusalView{
		Terminal: r.Terminal, Rule: r.Rule, Limit: r.Limit, Value: r.Value, Reason: r.Reason, OperationID: stringOrNil(id)})
}

// RiskRefusalView is the data of a risk_limit answer.
type RiskRefusalView struct {
	Terminal string `json:"terminal" example:"sim"`
	Rule     string `json:"rule" example:"max_order_notional"`
	Limit    string `json:"limit" example:"100000"`
	Value    string `json:"value" example:"105000"`
	Reason   string `json:"reason" example:"the order's notional 105000 is over the limit per order"`
	// OperationID is null: nothing was journaled; or, when a halt came
	// while the order was being journaled, the order, cancelled.
	OperationID *string `json:"operation_id" extensions:"x-nullable"`
} //@name RiskRefusal

// RiskUsageView is one rule of a terminal.
type RiskUsageView struct {
	Rule  string  `json:"rule" example:"max_daily_buy_notional"`
	Limit string  `json:"limit" example:"500000"`
	Used  *string `json:"used" example:"10500" extensions:"x-nullable"`
} //@name RiskUsage

// RiskHaltView is a terminal's kill switch.
type RiskHaltView struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
} //@name RiskHalt

// RiskTerminalView is one terminal's limits, usage and halt.
type RiskTerminalView struct {
	// Limited is false when no [risk] table applies to the terminal.
	Limited bool          `json:"limited"`
	Halted  bool          `json:"halted"`
	Halt    *RiskHaltView `json:"halt" extensions:"x-nullable"`
	// Day is the trading day (Asia/Shanghai) the counters are for.
	Day         string          `json:"day" example:"2026-12-02"`
	OrdersToday int             `json:"orders_today"`
	Rules       []RiskUsageView `json:"rules"`
	// Positions: today's buys (open, filled or of unknown outcome) less
	// filled sells, by code/symbol.
	Positions map[string]string `json:"positions"`
} //@name RiskTerminal

// RiskView answers GET /risk.
type RiskView struct {
	Terminals map[string]RiskTerminalView `json:"terminals"`
} //@name Risk

func newRiskTerminalView(st risk.TerminalStatus) RiskTerminalView {
	v := RiskTerminalView{Limited: st.Limited, Halted: st.Halted, Day: st.Day, OrdersToday: st.Orders,
		Rules: make([]RiskUsageView, 0, len(st.Rules)), Positions: st.Positions}
	if st.Halt != nil {
		v.Halt = &RiskHaltView{Reason: st.Halt.Reason, At: formatTime(st.Halt.At)}
	}
	for _, u := range st.Rules {
		v.Rules = append(v.Rules, RiskUsageView(u))
	}
	return v
}

// getRisk reports the limits and their usage.
//
//	@Summary		Risk limits and usage
//	@Description	Each terminal's risk limits (from [risk] / [[risk]] in config.toml), how much of each today's orders use, today's positions built by buys, and whether the terminal is halted by the kill switch. The day counters come from the journal, so they are exact across restarts.
//	@Tags			risk
//	@Produce		json
//	@Success		200	{object}	Envelope{data=RiskView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Failure		404	{object}	ErrorEnvelope	"risk limits are not configured in this brokerd"
//	@Security		BearerAuth
//	@Router			/risk [get]
func (s *Server) getRisk(c *gin.Context) {
	if s.risk == nil {
		s.fail(c, codeNotFound, "risk limits are not part of this brokerd", nil)
		return
	}
	v := RiskView{Terminals: map[string]RiskTerminalView{}}
	for _, st := range s.risk.Status() {
		v.Terminals[st.Terminal] = newRiskTerminalView(st)
	}
	s.ok(c, "", v)
}

// HaltView answers halt and resume.
type HaltView struct {
	Halted    bool                `json:"halted"`
	Terminals []string            `json:"terminals"`
	Cancelled map[string][]string `json:"cancelled"` // the queued orders cancelled, by terminal
} //@name HaltResult

// haltRisk pulls the kill switch.
//
//	@Summary		Halt trading (kill switch)
//	@Description	Refuses every new order on a terminal (or every terminal without ?terminal=) with 422 risk_limit (rule halt), cancels its queued orders (error_code halted; a running one finishes), and journals the halt, so that it holds across restarts. Queries and cancels still pass. POST /risk/resume lifts it.
//	@Tags			risk
//	@Produce		json
//	@Param			terminal	query		string	false	"the terminal; every terminal when absent"
//	@Param			reason		query		string	false	"why, shown in health, stats and refusals"
//	@Success		200			{object}	Envelope{data=HaltView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		403			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Failure		500			{object}	ErrorEnvelope{data=HaltView}	"halted, but the journal or a cancel failed"
//	@Security		BearerAuth
//	@Router			/risk/halt [post]
func (s *Server) haltRisk(c *gin.Context) { s.setHalt(c, true) }

// resumeRisk lifts the kill switch.
//
//	@Summary		Lift the halt
//	@Description	Lets a halted terminal (or every terminal without ?terminal=) take orders again. The orders the halt cancelled stay cancelled.
//	@Tags			risk
//	@Produce		json
//	@Param			terminal	query		string	false	"the terminal; every terminal when absent"
//	@Success		200			{object}	Envelope{data=HaltView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		403			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Failure		500			{object}	ErrorEnvelope{data=HaltView}	"the journal could not record the resume: still halted"
//	@Security		BearerAuth
//	@Router			/risk/resume [post]
func (s *Server) resumeRisk(c *gin.Context) { s.setHalt(c, false) }

func (s *Server) setHalt(c *gin.Context, halt bool) {
	if s.risk == nil {
		s.fail(c, codeNotFound, "risk limits are not part of this brokerd", nil)
		return
	}
	terminal := c.Query("terminal")
	reason := truncate(strings.TrimSpace(c.Query("reason")), 500)
	if reason == "" && halt {
		reason = "halted through the API by " + c.GetString(keyNameKey)
		if c.GetString(keyNameKey) == "" {
			reason = "halted through the API"
		}
	}
	// The halt must complete even if the client leaves.
	ctx := context.WithoutCancel(c.Request.Context())
	var res []risk.HaltResult
	var err error
	if halt {
		res, err = s.risk.Halt(ctx, terminal, reason)
	} else {
		res, err = s.risk.Resume(ctx, terminal)
	}
	if errors.Is(err, risk.ErrUnknownTerminal) {
		s.invalid(c, []fieldError{s.unknownTerminal(terminal)})
		return
	}
	v := HaltView{Halted: halt, Terminals: []string{}, Cancelled: map[string][]string{}}
	for _, r := range res {
		v.Terminals = append(v.Terminals, r.Terminal)
		if halt {
			v.Cancelled[r.Terminal] = r.Cancelled
		}
	}
	for _, r := range res {
		s.publishHalt(r, reason)
	}
	if err != nil {
		s.log.Error("risk halt or resume", "halt", halt, "terminals", v.Terminals, "err", err)
		s.fail(c, codeInternal, err.Error(), v)
		return
	}
	msg := "resumed: the terminals take orders again"
	if halt {
		n := 0
		for _, ids := range v.Cancelled {
			n += len(ids)
		}
		msg = fmt.Sprintf("halted: new orders are refused, %d queued orders cancelled; POST /api/v1/risk/resume lifts it", n)
	}
	s.log.Warn("risk "+map[bool]string{true: "halt", false: "resume"}[halt], "terminals", v.Terminals, "reason", reason, "key_name", c.GetString(keyNameKey))
	s.ok(c, msg, v)
}

// eventRisk is the /events type of a halt or a resume.
const eventRisk = "risk"

// riskEvent is a halt or a resume, as /events shows it.
type riskEvent struct {
	Terminal  string `json:"terminal"`
	Halted    bool   `json:"halted"`
	Reason    string `json:"reason"`
	Cancelled int    `json:"cancelled_count"`
	Timestamp string `json:"timestamp"`
}

func (s *Server) publishHalt(r risk.HaltResult, reason string) {
	at := s.now()
	if !r.Halted {
		reason = ""
	}
	ev := riskEvent{Terminal: r.Terminal, Halted: r.Halted, Reason: reason, Cancelled: len(r.Cancelled), Timestamp: formatTime(at)}
	s.events.publish(&event{kind: eventRisk, terminal: r.Terminal, value: func() any { return ev }})
}

// haltReasons maps each halted terminal to its reason, for health and
// stats.
func (s *Server) haltReasons() map[string]string {
	out := map[string]string{}
	if s.risk == nil {
		return out
	}
	for _, name := range s.order {
		if h, ok := s.risk.Halted(name); ok {
			out[name] = h.Reason
		}
	}
	return out
}

// markHalts sets the halted lanes in a stats view.
func (s *Server) markHalts(v *StatsView) {
	for name, reason := range s.haltReasons() {
		if l, ok := v.Terminals[name]; ok {
			l.Halted, l.HaltReason = true, stringOrNil(reason)
			if l.HaltReason == nil {
				l.HaltReason = stringOrNil("halted")
			}
			v.Terminals[name] = l
		}
	}
}

// ScheduleRunView is one firing of a schedule.
type ScheduleRunView struct {
	Slot        string  `json:"slot"`
	FiredAt     string  `json:"fired_at"`
	OperationID *string `json:"operation_id" extensions:"x-nullable"`
	// Duplicate: the slot had fired before a restart; this is that
	// operation, not a second one.
	Duplicate bool    `json:"duplicate"`
	Error     *string `json:"error" extensions:"x-nullable"`
} //@name ScheduleRun

// ScheduleView is one [[schedules]] entry.
type ScheduleView struct {
	Name      string          `json:"name" example:"daily-repo"`
	Operation string          `json:"operation" example:"reverse_repo_buy"`
	Terminal  string          `json:"terminal" example:"sim"`
	Params    json.RawMessage `json:"params" swaggertype:"object"`
	Cron      string          `json:"cron" example:"55 14 * * 1-5"`
	TimeZone  string          `json:"time_zone" example:"Asia/Shanghai"`
	Missed    string          `json:"missed" enums:"skip,run"`
	Grace     string          `json:"grace" example:"10m0s"`
	Paused    bool            `json:"paused"`
	// NextRun is null while paused.
	NextRun *string          `json:"next_run" extensions:"x-nullable"`
	LastRun *ScheduleRunView `json:"last_run" extensions:"x-nullable"`
} //@name Schedule

func newScheduleView(st schedule.Status) ScheduleView {
	v := ScheduleView{Name: st.Name, Operation: st.Operation, Terminal: st.Terminal, Params: st.Params, Cron: st.Cron,
		TimeZone: st.TimeZone, Missed: st.Missed, Grace: st.Grace, Paused: st.Paused}
	if st.NextRun != nil {
		v.NextRun = timeOrNil(*st.NextRun)
	}
	if r := st.LastRun; r != nil {
		v.LastRun = &ScheduleRunView{Slot: formatTime(r.Slot), FiredAt: formatTime(r.FiredAt),
			OperationID: stringOrNil(r.OperationID), Duplicate: r.Duplicate, Error: stringOrNil(r.Error)}
	}
	return v
}

// listSchedules lists the schedules.
//
//	@Summary		Scheduled operations
//	@Description	The [[schedules]] of config.toml with their next and last run. Each firing is an ordinary operation (validated and risk-checked) with the idempotency key schedule:NAME:SLOT, so a restart during a slot never runs it twice.
//	@Tags			schedules
//	@Produce		json
//	@Success		200	{object}	Envelope{data=[]ScheduleView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Security		BearerAuth
//	@Router			/schedules [get]
func (s *Server) listSchedules(c *gin.Context) {
	out := []ScheduleView{}
	if s.schedules != nil {
		for _, st := range s.schedules.List() {
			out = append(out, newScheduleView(st))
		}
	}
	s.ok(c, "", out)
}

// pauseSchedule pauses a schedule.
//
//	@Summary		Pause a schedule
//	@Description	The schedule fires no more until resumed; the pause is journaled and holds across restarts.
//	@Tags			schedules
//	@Produce		json
//	@Param			name	path		string	true	"the schedule's name"
//	@Success		200		{object}	Envelope{data=ScheduleView}
//	@Failure		401		{object}	ErrorEnvelope
//	@Failure		403		{object}	ErrorEnvelope
//	@Failure		404		{object}	ErrorEnvelope	"no such schedule"
//	@Security		BearerAuth
//	@Router			/schedules/{name}/pause [post]
func (s *Server) pauseSchedule(c *gin.Context) { s.setSchedulePaused(c, true) }

// resumeSchedule resumes a schedule.
//
//	@Summary		Resume a schedule
//	@Description	The schedule fires again from its next slot on (a slot passed while paused is not run).
//	@Tags			schedules
//	@Produce		json
//	@Param			name	path		string	true	"the schedule's name"
//	@Success		200		{object}	Envelope{data=ScheduleView}
//	@Failure		401		{object}	ErrorEnvelope
//	@Failure		403		{object}	ErrorEnvelope
//	@Failure		404		{object}	ErrorEnvelope	"no such schedule"
//	@Security		BearerAuth
//	@Router			/schedules/{name}/resume [post]
func (s *Server) resumeSchedule(c *gin.Context) { s.setSchedulePaused(c, false) }

func (s *Server) setSchedulePaused(c *gin.Context, paused bool) {
	name := c.Param("name")
	if s.schedules == nil {
		s.fail(c, codeNotFound, fmt.Sprintf("no such schedule %q: none is configured", truncate(name, 64)), nil)
		return
	}
	set := s.schedules.Resume
	if paused {
		set = s.schedules.Pause
	}
	if err := set(context.WithoutCancel(c.Request.Context()), name); err != nil {
		if errors.Is(err, schedule.ErrUnknown) {
			s.fail(c, codeNotFound, fmt.Sprintf("no such schedule %q: GET /api/v1/schedules lists them", truncate(name, 64)), nil)
			return
		}
		s.internal(c, "pause or resume the schedule", err)
		return
	}
	for _, st := range s.schedules.List() {
		if st.Name == name {
			msg := "resumed: it fires from its next slot on"
			if paused {
				msg = "paused: it fires no more until resumed"
			}
			s.log.Info("schedule "+msg, "schedule", name, "key_name", c.GetString(keyNameKey))
			s.ok(c, msg, newScheduleView(st))
			return
		}
	}
	s.internal(c, "list the schedule", errors.New("schedule vanished"))
}

// maxNotBefore bounds how far ahead an operation may be scheduled.
const maxNotBefore = 7 * 24 * time.Hour

// decodeNotBefore reads a submit's not_before: an RFC 3339 time, or a
// number of seconds from now. It returns the time, or the seconds to add
// to the time of the submit.
func decodeNotBefore(raw json.RawMessage) (at time.Time, in time.Duration, reason string) {
	const want = "must be an RFC 3339 time such as \"2026-12-02T14:55:00+08:00\", or a number of seconds from now (at most 7 days ahead)"
	if f, ok := number(raw); ok {
		if f < 0 || f > maxNotBefore.Seconds() || math.IsNaN(f) {
			return time.Time{}, 0, want
		}
		return time.Time{}, seconds(f), ""
	}
	s, ok := str(raw)
	if !ok {
		return time.Time{}, 0, want
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, 0, want
	}
	return t, 0, ""
}

// notBeforeOf is the submit's not_before as a time, checked against now.
func notBeforeOf(b submitBody, now time.Time) (time.Time, *fieldError) {
	at := b.notBefore
	if b.notBeforeIn > 0 {
		at = now.Add(b.notBeforeIn)
	}
	if at.After(now.Add(maxNotBefore)) {
		return time.Time{}, &fieldError{Field: "not_before", Reason: "must be at most 7 days ahead"}
	}
	return at, nil
}
