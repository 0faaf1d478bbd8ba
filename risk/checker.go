package risk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// The rules, by the names a refusal and GET /api/v1/risk use.
const (
	RuleHalt                 = "halt"
	RuleMaxOrderNotional     = "max_order_notional"
	RuleMaxDailyBuyNotional  = "max_daily_buy_notional"
	RuleMaxDailySellNotional = "max_daily_sell_notional"
	RuleMaxOrdersPerMinute   = "max_orders_per_minute"
	RuleMaxOrdersPerDay      = "max_orders_per_day"
	RuleMaxPosition          = "max_position"
	RuleAllow                = "allow"
	RuleDeny                 = "deny"
	RuleTradingHours         = "trading_hours"
	RulePriceCollar          = "price_collar_percent"
)

// CodeRiskLimit is the error code of a refusal.
const CodeRiskLimit = string(automation.CodeRiskLimit)

// Refusal is an order the limits stopped: the rule, its limit and the value
// that broke it.
type Refusal struct {
	Terminal string `json:"terminal"`
	Rule     string `json:"rule"`
	Limit    string `json:"limit"`
	Value    string `json:"value"`
	Reason   string `json:"reason"`
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("refused by risk rule %s on terminal %s: %s (limit %s, value %s)", r.Rule, r.Terminal, r.Reason, r.Limit, r.Value)
}

// ErrorCode is risk_limit.
func (r *Refusal) ErrorCode() string { return CodeRiskLimit }

// PriceSource knows the last price of a symbol on a terminal, without
// blocking; false when it does not.
type PriceSource interface {
	LastPrice(terminal, symbol string) (decimal.Decimal, bool)
}

// Journal is what the Checker reads and writes in the journal (*store.Store
// through a small adapter in cmd).
type Journal interface {
	// SubmittedSince lists terminal's operations submitted at or after
	// since, whatever their status.
	SubmittedSince(ctx context.Context, terminal string, since time.Time) ([]queue.Operation, error)
	SetHalt(ctx context.Context, terminal string, halted bool, reason string, at time.Time) error
	Halts(ctx context.Context) ([]Halt, error)
}

// Halt is a terminal's kill switch, as set.
type Halt struct {
	Terminal string    `json:"terminal"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Terminal is one terminal the Checker guards.
type Terminal struct {
	Name   string
	Family Family
}

// Config builds a Checker.
type Config struct {
	Limits    []Limits
	Terminals []Terminal
	// Extractors by operation name (DefaultExtractors when nil): the
	// operations with facts are the orders the limits apply to.
	Extractors map[string]Extractor
	// Cancels lists the operations a halt lets through (default
	// order_cancel, condition_order_cancel, cancel_order): in an emergency
	// a trader must still be able to take orders off the book.
	Cancels []string
	Prices  PriceSource      // nil: no price is known
	Now     func() time.Time // nil: time.Now
	// Journal holds the day's orders and the halts; required for Load,
	// Halt and Resume.
	Journal Journal
}

// Checker holds the limits, the day counters and the halts. It is a
// queue.Admission and a queue.Observer.
type Checker struct {
	extract map[string]Extractor
	cancels []string
	prices  PriceSource
	now     func() time.Time
	order   []string
	journal Journal
	queue   Canceller // set by Attach

	mu       sync.Mutex
	rules    map[string]*Rules
	tallies  map[string]*tally
	halts    map[string]Halt
	refusals map[[2]string]int64 // terminal, rule
}

// New builds a Checker; it refuses limits for a terminal not configured.
func New(cfg Config) (*Checker, error) {
	c := &Checker{
		extract:  cfg.Extractors,
		cancels:  cfg.Cancels,
		prices:   cfg.Prices,
		now:      cfg.Now,
		journal:  cfg.Journal,
		rules:    map[string]*Rules{},
		tallies:  map[string]*tally{},
		halts:    map[string]Halt{},
		refusals: map[[2]string]int64{},
	}
	if c.extract == nil {
		c.extract = DefaultExtractors()
	}
	if c.cancels == nil {
		c.cancels = []string{automation.OpOrderCancel, automation.OpConditionOrderCancel, automation.OpCancelOrder}
	}
	if c.now == nil {
		c.now = time.Now
	}
	known := map[string]bool{}
	for _, t := range cfg.Terminals {
		known[t.Name] = true
		c.order = append(c.order, t.Name)
		if r := Resolve(cfg.Limits, t.Name, t.Family); r != nil {
			c.rules[t.Name] = r
		}
		c.tallies[t.Name] = newTally(dayOf(c.now()))
	}
	for i, l := range cfg.Limits {
		if l.Terminal != "" && !known[l.Terminal] {
			return nil, fmt.Errorf("risk[%d].terminal: %q is not a configured terminal", i, l.Terminal)
		}
	}
	return c, nil
}

// dayOf is the start of t's trading day, midnight in ChinaTime.
func dayOf(t time.Time) time.Time {
	t = t.In(ChinaTime)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, ChinaTime)
}

// Load reads the halts and rebuilds today's counters from the journal.
// Call it before the queue's Recover and Start.
func (c *Checker) Load(ctx context.Context) error {
	j := c.journal
	if j == nil {
		return errors.New("risk: the checker has no journal (Config.Journal)")
	}
	halts, err := j.Halts(ctx)
	if err != nil {
		return err
	}
	day := dayOf(c.now())
	fresh := map[string]*tally{}
	for _, name := range c.order {
		t := newTally(day)
		fresh[name] = t
		if c.rules[name] == nil {
			continue // nothing to count against
		}
		ops, err := j.SubmittedSince(ctx, name, day)
		if err != nil {
			return err
		}
		for _, op := range ops {
			if f, ok := c.facts(op); ok {
				value, _ := c.notional(op.Terminal, f)
				t.add(op, f, value)
				t.settle(op)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range halts {
		c.halts[h.Terminal] = h
	}
	c.tallies = fresh
	return nil
}

// IsOrder reports whether op is one a halt cancels and refuses: an
// operation with a side effect that is not a cancel.
func (c *Checker) IsOrder(op queue.Operation) bool {
	return op.SideEffect && !slices.Contains(c.cancels, op.Name)
}

func (c *Checker) facts(op queue.Operation) (Facts, bool) {
	x, ok := c.extract[op.Name]
	if !ok || !op.SideEffect {
		return Facts{}, false
	}
	return x(op.Params)
}

// notional is the order's value: quantity × its price, or × the last known
// price for a market order; ok false when neither is known.
func (c *Checker) notional(terminal string, f Facts) (v decimal.Decimal, ok bool) {
	price := f.Price
	if price.IsZero() {
		if c.prices == nil {
			return decimal.Decimal{}, false
		}
		if price, ok = c.prices.LastPrice(terminal, f.Symbol); !ok || !price.IsPositive() {
			return decimal.Decimal{}, false
		}
	}
	return f.Quantity.Mul(price), true
}

// Admit checks a new operation (queue.Admission). Queries pass; orders on
// a halted terminal are refused; orders are checked against the limits
// and, admitted, counted at once, so that concurrent submits cannot pass
// a limit together.
func (c *Checker) Admit(op queue.Operation) (func(), error) {
	if !op.SideEffect {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, halted := c.halts[op.Terminal]; halted && c.IsOrder(op) {
		return nil, c.refuse(&Refusal{Terminal: op.Terminal, Rule: RuleHalt, Limit: "halted", Value: op.Name,
			Reason: fmt.Sprintf("the terminal is halted by the kill switch since %s (%s): no new orders until POST /api/v1/risk/resume",
				h.At.In(ChinaTime).Format(time.RFC3339), orNone(h.Reason))})
	}
	r := c.rules[op.Terminal]
	if r == nil {
		return nil, nil // no limits: nothing to check or count
	}
	f, ok := c.facts(op)
	if !ok {
		return nil, nil // not an order the limits know (a cancel, a repo)
	}
	t := c.tally(op.Terminal)
	value, valued := c.notional(op.Terminal, f)
	if ref := c.check(r, t, op, f, value, valued); ref != nil {
		return nil, c.refuse(ref)
	}
	t.add(op, f, value)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.remove(op.ID)
	}, nil
}

// Revoked refuses, as it is about to be queued, an order admitted before
// its terminal was halted (queue.Admission): its journal write was under
// way when the halt swept the queue.
func (c *Checker) Revoked(op queue.Operation) error {
	if !op.SideEffect {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, halted := c.halts[op.Terminal]; halted && c.IsOrder(op) {
		return c.refuse(&Refusal{Terminal: op.Terminal, Rule: RuleHalt, Limit: "halted", Value: op.Name,
			Reason: fmt.Sprintf("the terminal was halted by the kill switch at %s (%s) while this order was being journaled: it was cancelled, not queued",
				h.At.In(ChinaTime).Format(time.RFC3339), orNone(h.Reason))})
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func (c *Checker) refuse(r *Refusal) error {
	c.refusals[[2]string{r.Terminal, r.Rule}]++
	return r
}

// tally is terminal's counters for today, rolled over at midnight. Called
// with c.mu held.
func (c *Checker) tally(terminal string) *tally {
	day := dayOf(c.now())
	t := c.tallies[terminal]
	if t == nil || !t.day.Equal(day) {
		t = newTally(day)
		c.tallies[terminal] = t
	}
	return t
}

// check applies r to a new order; nil when it passes. Called with c.mu
// held.
func (c *Checker) check(r *Rules, t *tally, op queue.Operation, f Facts, value decimal.Decimal, valued bool) *Refusal {
	refuse := func(rule, limit, val, reason string) *Refusal {
		return &Refusal{Terminal: op.Terminal, Rule: rule, Limit: limit, Value: val, Reason: reason}
	}
	if r.Deny != nil && slices.Contains(r.Deny, f.Symbol) {
		return refuse(RuleDeny, "["+joinQuoted(r.Deny)+"]", f.Symbol, f.Symbol+" is on the deny-list")
	}
	if r.Allow != nil && !slices.Contains(r.Allow, f.Symbol) {
		return refuse(RuleAllow, "["+joinQuoted(r.Allow)+"]", f.Symbol, f.Symbol+" is not on the allow-list")
	}
	// An order held for a not_before is placed then, not now.
	at := c.now()
	if op.NotBefore.After(at) {
		at = op.NotBefore
	}
	if !r.Hours.open(at, r.holidays) {
		when := at.In(ChinaTime).Format("2006-01-02 15:04:05 Mon")
		reason := "outside trading hours"
		if r.holidays[at.In(ChinaTime).Format(time.DateOnly)] {
			reason = "a holiday"
		}
		return refuse(RuleTradingHours, r.Hours.String(), when, fmt.Sprintf("%s is %s", when, reason))
	}
	needValue := r.MaxOrderNotional != nil || (f.Side == Buy && r.MaxDailyBuyNotional != nil) ||
		(f.Side == Sell && r.MaxDailySellNotional != nil)
	if needValue && !valued {
		return refuse(RuleMaxOrderNotional, "a known notional", "unknown",
			"a market order on "+f.Symbol+" cannot be valued: no last price is known for it, and a notional limit applies (send a limit order)")
	}
	if r.MaxOrderNotional != nil && value.GreaterThan(*r.MaxOrderNotional) {
		return refuse(RuleMaxOrderNotional, r.MaxOrderNotional.String(), value.String(),
			fmt.Sprintf("the order's notional %s is over the limit per order", value))
	}
	if f.Side == Buy && r.MaxDailyBuyNotional != nil {
		if sum := t.buy.Add(value); sum.GreaterThan(*r.MaxDailyBuyNotional) {
			return refuse(RuleMaxDailyBuyNotional, r.MaxDailyBuyNotional.String(), sum.String(),
				fmt.Sprintf("today's buys (open and filled: %s) plus this order (%s) would be over the daily limit", t.buy, value))
		}
	}
	if f.Side == Sell && r.MaxDailySellNotional != nil {
		if sum := t.sell.Add(value); sum.GreaterThan(*r.MaxDailySellNotional) {
			return refuse(RuleMaxDailySellNotional, r.MaxDailySellNotional.String(), sum.String(),
				fmt.Sprintf("today's sells (open and filled: %s) plus this order (%s) would be over the daily limit", t.sell, value))
		}
	}
	now := c.now()
	if r.MaxOrdersPerMinute != nil {
		if n := int64(t.lastMinute(now)) + 1; n > *r.MaxOrdersPerMinute {
			return refuse(RuleMaxOrdersPerMinute, fmt.Sprint(*r.MaxOrdersPerMinute), fmt.Sprint(n),
				fmt.Sprintf("this would be order %d within the last 60 seconds", n))
		}
	}
	if r.MaxOrdersPerDay != nil {
		if n := int64(t.count) + 1; n > *r.MaxOrdersPerDay {
			return refuse(RuleMaxOrdersPerDay, fmt.Sprint(*r.MaxOrdersPerDay), fmt.Sprint(n),
				fmt.Sprintf("this would be order %d today", n))
		}
	}
	if f.Side == Buy && r.MaxPosition != nil {
		if pos := t.position[f.Symbol].Add(f.Quantity); pos.GreaterThan(*r.MaxPosition) {
			return refuse(RuleMaxPosition, r.MaxPosition.String(), pos.String(),
				fmt.Sprintf("today's buys of %s (open and filled, less filled sells: %s) plus this order (%s) would be over the position limit",
					f.Symbol, t.position[f.Symbol], f.Quantity))
		}
	}
	if r.PriceCollarPercent != nil && !f.Price.IsZero() && c.prices != nil {
		if last, ok := c.prices.LastPrice(op.Terminal, f.Symbol); ok && last.IsPositive() {
			off := f.Price.Sub(last).Abs().Div(last).Mul(decimal.NewFromInt(100))
			if off.GreaterThan(*r.PriceCollarPercent) {
				return refuse(RulePriceCollar, r.PriceCollarPercent.String()+"%", off.StringFixed(2)+"%",
					fmt.Sprintf("the price %s is %s%% from the last price %s of %s", f.Price, off.StringFixed(2), last, f.Symbol))
			}
		}
	}
	return nil
}

func joinQuoted(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", s)
	}
	return out
}

// OperationChanged settles a counted order when it ends (queue.Observer):
// a cancelled one (never reached the venue) no longer counts at all; one
// that failed with a venue's answer counts as an order but not as exposure;
// one whose outcome is unknown (outcome_unknown, interrupted) counts in
// full, for it may be at the venue.
func (c *Checker) OperationChanged(op queue.Operation) {
	if !op.SideEffect || !op.Status.Final() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.tallies[op.Terminal]; t != nil {
		t.settle(op)
	}
}

// LaneChanged is part of queue.Observer; lanes do not matter here.
func (c *Checker) LaneChanged(string, queue.LaneState) {}
