package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Deps are what a sim terminal takes from its surroundings.
type Deps struct {
	// Now is the sim clock; nil means time.Now. Trading days, the price
	// path and T+1 all follow it.
	Now func() time.Time
	// Ledger persists the account; nil keeps it in memory only.
	Ledger Ledger
	// After is how the terminal waits out its latency and stall faults;
	// nil means time.After. Tests pass a channel they control.
	After func(time.Duration) <-chan time.Time
	// Publish reports what the broker does on its own: a resting order
	// that fills, a condition order that fires (events.go). nil: nobody
	// is told. It must not block.
	Publish func(automation.VenueEvent)
}

// Terminal is a simulated A-share broker terminal. It implements
// automation.StockBroker. Its methods are safe for concurrent use: the
// queue calls the broker methods one at a time, while State, Quote,
// SetQuote, Inject, ClearFaults and Faults may come from other goroutines.
type Terminal struct {
	name    string
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	ledger  Ledger
	publish func(automation.VenueEvent)
	pending []automation.VenueEvent // events of changes not saved yet (events.go); guarded by mu
	latency time.Duration
	fees    feeSchedule
	repo    repoTable

	ctl control

	// mu guards the account. It is never held while waiting out latency
	// or a fault; it is held while the ledger saves, so that nobody sees
	// a change that might still be rolled back.
	mu          sync.Mutex
	st          *state
	day         dayLog // today's orders, open and finished
	prices      *priceModel
	evaluatedAt time.Time // the sim-clock instant the account is up to
	saved       []byte    // the state as last saved (nil without a ledger)
	savedAt     time.Time // evaluatedAt as last saved
	// changed is set by every change to st since the last save, so that
	// a call that changed nothing costs no encoding.
	changed bool
	// retired are the records that finished since the last save, taken
	// out of st, for it to archive (see archive.go).
	retired retired
	// pruneDue is set when the account rolls to a new day, until the
	// archive has dropped what is older than the history kept.
	pruneDue bool
	memory   memoryArchive // the archive without a ledger
}

var _ automation.StockBroker = (*Terminal)(nil)

// New builds a sim terminal named name. With a Ledger, the account stored
// under name is loaded; when none is stored, a new account is opened from
// opts and saved before New returns. ctx bounds that loading.
func New(ctx context.Context, name string, opts Options, deps Deps) (*Terminal, error) {
	if name == "" {
		return nil, errors.New("sim: a terminal needs a name")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := &Terminal{
		name:    name,
		now:     deps.Now,
		after:   deps.After,
		ledger:  deps.Ledger,
		publish: deps.Publish,
		latency: time.Duration(opts.Latency),
		fees:    opts.fees(),
		repo:    newRepoTable(opts.RepoRates),
		prices:  newPriceModel(opts.Seed, opts.Volatility),
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.after == nil {
		t.after = time.After
	}
	t.ctl.state = automation.StateReady
	if err := t.load(ctx, opts); err != nil {
		return nil, err
	}
	for _, f := range opts.Faults {
		t.ctl.inject(f)
	}
	return t, nil
}

// load loads the stored account or opens a new one.
func (t *Terminal) load(ctx context.Context, opts Options) error {
	if t.ledger != nil {
		raw, err := t.ledger.LoadLedger(ctx, t.name)
		if err != nil {
			return fmt.Errorf("sim %s: cannot load the ledger: %w", t.name, err)
		}
		if raw != nil {
			st, finished, at, legacy, err := decodeEnvelope(raw)
			if err != nil {
				return fmt.Errorf("sim %s: %w", t.name, err)
			}
			t.setState(st, at)
			if legacy {
				if err := t.upgrade(ctx, finished); err != nil {
					return err
				}
			} else if t.saved, err = json.Marshal(st); err != nil {
				return fmt.Errorf("sim %s: %w", t.name, err)
			}
			t.savedAt = at
			if err := t.loadDay(ctx); err != nil {
				return fmt.Errorf("sim %s: %w", t.name, err)
			}
			return nil
		}
	}
	now := t.now()
	here := pointOf(now)
	cash, _ := yuanToCents(opts.InitialCash) // validated
	st := newState(here.Day, dayOf(now), cash)
	t.setState(st, now)
	t.day.reset(nil)
	for code, q := range opts.Quotes {
		in, _ := classifyTradable(code)
		m, _ := in.parsePrice(q)
		st.Quotes[code] = anchor{At: here, Price: m, PrevClose: m}
	}
	for code, qty := range opts.Positions {
		in, _ := classifyTradable(code)
		price, _ := t.priceAt(in, here)
		st.Positions[code] = &position{Quantity: qty, Cost: amountCents(price, qty)}
	}
	if t.ledger == nil {
		return nil
	}
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sim %s: cannot encode the new account: %w", t.name, err)
	}
	raw, err := encodeEnvelope(body, now)
	if err != nil {
		return fmt.Errorf("sim %s: cannot encode the new account: %w", t.name, err)
	}
	if err := t.ledger.SaveLedger(ctx, t.name, raw); err != nil {
		return fmt.Errorf("sim %s: cannot save the new account: %w", t.name, err)
	}
	t.saved, t.savedAt = body, now
	return nil
}

// upgrade moves the finished records an older ledger kept in its state
// to the archive, and saves the state in the current version, in one
// write. It runs before the terminal is used: a failure fails New.
func (t *Terminal) upgrade(ctx context.Context, finished retired) error {
	t.retired = finished
	records, err := t.archiveRecords()
	var body, raw []byte
	if err == nil {
		body, err = json.Marshal(t.st)
	}
	if err == nil {
		raw, err = encodeEnvelope(body, t.evaluatedAt)
	}
	if err == nil {
		err = t.ledger.ArchiveLedger(ctx, t.name, records, raw)
	}
	if err != nil {
		return fmt.Errorf("sim %s: cannot move the ledger's history to its archive: %w", t.name, err)
	}
	t.saved, t.retired, t.pruneDue = body, retired{}, true
	t.pruneArchive(ctx)
	return nil
}

// setState installs st and rebuilds what is derived from it but the day's
// log (see loadDay and rollback). Records that finished since the state
// it replaces are forgotten: st is the state they were taken from, or one
// that holds them no more.
func (t *Terminal) setState(st *state, evaluatedAt time.Time) {
	t.st, t.evaluatedAt, t.changed = st, evaluatedAt, false
	t.retired = retired{}
	t.prices.reset()
}

// run carries out one terminal action: connection and faults, latency,
// then — under the lock — bringing the account up to now, the action, and
// saving what changed. An action that fails changes nothing but the
// replay of time.
//
// Its context can end it only before it has happened: while it waits
// (prepare), or at a save, which a ledger that gives up leaves undone (see
// Ledger) and commit rolls back. Either way nothing was carried out, and
// the error says timeout or interrupted (see notCarriedOut). Once the save
// has returned, the action has happened and its result is returned,
// whatever the context says by then.
func run[T any](ctx context.Context, t *Terminal, op string, act func(now time.Time) (T, error)) (T, error) {
	var zero T
	fault, err := t.prepare(ctx, op)
	if err != nil {
		return zero, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.advance(now)
	if !t.retired.empty() {
		// The replay finished records (a new day ended the open
		// orders, a resting order filled): save them first, so that
		// the action finds them in the archive and that, if they
		// cannot be saved, it fails before it happens.
		if err := t.commit(ctx); err != nil {
			return zero, t.cutShort(ctx, op, err)
		}
	}
	res, actErr := act(now)
	if err := t.commit(ctx); err != nil && actErr == nil {
		return zero, t.cutShort(ctx, op, err)
	}
	if actErr != nil {
		return zero, t.cutShort(ctx, op, actErr)
	}
	if fault.Kind == FaultLostReply {
		return zero, automation.OutcomeUnknown(nil,
			"sim terminal %s: %s was carried out but its reply was lost (injected fault); look it up before retrying", t.name, op)
	}
	return res, nil
}

// cutShort tells an action that failed because its context ended — a
// ledger read or save that gave up — from one that failed on its own. It
// is used only where the failure left nothing changed: the action failed
// before changing the account, or its save was not stored and was rolled
// back.
func (t *Terminal) cutShort(ctx context.Context, op string, err error) error {
	if endedBy(ctx, err) {
		return notCarriedOut(ctx, "sim terminal %s: %s", t.name, op)
	}
	return err
}

// Name is the terminal's configured name.
func (t *Terminal) Name() string { return t.name }

// Driver is "sim".
func (t *Terminal) Driver() string { return "sim" }

// State is ready, or disconnected after a disconnect fault or Close.
func (t *Terminal) State() automation.State { return t.ctl.get() }

// Supports is true for every A-share operation.
func (t *Terminal) Supports(operation string) bool {
	return slices.Contains(automation.StockOperations, operation)
}

// Reconnect restores a disconnected sim after its latency.
func (t *Terminal) Reconnect(ctx context.Context) error {
	if err := t.ctl.reopen(); err != nil {
		return fmt.Errorf("sim terminal %s: %w", t.name, err)
	}
	prev := t.ctl.get()
	t.ctl.set(automation.StateReconnecting)
	if err := t.wait(ctx, "reconnect"); err != nil {
		t.ctl.set(prev)
		return err
	}
	t.ctl.set(automation.StateReady)
	return nil
}

// Close makes the terminal unusable. Every change is saved as it happens,
// so there is nothing to flush.
func (t *Terminal) Close() error {
	t.ctl.close()
	return nil
}
