package paper

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// Terminal is a paper exchange: an automation.Exchange and
// automation.SymbolRules. Its methods are safe for concurrent use; State,
// Quote and CachedSymbol never wait for the lock the others hold while the
// account is saved.
type Terminal struct {
	name   string
	cfg    Config
	ledger automation.Ledger
	now    func() time.Time
	emit   func(automation.VenueEvent)
	closed atomic.Bool

	// board is what the non-blocking readers see: a copy of the rules and
	// quotes, replaced after every save.
	board struct {
		sync.RWMutex
		rules  map[string]automation.SymbolInfo
		quotes map[string]decimal.Decimal
	}

	// mu guards the account. It is held while the ledger saves, so that
	// nobody sees a change that might still be rolled back; never while
	// waiting out the latency.
	mu       sync.Mutex
	rules    map[string]automation.SymbolInfo // the symbols listed
	st       *state
	saved    []byte   // the state as last saved
	changed  bool     // st differs from saved
	retiring []*order // finished since the last save, for it to archive
	recent   []*order // finished in the last finishedKept, by finishing
	byID     map[string]*order
	byClient map[string]*order // the newest order with the id
	// prunedBefore is the day the archive was last pruned before.
	prunedBefore time.Time
}

var (
	_ automation.Exchange    = (*Terminal)(nil)
	_ automation.SymbolRules = (*Terminal)(nil)
)

// Open is the paper exchange's automation.Opener: the options are read as
// doc.go says, and the account is kept in env.Ledger (the journal).
func Open(ctx context.Context, name string, opts automation.Options, env automation.Env) (automation.Terminal, error) {
	cfg, err := ParseOptions(opts)
	if err != nil {
		return nil, err
	}
	return New(ctx, name, cfg, env)
}

// New builds a paper exchange named name. With env.Ledger, the account
// stored under name is loaded, or a new one opened from cfg and saved
// before New returns; ctx bounds that.
func New(ctx context.Context, name string, cfg Config, env automation.Env) (*Terminal, error) {
	if name == "" {
		return nil, errors.New("paper: a terminal needs a name")
	}
	if cfg.Leverage.IsZero() {
		cfg.Leverage = decimal.NewFromInt(1)
	}
	t := &Terminal{
		name:   name,
		cfg:    cfg,
		ledger: env.Ledger,
		now:    env.Clock(),
		emit:   env.Emit,
		rules:  maps.Clone(cfg.Symbols),
	}
	if t.rules == nil {
		t.rules = make(map[string]automation.SymbolInfo)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.load(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// publish copies the rules and quotes for the non-blocking readers. The
// caller holds mu.
func (t *Terminal) publish() {
	t.board.Lock()
	t.board.rules = maps.Clone(t.rules)
	t.board.quotes = maps.Clone(t.st.Quotes)
	t.board.Unlock()
}

// Name is the terminal's configured name.
func (t *Terminal) Name() string { return t.name }

// Driver is "paper".
func (t *Terminal) Driver() string { return "paper" }

// State is ready until Close.
func (t *Terminal) State() automation.State {
	if t.closed.Load() {
		return automation.StateDisconnected
	}
	return automation.StateReady
}

// operations are the exchange operations the paper exchange carries out.
var operations = []string{
	automation.OpPlaceOrder, automation.OpCancelOrder, automation.OpOrderStatus, automation.OpOpenOrders,
	automation.OpAsset, automation.OpPosition, automation.OpSymbolInfo,
}

// Supports is true for the exchange set but close_position (a CTP
// operation).
func (t *Terminal) Supports(operation string) bool { return slices.Contains(operations, operation) }

// Reconnect has nothing to re-establish; a closed terminal stays closed.
func (t *Terminal) Reconnect(ctx context.Context) error {
	if t.closed.Load() {
		return automation.NotConnected("paper terminal %s is closed", t.name)
	}
	return ctx.Err()
}

// Close makes the terminal unusable. Every change is saved as it happens,
// so there is nothing to flush.
func (t *Terminal) Close() error {
	t.closed.Store(true)
	return nil
}

// Quote is the symbol's current price.
func (t *Terminal) Quote(symbol string) (decimal.Decimal, bool) {
	t.board.RLock()
	defer t.board.RUnlock()
	q, ok := t.board.quotes[symbol]
	return q, ok
}

// CachedSymbol is the symbol's rules, without waiting.
func (t *Terminal) CachedSymbol(symbol string) (automation.SymbolInfo, bool) {
	t.board.RLock()
	defer t.board.RUnlock()
	info, ok := t.board.rules[symbol]
	return info, ok
}

// run carries out one exchange operation: the latency, then, under the
// lock, the action and the save of what it changed. An action that fails
// changes nothing; a save that fails is rolled back (see commit).
//
// ctx can end it only before it has happened: while it waits, or at a
// save that gave up (which stored nothing); the error then says timeout
// or interrupted. Once saved, the result is returned whatever ctx says.
func run[T any](ctx context.Context, t *Terminal, op string, act func(now time.Time) (T, error)) (T, error) {
	var zero T
	if err := t.prepare(ctx, op); err != nil {
		return zero, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.pruneRecent(now)
	res, err := act(now)
	if err != nil {
		if t.changed {
			t.rollback()
		}
		return zero, err
	}
	if err := t.commit(ctx); err != nil {
		return zero, t.cutShort(ctx, op, err)
	}
	return res, nil
}

// prepare refuses an operation on a closed terminal and waits out the
// latency, giving up when ctx ends.
func (t *Terminal) prepare(ctx context.Context, op string) error {
	if t.closed.Load() {
		return automation.NotConnected("paper terminal %s is closed", t.name)
	}
	if ctx.Err() != nil {
		return notCarriedOut(ctx, "paper terminal %s: %s", t.name, op)
	}
	if t.cfg.Latency <= 0 {
		return nil
	}
	timer := time.NewTimer(t.cfg.Latency)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return notCarriedOut(ctx, "paper terminal %s: %s", t.name, op)
	case <-timer.C:
		return nil
	}
}

// cutShort tells a save that gave up because ctx ended from one that
// failed on its own; either way nothing was carried out.
func (t *Terminal) cutShort(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, context.Cause(ctx))) {
		return notCarriedOut(ctx, "paper terminal %s: %s", t.name, op)
	}
	return err
}

// notCarriedOut is the error of an operation ctx ended before it was
// carried out.
func notCarriedOut(ctx context.Context, format string, args ...any) error {
	cause := context.Cause(ctx)
	code, why := automation.CodeInterrupted, "brokerd stopped it before it was carried out; nothing was done"
	if errors.Is(cause, context.DeadlineExceeded) {
		code, why = automation.CodeTimeout, "its deadline passed before it was carried out; nothing was done"
	}
	return &automation.Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + why, Err: cause}
}

// orderNumber is an order id as the number it is.
func orderNumber(o *order) int64 {
	n, _ := strconv.ParseInt(o.OrderID, 10, 64)
	return n
}
