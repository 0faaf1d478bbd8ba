package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Ledger keeps a sim account across restarts: its live state, replaced
// at every change, and the archive of its finished history (see
// archive.go). The store package implements it (SQLite); a nil Ledger
// keeps the account in memory only. Every write returns once it is
// durable, and a write that returns an error has stored nothing — also when
// it gave up because its ctx ended: the sim then rolls the change back and
// tells its caller that the action was not carried out. (The store's
// writes keep to this: ctx bounds only their wait to be taken.)
type Ledger interface {
	// LoadLedger returns the state last saved for the terminal, or
	// (nil, nil) when nothing is stored.
	LoadLedger(ctx context.Context, terminal string) ([]byte, error)
	// SaveLedger stores the terminal's state, replacing the last one.
	SaveLedger(ctx context.Context, terminal string, state []byte) error
	// ArchiveLedger appends records to the terminal's archive and
	// replaces its state in one transaction: both are stored, or
	// neither. A record whose Seq is already archived fails it.
	ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error
	// LoadLedgerArchive returns the bodies of the archived records of
	// kind whose Day is at or after since, by Day and then Seq.
	LoadLedgerArchive(ctx context.Context, terminal, kind string, since time.Time) ([][]byte, error)
	// FindLedgerArchive returns the body of the last archived record of
	// kind with key, or (nil, nil).
	FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error)
	// PruneLedgerArchive deletes the archived records whose Day is
	// before before.
	PruneLedgerArchive(ctx context.Context, terminal string, before time.Time) error
}

var _ archive = Ledger(nil)

// ledgerVersion is the format of the saved JSON; a stored ledger of
// another version is refused rather than misread. Version 1 kept the whole
// history in the state; this build reads it and moves the history to the
// archive on loading. Version 2 keeps only the live state.
const (
	ledgerVersion       = 2
	ledgerVersionLegacy = 1
)

// envelope is what SaveLedger receives.
type envelope struct {
	Version int `json:"version"`
	// EvaluatedAt is the sim-clock instant the state was brought up to;
	// the replay resumes from it after a restart.
	EvaluatedAt time.Time       `json:"evaluated_at"`
	State       json.RawMessage `json:"state"`
}

// state is the live account: what can still change, and today's orders
// and trades. Finished history is in the archive. Every field is
// persisted; the terminal's indexes (open orders, watching condition
// orders, client order ids) are rebuilt from it.
type state struct {
	// Genesis is the trading day the account was opened: codes never
	// quoted start their price path there.
	Genesis day `json:"genesis"`
	// Today is the calendar day the ledger was last rolled to.
	Today day `json:"today"`
	// Cash is the balance in cents, frozen cash included.
	Cash       int64                `json:"cash_cents"`
	Positions  map[string]*position `json:"positions"`
	Orders     []*order             `json:"orders"`
	Trades     []*trade             `json:"trades"`
	Conditions []*condition         `json:"condition_orders"`
	Loans      []*loan              `json:"repo_loans"`
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

// decodeEnvelope reads a saved ledger; legacy is true for a version-1
// one, whose state still holds the whole history.
func decodeEnvelope(raw []byte) (st *state, body []byte, evaluatedAt time.Time, legacy bool, err error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, nil, time.Time{}, false, fmt.Errorf("sim ledger is not valid JSON: %w", err)
	}
	if env.Version != ledgerVersion && env.Version != ledgerVersionLegacy {
		return nil, nil, time.Time{}, false, fmt.Errorf("sim ledger has format version %d, this build reads versions %d and %d", env.Version, ledgerVersionLegacy, ledgerVersion)
	}
	if st, err = decodeState(env.State); err != nil {
		return nil, nil, time.Time{}, false, err
	}
	return st, bytes.Clone(env.State), env.EvaluatedAt, env.Version == ledgerVersionLegacy, nil
}

func decodeState(body []byte) (*state, error) {
	st := new(state)
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("sim ledger state is unreadable: %w", err)
	}
	if st.Positions == nil {
		st.Positions = make(map[string]*position)
	}
	if st.Quotes == nil {
		st.Quotes = make(map[string]anchor)
	}
	for code, p := range st.Positions {
		if _, err := classifyTradable(code); err != nil || p == nil || p.Quantity <= 0 {
			return nil, fmt.Errorf("sim ledger: bad position %q", code)
		}
	}
	for _, o := range st.Orders {
		if _, err := classifyTradable(o.Code); err != nil {
			return nil, fmt.Errorf("sim ledger: order %s has a bad code %q", o.ContractNo, o.Code)
		}
	}
	for _, c := range st.Conditions {
		if _, err := classifyTradable(c.Code); err != nil {
			return nil, fmt.Errorf("sim ledger: condition order %s has a bad code %q", c.ID, c.Code)
		}
	}
	for _, l := range st.Loans {
		if _, ok := repoProductByCode(l.Code); !ok {
			return nil, fmt.Errorf("sim ledger: repo loan %s has a bad code %q", l.ContractNo, l.Code)
		}
	}
	for code := range st.Quotes {
		if _, err := classifyTradable(code); err != nil {
			return nil, fmt.Errorf("sim ledger: quote for a bad code %q", code)
		}
	}
	return st, nil
}

// commit saves the state if it changed since the last save, with the
// records retired from it since, in one write. When the save fails, the
// state is put back as it was last saved (the retired records with it) and
// the error says the action did not happen. The caller holds the lock.
//
// The evaluation instant alone is not worth a write: replaying minutes in
// which nothing happened changes nothing, so it is saved with the next real
// change.
func (t *Terminal) commit(ctx context.Context) error {
	if !t.changed {
		if verifyUnchanged && t.ledger != nil {
			t.verifyUnchanged()
		}
		return nil
	}
	if t.ledger == nil {
		return t.commitToMemory(ctx)
	}
	records, err := t.archiveRecords()
	var body []byte
	if err == nil {
		body, err = t.encodeState()
	}
	if err != nil {
		t.rollback()
		return fmt.Errorf("sim ledger: cannot encode the account: %w", err)
	}
	if len(records) == 0 && bytes.Equal(body, t.saved) {
		t.changed = false
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
	t.pruneArchive(ctx)
	return nil
}

// commitToMemory is commit without a Ledger: the retired records go to the
// archive in memory, which cannot fail.
func (t *Terminal) commitToMemory(ctx context.Context) error {
	if !t.retired.empty() {
		records, err := t.archiveRecords()
		if err != nil {
			// The records were json.Marshal'ed when the state held
			// them; failing now is a bug.
			panic(fmt.Sprintf("sim: cannot encode retired records: %v", err))
		}
		t.memory.ArchiveLedger(ctx, t.name, records, nil) //nolint:errcheck // memory cannot fail
		t.retired = retired{}
	}
	t.changed = false
	t.pruneArchive(ctx)
	return nil
}

// verifyUnchanged makes every commit of an unchanged state check that it
// is: tests turn it on, so that a change that forgets to set t.changed
// (and would not be saved) fails them.
var verifyUnchanged = false

func (t *Terminal) verifyUnchanged() {
	body, err := json.Marshal(t.st)
	if err != nil || !bytes.Equal(body, t.saved) {
		panic(fmt.Sprintf("sim: the state changed without t.changed being set (%v):\nsaved %s\nnow   %s", err, t.saved, body))
	}
}

// rollback restores the state last saved.
func (t *Terminal) rollback() {
	st, err := decodeState(t.saved)
	if err != nil {
		// t.saved was produced by json.Marshal of a valid state and
		// checked when loaded; failing to read it back is a bug.
		panic(fmt.Sprintf("sim: cannot restore the saved state: %v", err))
	}
	t.setState(st, t.savedAt)
}
