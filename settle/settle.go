// Package settle finds out, at the venue, what became of the orders whose
// outcome brokerd does not know: a place_order (or close_position) that
// ended outcome_unknown because the venue could not be asked before its
// deadline, or that a crash left running (interrupted). It asks the venue
// for the order by the client order id brokerd sent — never by sending the
// order again — and records what it found on the operation (data.settled_at,
// data.settlement), keeping its status and error code: the answer a script
// already had is completed, not rewritten.
package settle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// Journal is what the settler needs of the queue: a look at the venue that
// never overlaps an operation of the terminal's lane, and a way to record
// what it found.
type Journal interface {
	Exclusive(ctx context.Context, terminal string, fn func(ctx context.Context) error) error
	Amend(ctx context.Context, id string, result json.RawMessage, message string) error
}

// Outcomes of a settlement.
const (
	Found       = "found"       // the venue has the order: it was placed
	Absent      = "absent"      // the venue confirms it has none: nothing was placed
	Unsupported = "unsupported" // the terminal cannot look orders up by client order id
)

// Result is the data recorded on a settled operation.
type Result struct {
	SettledAt     string                    `json:"settled_at"`
	Settlement    string                    `json:"settlement"` // Found, Absent or Unsupported
	ClientOrderID string                    `json:"client_order_id"`
	Symbol        string                    `json:"symbol"`
	Order         *automation.ExchangeOrder `json:"order"`
}

// Config tunes the settler; zero values take the defaults.
type Config struct {
	// GiveUpAfter is how long after its submit an order is still looked
	// for (default 24h: venues keep client order ids about that long).
	GiveUpAfter time.Duration
	// FirstRetry and MaxRetry bound the backoff between lookups (default
	// 1s and 1m); each wait gets up to 20% jitter.
	FirstRetry, MaxRetry time.Duration
	// AttemptTimeout bounds one lookup, the wait for the lane included
	// (default 30s).
	AttemptTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = 24 * time.Hour
	}
	if c.FirstRetry <= 0 {
		c.FirstRetry = time.Second
	}
	if c.MaxRetry <= 0 {
		c.MaxRetry = time.Minute
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 30 * time.Second
	}
	return c
}

// Settler settles unknown outcomes in the background. It is a
// queue.Observer (OperationChanged hands it every finished operation,
// without blocking); Run does the work until its ctx ends.
type Settler struct {
	cfg       Config
	exchanges map[string]automation.Exchange
	log       *slog.Logger
	now       func() time.Time

	pending chan queue.Operation
	mu      sync.Mutex
	active  map[string]bool // operation ids being settled
}

// New builds a settler over the exchange terminals among terminals (the
// others are never asked). now nil means time.Now.
func New(cfg Config, terminals []automation.Terminal, log *slog.Logger, now func() time.Time) *Settler {
	s := &Settler{
		cfg: cfg.withDefaults(), exchanges: make(map[string]automation.Exchange),
		log: log, now: now, pending: make(chan queue.Operation, 256), active: make(map[string]bool),
	}
	for _, t := range terminals {
		if x, ok := t.(automation.Exchange); ok {
			s.exchanges[t.Name()] = x
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Unsettled reports whether op is an order whose outcome is not known and
// not yet looked up.
func Unsettled(op queue.Operation) bool {
	if op.Status != queue.StatusFailed || (op.Name != automation.OpPlaceOrder && op.Name != automation.OpClosePosition) {
		return false
	}
	if op.ErrorCode != queue.CodeOutcomeUnknown && op.ErrorCode != queue.CodeInterrupted {
		return false
	}
	var seen struct {
		SettledAt string `json:"settled_at"`
	}
	_ = json.Unmarshal(op.Result, &seen) // no result, or another shape: not settled
	return seen.SettledAt == ""
}

// OperationChanged implements queue.Observer: an unsettled order is handed
// to Run. It never blocks (every other observer's event waits behind it):
// when Run is behind, the order is left for the next start, whose scan
// finds it.
func (s *Settler) OperationChanged(op queue.Operation) {
	if !Unsettled(op) || s.exchanges[op.Terminal] == nil {
		return
	}
	select {
	case s.pending <- op:
	default:
		s.log.Warn("settlement backlog full: the order is looked up at the next start", "operation_id", op.ID)
	}
}

// LaneChanged implements queue.Observer.
func (s *Settler) LaneChanged(string, queue.LaneState) {}

// Run settles the given operations (the journal's unsettled orders, found
// at start) and every one OperationChanged hands it, through journal (the
// queue), until ctx ends. It returns once every lookup it started has
// stopped.
func (s *Settler) Run(ctx context.Context, journal Journal, found []queue.Operation) {
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(op queue.Operation) {
		if !Unsettled(op) || s.exchanges[op.Terminal] == nil {
			return
		}
		s.mu.Lock()
		busy := s.active[op.ID]
		s.active[op.ID] = true
		s.mu.Unlock()
		if busy {
			return
		}
		wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.active, op.ID)
				s.mu.Unlock()
			}()
			s.settle(ctx, journal, op)
		})
	}
	for _, op := range found {
		start(op)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case op := <-s.pending:
			start(op)
		}
	}
}

// settle looks op's order up until the venue answers, it is too old, or
// ctx ends.
func (s *Settler) settle(ctx context.Context, journal Journal, op queue.Operation) {
	x := s.exchanges[op.Terminal]
	var p struct {
		Symbol string `json:"symbol"`
	}
	_ = json.Unmarshal(op.Params, &p) // validated at submit
	ref := automation.OrderRef{Symbol: p.Symbol, ClientOrderID: plugins.ClientOrderID(op.IdempotencyKey, op.ID)}
	log := s.log.With("operation_id", op.ID, "terminal", op.Terminal, "client_order_id", ref.ClientOrderID)
	log.Info("settling an order whose outcome is unknown: asking the venue by its client order id", "error_code", op.ErrorCode)

	wait := s.cfg.FirstRetry
	for attempt := 1; ; attempt++ {
		order, err := s.lookup(ctx, journal, x, op.Terminal, ref)
		outcome := ""
		switch {
		case err == nil:
			outcome = Found
		case errors.Is(err, automation.ErrNoSuchOrder):
			outcome = Absent
		case automation.CodeOf(err) == automation.CodeUnsupported:
			outcome = Unsupported
		}
		if outcome != "" {
			s.record(ctx, journal, log, op, ref, outcome, order)
			return
		}
		if ctx.Err() != nil {
			log.Info("settlement stopped by shutdown: the next start looks again")
			return
		}
		if s.now().Sub(op.SubmittedAt) > s.cfg.GiveUpAfter {
			log.Error("gave up settling: the venue could not be asked in time; check the account", "attempts", attempt, "err", err)
			return
		}
		log.Warn("settlement lookup failed; trying again", "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait)/5+1))):
		}
		wait = min(wait*2, s.cfg.MaxRetry)
	}
}

// lookup asks the venue once, while the terminal's lane runs nothing.
func (s *Settler) lookup(ctx context.Context, journal Journal, x automation.Exchange, terminal string, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	var order automation.ExchangeOrder
	err := journal.Exclusive(ctx, terminal, func(ctx context.Context) error {
		var err error
		order, err = x.OrderStatus(ctx, ref)
		return err
	})
	return order, err
}

// record amends op with what was found. The write is not cut short by a
// shutdown: what the venue said must not be lost for a cancelled ctx.
func (s *Settler) record(ctx context.Context, journal Journal, log *slog.Logger, op queue.Operation, ref automation.OrderRef, outcome string, order automation.ExchangeOrder) {
	res := Result{SettledAt: s.now().UTC().Format(time.RFC3339Nano), Settlement: outcome, ClientOrderID: ref.ClientOrderID, Symbol: ref.Symbol}
	var msg string
	switch outcome {
	case Found:
		res.Order = &order
		msg = fmt.Sprintf("settled after the fact: the order is at the venue (order %s, %s, %s filled); it was placed once and is not sent again", order.OrderID, order.Status, order.ExecutedQuantity)
	case Absent:
		msg = "settled after the fact: the venue has no order " + ref.ClientOrderID + "; nothing was placed"
	default:
		msg = "cannot be settled: terminal " + op.Terminal + " cannot look orders up by client order id; check the account before placing it again"
	}
	data := merged(op.Result, res)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := journal.Amend(wctx, op.ID, data, msg); err != nil {
		log.Error("record a settlement", "settlement", outcome, "err", err)
		return
	}
	log.Info("settled an unknown outcome", "settlement", outcome, "order_id", order.OrderID, "status", order.Status)
}

// merged is the operation's result with the settlement's fields added (or
// replaced): what the plugin recorded when it failed (the client order id,
// a venue's candidates) stays beside what the venue said later.
func merged(result json.RawMessage, res Result) json.RawMessage {
	fields := map[string]any{}
	_ = json.Unmarshal(result, &fields) // no result, or not an object: the settlement alone
	if fields == nil {
		fields = map[string]any{}
	}
	b, _ := json.Marshal(res) // plain values
	var add map[string]any
	_ = json.Unmarshal(b, &add)
	for k, v := range add {
		fields[k] = v
	}
	out, _ := json.Marshal(fields)
	return out
}
