package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Ledger keeps a sim account across restarts: its live state, replaced at
// every change, and the archive of its finished history (see archive.go).
// It is the journal's port for drivers that persist (automation.Ledger),
// which the store implements; a nil Ledger keeps the account in memory.
type Ledger = automation.Ledger

var _ archive = Ledger(nil)

// ledgerVersion is the format of the saved JSON; a stored ledger of
// another version is refused rather than misread. Version 1 kept the whole
// history in the state, version 2 today's finished orders and trades; this
// build reads both and moves what they hold that has finished to the
// archive on loading. Version 3 keeps only what can still change.
const (
	ledgerVersion  = 3
	ledgerVersion1 = 1
	ledgerVersion2 = 2
)

// envelope is what SaveLedger receives.
type envelope struct {
	Version int `json:"version"`
	// EvaluatedAt is the sim-clock instant the state was brought up to;
	// the replay resumes from it after a restart.
	EvaluatedAt time.Time       `json:"evaluated_at"`
	State       json.RawMessage `json:"state"`
}

// state is the live account: only what can still change, so that saving
// it after an action costs what the open positions and orders hold, not
// what the day or the year did. A record that finishes — a filled,
// cancelled or rejected order, a trade, an ended condition order, a repaid
// loan — goes to the archive with the save of the action that finished it
// (see archive.go). Every field is persisted; the terminal's indexes are
// rebuilt from it and from today's archived orders.
type state struct {
	// Genesis is the trading day the account was opened: codes never
	// quoted start their price path there.
	Genesis day `json:"genesis"`
	// Today is the calendar day the ledger was last rolled to.
	Today day `json:"today"`
	// Cash is the balance in cents, frozen cash included.
	Cash      int64                `json:"cash_cents"`
	Positions map[string]*position `json:"positions"`
	// Orders are the open orders (all of today), in time priority.
	Orders []*order `json:"orders"`
	// Conditions are the condition orders being watched.
	Conditions []*condition `json:"condition_orders"`
	// Loans are the repo loans not yet paid back.
	Loans []*loan `json:"repo_loans"`
	// Quotes are the anchors of prices set by config or SetQuote.
	Quotes map[string]anchor `json:"quotes"`
	// LastContractNo is the last 合同编号 given (orders and repo loans
	// share the sequence); LastConditionID the last 条件单编号.
	LastContractNo  int64 `json:"last_contract_no"`
	LastConditionID int64 `json:"last_condition_id"`
	// LastArchiveSeq is the Seq of the last record archived: saved with
	// the records, so that none is numbered twice.
	LastArchiveSeq int64 `json:"last_archive_seq"`
}

// legacyState is the state of versions 1 and 2: the same fields, whose
// lists also hold finished records, and the trades.
type legacyState struct {
	state
	Trades []*trade `json:"trades"`
}

// lot is shares bought on Day: not sellable before the next trading day.
type lot struct {
	Day      day   `json:"day"`
	Quantity int64 `json:"quantity"`
}

// position is a holding. Cost is the average cost basis of Quantity shares,
// buy fees included.
type position struct {
	Quantity  int64 `json:"quantity"`
	Cost      int64 `json:"cost_cents"`
	Unsettled []lot `json:"unsettled,omitempty"`
}

// unsettled is how many shares were bought too recently to sell on today.
func (p *position) unsettled(today day) int64 {
	var n int64
	for _, l := range p.Unsettled {
		if l.Day.nextTrading() > today {
			n += l.Quantity
		}
	}
	return n
}

// settle drops the lots that have become sellable by today.
func (p *position) settle(today day) {
	kept := p.Unsettled[:0]
	for _, l := range p.Unsettled {
		if l.Day.nextTrading() > today {
			kept = append(kept, l)
		}
	}
	p.Unsettled = kept
	if len(kept) == 0 {
		p.Unsettled = nil
	}
}

func newState(genesis, today day, cash int64) *state {
	return &state{
		Genesis:   genesis,
		Today:     today,
		Cash:      cash,
		Positions: make(map[string]*position),
		Quotes:    make(map[string]anchor),
	}
}

// encodeEnvelope wraps the state in its envelope. It is written by hand:
// json.Marshal would re-scan the whole body to compact a RawMessage.
func encodeEnvelope(body []byte, evaluatedAt time.Time) ([]byte, error) {
	at, err := evaluatedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(at)+64)
	out = fmt.Appendf(out, `{"version":%d,"evaluated_at":%s,"state":`, ledgerVersion, at)
	out = append(out, body...)
	return append(out, '}'), nil
}

// decodeEnvelope reads a saved ledger. The state of an older version is
// split: what can still change is st, and finished holds the rest, for the
// caller to archive (records of days before the history kept are dropped).
func decodeEnvelope(raw []byte) (st *state, finished retired, evaluatedAt time.Time, legacy bool, err error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, retired{}, time.Time{}, false, fmt.Errorf("sim ledger is not valid JSON: %w", err)
	}
	switch env.Version {
	case ledgerVersion:
		st, err = decodeState(env.State)
	case ledgerVersion1, ledgerVersion2:
		st, finished, err = decodeLegacyState(env.State)
		legacy = true
	default:
		err = fmt.Errorf("sim ledger has format version %d, this build reads versions %d to %d", env.Version, ledgerVersion1, ledgerVersion)
	}
	if err != nil {
		return nil, retired{}, time.Time{}, false, err
	}
	return st, finished, env.EvaluatedAt, legacy, nil
}

// decodeState reads a state saved in the current version: every order in
// it is open, every condition order watching, every loan unpaid.
func decodeState(body []byte) (*state, error) {
	st := new(state)
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("sim ledger state is unreadable: %w", err)
	}
	if err := st.check(); err != nil {
		return nil, err
	}
	for _, o := range st.Orders {
		if !o.open() {
			return nil, fmt.Errorf("sim ledger: order %s in the live state has ended (%s)", o.ContractNo, o.Status)
		}
	}
	for _, c := range st.Conditions {
		if c.Status != automation.ConditionWatching {
			return nil, fmt.Errorf("sim ledger: condition order %s in the live state has ended (%s)", c.ID, c.Status)
		}
	}
	for _, l := range st.Loans {
		if l.Paid {
			return nil, fmt.Errorf("sim ledger: repo loan %s in the live state is paid", l.ContractNo)
		}
	}
	return st, nil
}

// decodeLegacyState reads a version-1 or version-2 state and splits it
// (see decodeEnvelope), the finished records in the order the state held
// them.
func decodeLegacyState(body []byte) (*state, retired, error) {
	ls := new(legacyState)
	if err := json.Unmarshal(body, ls); err != nil {
		return nil, retired{}, fmt.Errorf("sim ledger state is unreadable: %w", err)
	}
	st := &ls.state
	if err := st.check(); err != nil {
		return nil, retired{}, err
	}
	for _, tr := range ls.Trades {
		if _, err := classifyTradable(tr.Code); err != nil {
			return nil, retired{}, fmt.Errorf("sim ledger: trade of order %s has a bad code %q", tr.ContractNo, tr.Code)
		}
	}
	cutoff := st.Today - historyDays
	var r retired
	st.Orders = takeFinished(st.Orders, &r.orders, cutoff, func(o *order) (bool, day) {
		return !o.open(), dayOf(o.PlacedAt)
	})
	_ = takeFinished(ls.Trades, &r.trades, cutoff, func(tr *trade) (bool, day) {
		return true, dayOf(tr.At)
	})
	st.Conditions = takeFinished(st.Conditions, &r.conditions, cutoff, func(c *condition) (bool, day) {
		return c.Status != automation.ConditionWatching, dayOf(c.CreatedAt)
	})
	st.Loans = takeFinished(st.Loans, &r.loans, cutoff, func(l *loan) (bool, day) {
		return l.Paid, dayOf(l.PlacedAt)
	})
	return st, r, nil
}

// takeFinished returns the records of list that done says are not
// finished, and appends the finished ones to to, in order, but those whose
// day (done's second result) is before cutoff.
func takeFinished[T any](list []*T, to *[]*T, cutoff day, done func(*T) (bool, day)) []*T {
	return slices.DeleteFunc(list, func(x *T) bool {
		finished, d := done(x)
		if finished && d >= cutoff {
			*to = append(*to, x)
		}
		return finished
	})
}

// check fills the maps a saved state may lack and refuses codes the sim
// does not trade.
func (st *state) check() error {
	if st.Positions == nil {
		st.Positions = make(map[string]*position)
	}
	if st.Quotes == nil {
		st.Quotes = make(map[string]anchor)
	}
	for code, p := range st.Positions {
		if _, err := classifyTradable(code); err != nil || p == nil || p.Quantity <= 0 {
			return fmt.Errorf("sim ledger: bad position %q", code)
		}
	}
	for _, o := range st.Orders {
		if _, err := classifyTradable(o.Code); err != nil {
			return fmt.Errorf("sim ledger: order %s has a bad code %q", o.ContractNo, o.Code)
		}
	}
	for _, c := range st.Conditions {
		if _, err := classifyTradable(c.Code); err != nil {
			return fmt.Errorf("sim ledger: condition order %s has a bad code %q", c.ID, c.Code)
		}
	}
	for _, l := range st.Loans {
		if _, ok := repoProductByCode(l.Code); !ok {
			return fmt.Errorf("sim ledger: repo loan %s has a bad code %q", l.ContractNo, l.Code)
		}
	}
	for code := range st.Quotes {
		if _, err := classifyTradable(code); err != nil {
			return fmt.Errorf("sim ledger: quote for a bad code %q", code)
		}
	}
	return nil
}

// commit saves the state if it changed since the last save, with the
// records that finished since, in one write: the finished records go to
// the archive and the state replaces the last one, so that the write costs
// what the action did, not what the day holds. When the save fails, the
// state is put back as it was last saved (the finished records with it)
// and the error says the action did not happen. The caller holds the lock.
//
// The evaluation instant alone is not worth a write: replaying minutes in
// which nothing happened changes nothing, so it is saved with the next real
// change.
func (t *Terminal) commit(ctx context.Context) error {
	if !t.changed {
		return nil
	}
	if t.ledger == nil {
		return t.commitToMemory(ctx)
	}
	records, err := t.archiveRecords()
	var body []byte
	if err == nil {
		body, err = json.Marshal(t.st)
	}
	if err != nil {
		t.rollback()
		return fmt.Errorf("sim ledger: cannot encode the account: %w", err)
	}
	if len(records) == 0 && bytes.Equal(body, t.saved) {
		t.changed = false
		t.keepToday()
		t.flushEvents()
		return nil
	}
	raw, err := encodeEnvelope(body, t.evaluatedAt)
	if err == nil {
		if len(records) > 0 {
			err = t.ledger.ArchiveLedger(ctx, t.name, records, raw)
		} else {
			err = t.ledger.SaveLedger(ctx, t.name, raw)
		}
	}
	if err != nil {
		t.rollback()
		return &automation.Error{
			Code:    automation.CodeInternal,
			Message: "sim ledger: the account could not be saved, so the action was not applied; retry once the store is writable",
			Err:     err,
		}
	}
	t.saved, t.savedAt, t.changed = body, t.evaluatedAt, false
	t.retired = retired{}
	t.keepToday()
	t.pruneArchive(ctx)
	t.flushEvents()
	return nil
}

// commitToMemory is commit without a Ledger: the finished records go to
// the archive in memory, which cannot fail.
func (t *Terminal) commitToMemory(ctx context.Context) error {
	if !t.retired.empty() {
		records, err := t.archiveRecords()
		if err != nil {
			// The records are plain data json.Marshal always
			// encodes; failing is a bug.
			panic(fmt.Sprintf("sim: cannot encode finished records: %v", err))
		}
		t.memory.ArchiveLedger(ctx, t.name, records, nil) //nolint:errcheck // memory cannot fail
		t.retired = retired{}
	}
	t.changed = false
	t.keepToday()
	t.pruneArchive(ctx)
	t.flushEvents()
	return nil
}

// rollback restores the state last saved, and today's orders as they
// were then (see dayLog.rollback).
func (t *Terminal) rollback() {
	st, err := decodeState(t.saved)
	if err != nil {
		// t.saved was produced by json.Marshal of a valid state and
		// checked when loaded; failing to read it back is a bug.
		panic(fmt.Sprintf("sim: cannot restore the saved state: %v", err))
	}
	t.setState(st, t.savedAt)
	t.day.rollback(st.Orders)
	t.pending = nil // what they told of did not happen after all
}
