package risk

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
)

// Usage is one rule of a terminal: its limit and how much of it is used.
type Usage struct {
	Rule  string `json:"rule"`
	Limit string `json:"limit"`
	// Used is today's value (or the last minute's, for
	// max_orders_per_minute); null for rules without a counter.
	Used *string `json:"used"`
}

// TerminalStatus is one terminal's limits, usage and halt.
type TerminalStatus struct {
	Terminal string  `json:"terminal"`
	Limited  bool    `json:"limited"` // false: no [risk] table applies
	Halted   bool    `json:"halted"`
	Halt     *Halt   `json:"halt"`
	Day      string  `json:"day"` // the trading day the counters are for
	Orders   int     `json:"orders_today"`
	Rules    []Usage `json:"rules"`
	// Positions are today's buys less filled sells, by symbol (non-zero).
	Positions map[string]string `json:"positions"`
}

// Status reports every terminal's limits and usage, in terminal order.
func (c *Checker) Status() []TerminalStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	out := make([]TerminalStatus, 0, len(c.order))
	for _, name := range c.order {
		t := c.tally(name)
		st := TerminalStatus{Terminal: name, Day: t.day.Format(time.DateOnly), Orders: t.count,
			Rules: []Usage{}, Positions: map[string]string{}}
		if h, ok := c.halts[name]; ok {
			st.Halted, st.Halt = true, &h
		}
		for sym, p := range t.position {
			if !p.IsZero() {
				st.Positions[sym] = p.String()
			}
		}
		if r := c.rules[name]; r != nil {
			st.Limited = true
			st.Rules = usages(r, t, now)
		}
		out = append(out, st)
	}
	return out
}

func usages(r *Rules, t *tally, now time.Time) []Usage {
	var out []Usage
	dec := func(rule string, limit *decimal.Decimal, used *decimal.Decimal) {
		if limit == nil {
			return
		}
		u := Usage{Rule: rule, Limit: limit.String()}
		if used != nil {
			s := used.String()
			u.Used = &s
		}
		out = append(out, u)
	}
	count := func(rule string, limit *int64, used int) {
		if limit == nil {
			return
		}
		s := decimal.NewFromInt(int64(used)).String()
		out = append(out, Usage{Rule: rule, Limit: decimal.NewFromInt(*limit).String(), Used: &s})
	}
	dec(RuleMaxOrderNotional, r.MaxOrderNotional, nil)
	dec(RuleMaxDailyBuyNotional, r.MaxDailyBuyNotional, &t.buy)
	dec(RuleMaxDailySellNotional, r.MaxDailySellNotional, &t.sell)
	count(RuleMaxOrdersPerMinute, r.MaxOrdersPerMinute, t.lastMinute(now))
	count(RuleMaxOrdersPerDay, r.MaxOrdersPerDay, t.count)
	dec(RuleMaxPosition, r.MaxPosition, maxPosition(t))
	dec(RulePriceCollar, r.PriceCollarPercent, nil)
	if r.Allow != nil {
		out = append(out, Usage{Rule: RuleAllow, Limit: "[" + joinQuoted(r.Allow) + "]"})
	}
	if r.Deny != nil {
		out = append(out, Usage{Rule: RuleDeny, Limit: "[" + joinQuoted(r.Deny) + "]"})
	}
	out = append(out, Usage{Rule: RuleTradingHours, Limit: r.Hours.String()})
	return out
}

// maxPosition is the largest position of any symbol.
func maxPosition(t *tally) *decimal.Decimal {
	var top decimal.Decimal
	for _, p := range t.position {
		if p.GreaterThan(top) {
			top = p
		}
	}
	return &top
}

// Collector gives the risk metrics to Prometheus, read when scraped:
// brokerd_risk_limit and brokerd_risk_used (labels terminal, rule),
// brokerd_risk_refusals_total (terminal, rule) and brokerd_risk_halted
// (terminal).
func (c *Checker) Collector() prometheus.Collector { return collector{c} }

var (
	descLimit = prometheus.NewDesc("brokerd_risk_limit", "A risk rule's limit (amounts in the terminal's currency, counts, percent).",
		[]string{"terminal", "rule"}, nil)
	descUsed = prometheus.NewDesc("brokerd_risk_used", "How much of a risk rule's limit today's orders use (the last minute's, for max_orders_per_minute; the largest symbol's, for max_position).",
		[]string{"terminal", "rule"}, nil)
	descRefusals = prometheus.NewDesc("brokerd_risk_refusals_total", "Orders refused at submit by a risk rule (or the halt) since start.",
		[]string{"terminal", "rule"}, nil)
	descHalted = prometheus.NewDesc("brokerd_risk_halted", "1 while the terminal is halted by the kill switch.",
		[]string{"terminal"}, nil)
)

type collector struct{ c *Checker }

func (m collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLimit
	ch <- descUsed
	ch <- descRefusals
	ch <- descHalted
}

func (m collector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range m.c.Status() {
		halted := 0.0
		if st.Halted {
			halted = 1
		}
		ch <- prometheus.MustNewConstMetric(descHalted, prometheus.GaugeValue, halted, st.Terminal)
		for _, u := range st.Rules {
			limit, err := decimal.NewFromString(u.Limit)
			if err != nil {
				continue // lists and hours have no number
			}
			ch <- prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, limit.InexactFloat64(), st.Terminal, u.Rule)
			if u.Used != nil {
				used, _ := decimal.NewFromString(*u.Used)
				ch <- prometheus.MustNewConstMetric(descUsed, prometheus.GaugeValue, used.InexactFloat64(), st.Terminal, u.Rule)
			}
		}
	}
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	for k, n := range m.c.refusals {
		ch <- prometheus.MustNewConstMetric(descRefusals, prometheus.CounterValue, float64(n), k[0], k[1])
	}
}
