package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// PongView answers /ping.
type PongView struct {
	Status string `json:"status" example:"pong"`
} //@name Pong

// ping answers pong.
//
//	@Summary		Ping
//	@Description	Answers pong; needs no key.
//	@Tags			system
//	@Produce		json
//	@Success		200	{object}	Envelope{data=PongView}
//	@Router			/ping [get]
func (s *Server) ping(c *gin.Context) {
	s.ok(c, "pong", PongView{Status: "pong"})
}

// HealthView answers /system/health.
type HealthView struct {
	// Status is healthy or unhealthy.
	Status     string           `json:"status" enums:"healthy,unhealthy"`
	Timestamp  string           `json:"timestamp"`
	Components HealthComponents `json:"components"`
	// Problems says why it is unhealthy; empty when healthy.
	Problems []string `json:"problems"`
} //@name Health

// HealthComponents are the parts health looks at.
type HealthComponents struct {
	// Terminals maps each terminal to its connection state (ready,
	// connecting, disconnected, reconnecting, error).
	Terminals map[string]string `json:"terminals"`
	// Lanes maps each terminal's lane to its state (idle, running, paused,
	// stuck, blocked, stopped).
	Lanes   map[string]string `json:"lanes"`
	Plugins PluginCount       `json:"plugins"`
	// Automator and LoggedIn are EasyTHS's keys, for scripts that check
	// them: the default terminal's state ("connected" when ready) and
	// whether it can take operations.
	Automator string `json:"automator" example:"connected"`
	LoggedIn  bool   `json:"logged_in"`
	// Halted maps each terminal halted by the kill switch to the halt's
	// reason; a halt is deliberate, so it does not make brokerd unhealthy.
	Halted map[string]string `json:"halted"`
} //@name HealthComponents

// PluginCount is how many operations are loaded.
type PluginCount struct {
	Loaded int `json:"loaded"`
} //@name PluginCount

// health tells whether brokerd can take operations.
//
//	@Summary		Health check
//	@Description	200 with data.status = healthy when the journal is usable, every terminal is ready and no lane is stuck, blocked or stopped; else 503 with data.status = unhealthy and data.problems saying why. data.components.terminals maps each terminal to its state. Needs no key.
//	@Tags			system
//	@Produce		json
//	@Success		200	{object}	Envelope{data=HealthView}
//	@Failure		503	{object}	Envelope{data=HealthView}	"unhealthy"
//	@Router			/system/health [get]
func (s *Server) health(c *gin.Context) {
	now := s.now()
	v := HealthView{
		Status:    "healthy",
		Timestamp: formatTime(now),
		Components: HealthComponents{
			Terminals: make(map[string]string, len(s.order)),
			Lanes:     make(map[string]string, len(s.order)),
			Plugins:   PluginCount{Loaded: len(s.ops.Names())},
			Halted:    s.haltReasons(),
		},
		Problems: []string{},
	}
	first := s.laneTerminal(s.order[0]).State()
	v.Components.Automator, v.Components.LoggedIn = string(first), first.Healthy()
	if first.Healthy() {
		v.Components.Automator = "connected"
	}
	// The journal first: when it fails, nothing else matters.
	if s.journal != nil {
		if err := s.journal.Health(); err != nil {
			v.Problems = append(v.Problems, "journal: "+err.Error())
		}
	}
	for _, name := range s.order {
		st := s.laneTerminal(name).State()
		v.Components.Terminals[name] = string(st)
		if !st.Healthy() {
			v.Problems = append(v.Problems, fmt.Sprintf("terminal %s is %s", name, st))
		}
	}
	for _, l := range s.q.Stats().Lanes {
		v.Components.Lanes[l.Terminal] = string(l.State)
		switch l.State {
		case queue.LaneStuck:
			v.Problems = append(v.Problems, fmt.Sprintf("lane %s is stuck: its driver has not returned after an operation's deadline", l.Terminal))
		case queue.LaneBlocked:
			v.Problems = append(v.Problems, fmt.Sprintf("lane %s is blocked: %s", l.Terminal, l.Blocked))
		case queue.LaneStopped:
			v.Problems = append(v.Problems, fmt.Sprintf("lane %s is stopped", l.Terminal))
		}
	}
	if len(v.Problems) == 0 {
		s.ok(c, "all terminals ready", v)
		return
	}
	v.Status = "unhealthy"
	msg := "unhealthy: " + v.Problems[0]
	if len(v.Problems) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(v.Problems)-1)
	}
	s.reply(c, http.StatusServiceUnavailable, Envelope{Message: &msg, Data: v, ErrorCode: stringOrNil(codeUnavailable)})
}

// TerminalStatus is one terminal in /system/status.
type TerminalStatus struct {
	Driver  string   `json:"driver"`
	State   string   `json:"state"`
	Healthy bool     `json:"healthy"`
	Default bool     `json:"default"`
	Lane    LaneView `json:"lane"`
	// Operations lists the operations it supports.
	Operations []string `json:"operations"`
} //@name TerminalStatus

// SystemStatus answers /system/status.
type SystemStatus struct {
	Timestamp     string  `json:"timestamp"`
	Version       string  `json:"version"`
	StartedAt     string  `json:"started_at"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Automator is EasyTHS's view of the default terminal.
	Automator AutomatorStatus           `json:"automator"`
	Terminals map[string]TerminalStatus `json:"terminals"`
	Queue     queue.Counts              `json:"queue"`
	Plugins   PluginsStatus             `json:"plugins"`
	Events    EventsStatus              `json:"events"`
} //@name SystemStatus

// PluginsStatus lists the loaded operations (EasyTHS's shape).
type PluginsStatus struct {
	LoadedPlugins []string `json:"loaded_plugins"`
	PluginCount   int      `json:"plugin_count"`
} //@name PluginsStatus

// EventsStatus tells about the event stream and result waiters.
type EventsStatus struct {
	Subscribers   int   `json:"subscribers"`
	ResultWaiters int64 `json:"result_waiters"`
} //@name EventsStatus

// systemStatus reports brokerd in detail.
//
//	@Summary		System status
//	@Description	Each terminal's driver, state, lane and supported operations; the queue's counts; the loaded operations; uptime. data.automator is EasyTHS's object (connected, logged_in, app_path, backend), from the default terminal.
//	@Tags			system
//	@Produce		json
//	@Success		200	{object}	Envelope{data=SystemStatus}
//	@Failure		401	{object}	ErrorEnvelope
//	@Security		BearerAuth
//	@Router			/system/status [get]
func (s *Server) systemStatus(c *gin.Context) {
	now := s.now()
	st := newStatsView(s.q.Stats())
	s.markHalts(&st)
	names := s.ops.Names()
	v := SystemStatus{
		Timestamp:     formatTime(now),
		Version:       s.cfg.Version,
		StartedAt:     formatTime(s.started),
		UptimeSeconds: now.Sub(s.started).Seconds(),
		Automator:     newAutomatorStatus(s.laneTerminal(s.order[0])),
		Terminals:     make(map[string]TerminalStatus, len(s.order)),
		Queue:         st.Counts,
		Plugins:       PluginsStatus{LoadedPlugins: names, PluginCount: len(names)},
		Events:        EventsStatus{Subscribers: s.events.subscribers(), ResultWaiters: s.metrics.waiters.Load()},
	}
	for i, name := range s.order {
		t := s.laneTerminal(name)
		ts := TerminalStatus{Driver: t.Driver(), State: string(t.State()), Healthy: t.State().Healthy(),
			Default: i == 0, Lane: st.Terminals[name], Operations: []string{}}
		for _, op := range names {
			if s.ops.Supported(op, t) {
				ts.Operations = append(ts.Operations, op)
			}
		}
		v.Terminals[name] = ts
	}
	s.ok(c, "", v)
}

// InfoView answers /system/info.
type InfoView struct {
	Name        string   `json:"name" example:"brokerd"`
	Version     string   `json:"version" example:"v0.1.0"`
	GoVersion   string   `json:"go_version" example:"go1.26.8"`
	Description string   `json:"description"`
	Features    []string `json:"features"`
} //@name SystemInfo

// info reports what brokerd is.
//
//	@Summary		System information
//	@Description	Name, version (from the build) and features.
//	@Tags			system
//	@Produce		json
//	@Success		200	{object}	Envelope{data=InfoView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Security		BearerAuth
//	@Router			/system/info [get]
func (s *Server) info(c *gin.Context) {
	s.ok(c, "", InfoView{
		Name:        "brokerd",
		Version:     s.cfg.Version,
		GoVersion:   runtime.Version(),
		Description: "a priority queue with one serialized worker per terminal in front of broker terminals, with the EasyTHS REST contract",
		Features: []string{
			"serialized operations per terminal", "priority queue", "validation at submit",
			"durable journal", "idempotency keys", "per-operation timeouts", "several terminals",
			"RESTful API", "Server-Sent Events", "Prometheus metrics",
		},
	})
}

// ReconnectView is one terminal's reconnect outcome.
type ReconnectView struct {
	Terminal string  `json:"terminal"`
	Success  bool    `json:"success"`
	State    string  `json:"state"`
	Error    *string `json:"error" extensions:"x-nullable"`
} //@name ReconnectResult

// reconnectTimeout bounds one terminal's reconnect.
const reconnectTimeout = 60 * time.Second

// reconnect drops and re-establishes terminals' connections.
//
//	@Summary		Reconnect terminals
//	@Description	Reconnects a terminal (or every terminal without ?terminal=). 200 when every one reconnected; 502 not_connected when one did not, with each terminal's outcome in data.
//	@Tags			system
//	@Produce		json
//	@Param			terminal	query		string	false	"the terminal; every terminal when absent"
//	@Success		200			{object}	Envelope{data=[]ReconnectView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		403			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Failure		502			{object}	ErrorEnvelope{data=[]ReconnectView}	"a terminal did not reconnect"
//	@Security		BearerAuth
//	@Router			/system/reconnect [post]
func (s *Server) reconnect(c *gin.Context) {
	names := s.order
	if name := c.Query("terminal"); name != "" {
		if _, ok := s.terminals.Terminal(name); !ok {
			s.invalid(c, []fieldError{s.unknownTerminal(name)})
			return
		}
		names = []string{name}
	}
	out := make([]ReconnectView, 0, len(names))
	var failed error
	for _, name := range names {
		t := s.laneTerminal(name)
		ctx, cancel := context.WithTimeout(c.Request.Context(), reconnectTimeout)
		// Through the lane, so a reconnect never overlaps an operation.
		err := s.q.Exclusive(ctx, name, t.Reconnect)
		cancel()
		v := ReconnectView{Terminal: name, Success: err == nil, State: string(t.State())}
		if err != nil {
			msg := err.Error()
			v.Error = &msg
			failed = errors.Join(failed, fmt.Errorf("%s: %w", name, err))
			s.log.Warn("reconnect failed", "terminal", name, "err", err, "key_name", c.GetString(keyNameKey))
		} else {
			s.log.Info("terminal reconnected", "terminal", name, "key_name", c.GetString(keyNameKey))
		}
		out = append(out, v)
	}
	if failed != nil {
		code := codeNotConnected
		if automation.CodeOf(failed) == automation.CodeUnsupported {
			code = codeUnsupported
		}
		s.fail(c, code, "reconnect failed: "+failed.Error(), out)
		return
	}
	s.ok(c, "reconnected", out)
}
