package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/risk"
	"github.com/brokerd/brokerd/schedule"
	"github.com/brokerd/brokerd/store"
)

// The wiring of the risk limits, the kill switch and the schedules.

// ScheduleConfig is one [[schedules]] entry.
type ScheduleConfig struct {
	Name      string         `toml:"name"`
	Operation string         `toml:"operation"`
	Terminal  string         `toml:"terminal"`
	Params    map[string]any `toml:"params"`
	Cron      string         `toml:"cron"`
	TimeZone  string         `toml:"time_zone"`
	Missed    string         `toml:"missed"`
	Grace     Duration       `toml:"grace"`
}

// riskLimits reads [risk] / [[risk]] and checks that each names a
// configured terminal.
func (c Config) riskLimits() ([]risk.Limits, error) {
	limits, err := risk.ParseConfig(c.Risk)
	if err != nil {
		return nil, err
	}
	for i, l := range limits {
		if l.Terminal != "" && !c.hasTerminal(l.Terminal) {
			return nil, fmt.Errorf("risk[%d].terminal %q is not a configured terminal", i, l.Terminal)
		}
	}
	return limits, nil
}

func (c Config) hasTerminal(name string) bool {
	for _, t := range c.Terminals {
		if t.Name == name {
			return true
		}
	}
	return false
}

// scheduleSpecs maps [[schedules]] onto the scheduler's specs; a schedule
// without a terminal runs on the default (first) one.
func (c Config) scheduleSpecs() ([]schedule.Spec, error) {
	var out []schedule.Spec
	for i, s := range c.Schedules {
		terminal := s.Terminal
		if terminal == "" && len(c.Terminals) > 0 {
			terminal = c.Terminals[0].Name
		}
		if !c.hasTerminal(terminal) {
			return nil, fmt.Errorf("schedules[%d] (%s).terminal %q is not a configured terminal", i, s.Name, terminal)
		}
		params := []byte("{}")
		if s.Params != nil {
			var err error
			if params, err = json.Marshal(s.Params); err != nil {
				return nil, fmt.Errorf("schedules[%d] (%s).params: %w", i, s.Name, err)
			}
		}
		out = append(out, schedule.Spec{Name: s.Name, Operation: s.Operation, Terminal: terminal, Params: params,
			Cron: s.Cron, TimeZone: s.TimeZone, Missed: s.Missed, Grace: s.Grace.Duration})
	}
	if err := schedule.Check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkSchedules refuses, at start, a schedule whose operation is unknown,
// whose params are invalid or whose terminal cannot carry it out: better
// than finding out at 14:55.
func checkSchedules(specs []schedule.Spec, registry *plugins.Registry, terminals []automation.Terminal) error {
	for _, s := range specs {
		if _, ok := registry.Lookup(s.Operation); !ok {
			return fmt.Errorf("schedule %s: unknown operation %q (GET /api/v1/operations/ lists them)", s.Name, s.Operation)
		}
		if _, errs, err := registry.Validate(s.Operation, s.Params, terminalNamed(terminals, s.Terminal)); err != nil || len(errs) > 0 {
			return fmt.Errorf("schedule %s: params: %v%s", s.Name, fieldErrors(errs), errString(err))
		}
		if t := terminalNamed(terminals, s.Terminal); !registry.Supported(s.Operation, t) {
			return fmt.Errorf("schedule %s: terminal %s cannot carry out %s", s.Name, s.Terminal, s.Operation)
		}
	}
	return nil
}

func fieldErrors(errs []plugins.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.String()
	}
	return strings.Join(parts, "; ")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func terminalNamed(terminals []automation.Terminal, name string) automation.Terminal {
	for _, t := range terminals {
		if t.Name() == name {
			return t
		}
	}
	return nil
}

// riskTerminals tells the checker each terminal's family, for the trading
// hours "auto" means.
func riskTerminals(terminals []automation.Terminal) []risk.Terminal {
	out := make([]risk.Terminal, 0, len(terminals))
	for _, t := range terminals {
		family := risk.StockFamily
		if _, ok := t.(automation.Exchange); ok {
			family = risk.ExchangeFamily
		}
		out = append(out, risk.Terminal{Name: t.Name(), Family: family})
	}
	return out
}

// terminalPrices is the price collar's and market orders' last price: what
// a terminal knows without a round trip (the sim's market, an exchange
// driver's cached ticker).
type terminalPrices map[string]automation.Terminal

func newTerminalPrices(terminals []automation.Terminal) terminalPrices {
	m := terminalPrices{}
	for _, t := range terminals {
		m[t.Name()] = t
	}
	return m
}

func (p terminalPrices) LastPrice(terminal, symbol string) (decimal.Decimal, bool) {
	switch t := p[terminal].(type) {
	case interface {
		LastPrice(symbol string) (decimal.Decimal, bool)
	}:
		return t.LastPrice(symbol)
	case interface {
		Quote(code string) (float64, error)
	}:
		v, err := t.Quote(symbol)
		if err != nil || v <= 0 {
			return decimal.Decimal{}, false
		}
		return decimal.NewFromFloat(v), true
	}
	return decimal.Decimal{}, false
}

// riskJournal adapts the journal to the checker.
type riskJournal struct{ st *store.Store }

func (j riskJournal) SubmittedSince(ctx context.Context, terminal string, since time.Time) ([]queue.Operation, error) {
	return j.st.SubmittedSince(ctx, terminal, since)
}

func (j riskJournal) SetHalt(ctx context.Context, terminal string, halted bool, reason string, at time.Time) error {
	return j.st.SetHalt(ctx, terminal, halted, reason, at)
}

func (j riskJournal) Halts(ctx context.Context) ([]risk.Halt, error) {
	hs, err := j.st.Halts(ctx)
	out := make([]risk.Halt, len(hs))
	for i, h := range hs {
		out[i] = risk.Halt(h)
	}
	return out, err
}

// firings submits a schedule's firing as an ordinary operation: validated,
// checked by the risk limits (inside the queue's Submit) and journaled, with
// the slot's idempotency key.
type firings struct {
	registry  *plugins.Registry
	queue     *queue.Queue
	terminals []automation.Terminal
}

func (f firings) SubmitFiring(ctx context.Context, fire schedule.Firing) (string, bool, error) {
	plugin, ok := f.registry.Lookup(fire.Operation)
	if !ok {
		return "", false, fmt.Errorf("unknown operation %q", fire.Operation)
	}
	t := terminalNamed(f.terminals, fire.Terminal)
	params, errs := plugin.ValidateFor(fire.Params, t)
	if len(errs) > 0 {
		return "", false, fmt.Errorf("invalid params: %s", fieldErrors(errs))
	}
	if !plugin.Supports(t) {
		return "", false, fmt.Errorf("terminal %s cannot carry out %s", fire.Terminal, fire.Operation)
	}
	sub, err := f.queue.Submit(ctx, queue.Request{
		Name: fire.Operation, Terminal: fire.Terminal, Params: params.JSON(),
		SideEffect: plugin.SideEffect, IdempotencyKey: fire.IdempotencyKey, Prepared: params,
	})
	if err != nil {
		return sub.Operation.ID, false, err
	}
	return sub.Operation.ID, sub.Duplicate, nil
}
