package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Ledger keeps a sim account across restarts. The store package implements
// it (SQLite); a nil Ledger keeps the account in memory only.
type Ledger interface {
	// LoadLedger returns the state last saved for the terminal, or
	// (nil, nil) when nothing is stored.
	LoadLedger(ctx context.Context, terminal string) ([]byte, error)
	// SaveLedger stores the terminal's whole state, replacing the last
	// one; it returns once the write is durable.
	SaveLedger(ctx context.Context, terminal string, state []byte) error
}

// ledgerVersion is the format of the saved JSON; a stored ledger of
// another version is refused rather than misread.
const ledgerVersion = 1

// envelope is what SaveLedger receives.
type envelope struct {
	Version int `json:"version"`
	// EvaluatedAt is the sim-clock instant the state was brought up to;
	// the replay resumes from it after a restart.
	EvaluatedAt time.Time       `json:"evaluated_at"`
	State       json.RawMessage `json:"state"`
}

// state is the whole account. Every field is persisted; the terminal's
// indexes (open orders, watching condition orders) are rebuilt from it.
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

func decodeEnvelope(raw []byte) (*state, []byte, time.Time, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("sim ledger is not valid JSON: %w", err)
	}
	if env.Version != ledgerVersion {
		return nil, nil, time.Time{}, fmt.Errorf("sim ledger has format version %d, this build reads version %d", env.Version, ledgerVersion)
	}
	st, err := decodeState(env.State)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return st, bytes.Clone(env.State), env.EvaluatedAt, nil
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

// commit saves the state if it changed since the last save. When the save
// fails, the state is put back as it was last saved and the error says the
// action did not happen. The caller holds the lock.
//
// The evaluation instant alone is not worth a write: replaying minutes in
// which nothing happened changes nothing, so it is saved with the next real
// change.
func (t *Terminal) commit(ctx context.Context) error {
	if t.ledger == nil {
		return nil
	}
	if !t.changed {
		if verifyUnchanged {
			t.verifyUnchanged()
		}
		return nil
	}
	body, err := t.encodeState()
	if err != nil {
		t.rollback()
		return fmt.Errorf("sim ledger: cannot encode the account: %w", err)
	}
	if bytes.Equal(body, t.saved) {
		t.changed = false
		return nil
	}
	raw, err := encodeEnvelope(body, t.evaluatedAt)
	if err == nil {
		err = t.ledger.SaveLedger(ctx, t.name, raw)
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
