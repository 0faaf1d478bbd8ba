package paper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// The account is kept through env.Ledger (the journal's SQLite file): the
// live state (balances, positions, open orders, quotes) replaces the last
// one at every change, and an order that finishes goes to the archive in
// the same write (Ledger.ArchiveLedger), keyed by its client order id.
// Finished orders are answered by order_status and cancel_order, and their
// client order ids looked up, for finishedKept after they finish; on
// start-up they are read back from the archive. Without a Ledger all of
// it is kept in memory.

// ledgerVersion is the format of the saved envelope; another version is
// refused rather than misread.
const ledgerVersion = 1

// kindOrder is the archive's record kind of a finished order.
const kindOrder = "paper_order"

// finishedKept is how long a finished order is still answered after it
// finished: as long as brokerd remembers an idempotency key, so that an
// interrupted place_order can be settled by its client order id.
const finishedKept = 24 * time.Hour

// envelope is what SaveLedger receives.
type envelope struct {
	Version int             `json:"version"`
	State   json.RawMessage `json:"state"`
}

func encodeEnvelope(body []byte) ([]byte, error) {
	return json.Marshal(envelope{Version: ledgerVersion, State: body})
}

// decodeEnvelope reads a saved account and checks it against the
// symbols' rules: every order in it must be open, every position non-zero.
func decodeEnvelope(raw []byte) (*state, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("paper ledger is not valid JSON: %w", err)
	}
	if env.Version != ledgerVersion {
		return nil, fmt.Errorf("paper ledger has format version %d, this build reads version %d", env.Version, ledgerVersion)
	}
	return decodeState(env.State)
}

func decodeState(body []byte) (*state, error) {
	st := new(state)
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("paper ledger state is unreadable: %w", err)
	}
	if st.Balances == nil {
		st.Balances = make(map[string]decimal.Decimal)
	}
	if st.Positions == nil {
		st.Positions = make(map[string]*position)
	}
	if st.Quotes == nil {
		st.Quotes = make(map[string]decimal.Decimal)
	}
	for symbol, p := range st.Positions {
		if p == nil || p.Quantity.IsZero() || !p.Cost.IsPositive() {
			return nil, fmt.Errorf("paper ledger: bad position in %s", symbol)
		}
	}
	for _, o := range st.Orders {
		if o == nil || !o.Status.Open() {
			return nil, errors.New("paper ledger: an order in the live state has ended")
		}
	}
	return st, nil
}

// symbolsOf lists every symbol the state refers to.
func (st *state) symbolsOf() []string {
	var out []string
	for s := range st.Quotes {
		out = append(out, s)
	}
	for s := range st.Positions {
		out = append(out, s)
	}
	for _, o := range st.Orders {
		out = append(out, o.Symbol)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// load loads the stored account or opens a new one from the options, and
// reads back the orders that finished in the last finishedKept.
func (t *Terminal) load(ctx context.Context) error {
	now := t.now()
	var st *state
	if t.ledger != nil {
		raw, err := t.ledger.LoadLedger(ctx, t.name)
		if err != nil {
			return fmt.Errorf("paper %s: cannot load the ledger: %w", t.name, err)
		}
		if raw != nil {
			if st, err = decodeEnvelope(raw); err != nil {
				return fmt.Errorf("paper %s: %w", t.name, err)
			}
		}
	}
	fresh := st == nil
	if fresh {
		st = newState(t.cfg)
	}
	// Quotes of symbols added to the options since the account was
	// opened; the ledger's prices win over the options'.
	for symbol, q := range t.cfg.Quotes {
		if _, ok := st.Quotes[symbol]; !ok {
			st.Quotes[symbol] = q
			t.changed = true
		}
	}
	for _, symbol := range st.symbolsOf() {
		if _, ok := t.rules[symbol]; ok {
			continue
		}
		info, err := defaultRules(symbol)
		if err != nil {
			return fmt.Errorf("paper %s: the ledger holds %s, whose rules are not known: %v; add it to the symbols option", t.name, symbol, err)
		}
		t.rules[symbol] = info
	}
	t.st = st
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("paper %s: cannot encode the account: %w", t.name, err)
	}
	if t.ledger != nil && (fresh || t.changed) {
		raw, err := encodeEnvelope(body)
		if err == nil {
			err = t.ledger.SaveLedger(ctx, t.name, raw)
		}
		if err != nil {
			return fmt.Errorf("paper %s: cannot save the account: %w", t.name, err)
		}
	}
	t.saved, t.changed = body, false
	if t.ledger != nil {
		bodies, err := t.ledger.LoadLedgerArchive(ctx, t.name, kindOrder, dayOf(now.Add(-finishedKept)))
		if err != nil {
			return fmt.Errorf("paper %s: cannot read the finished orders: %w", t.name, err)
		}
		for _, b := range bodies {
			o := new(order)
			if err := json.Unmarshal(b, o); err != nil {
				return fmt.Errorf("paper %s: a finished order is unreadable: %w", t.name, err)
			}
			t.recent = append(t.recent, o)
		}
		slices.SortStableFunc(t.recent, func(a, b *order) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	}
	t.pruneRecent(now)
	t.reindex()
	t.publish()
	return nil
}

// dayOf is the start of t's UTC day: the archive's Day of a record.
func dayOf(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// commit saves the state if it changed since the last save, with the
// orders that finished since, in one write. When the save fails, the
// state is put back as it was last saved and the error says the action
// did not happen. The caller holds the lock.
func (t *Terminal) commit(ctx context.Context) error {
	if !t.changed {
		return nil
	}
	records, err := t.archiveRecords()
	var body []byte
	if err == nil {
		body, err = json.Marshal(t.st)
	}
	if err != nil {
		t.rollback()
		return fmt.Errorf("paper ledger: cannot encode the account: %w", err)
	}
	if t.ledger != nil {
		raw, err := encodeEnvelope(body)
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
				Message: "paper ledger: the account could not be saved, so the action was not carried out; retry once the store is writable",
				Err:     err,
			}
		}
	}
	t.saved, t.changed = body, false
	t.recent = append(t.recent, t.retiring...)
	t.retiring = nil
	now := t.now()
	t.pruneRecent(now)
	t.pruneArchive(ctx, now)
	t.publish()
	return nil
}

// rollback restores the state last saved and forgets the orders that
// finished since.
func (t *Terminal) rollback() {
	st, err := decodeState(t.saved)
	if err != nil {
		// t.saved was produced by json.Marshal of a valid state;
		// failing to read it back is a bug.
		panic(fmt.Sprintf("paper: cannot restore the saved state: %v", err))
	}
	t.st, t.changed, t.retiring = st, false, nil
	t.reindex()
}

// retire takes an order that has just finished out of the open orders,
// for the next save to archive.
func (t *Terminal) retire(o *order) {
	t.st.removeOrder(o)
	t.retiring = append(t.retiring, o)
	t.changed = true
}

// archiveRecords encodes the orders that finished since the last save,
// numbering them on from state.LastArchiveSeq.
func (t *Terminal) archiveRecords() ([]automation.LedgerRecord, error) {
	out := make([]automation.LedgerRecord, 0, len(t.retiring))
	for _, o := range t.retiring {
		body, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		t.st.LastArchiveSeq++
		out = append(out, automation.LedgerRecord{
			Kind: kindOrder, Day: dayOf(o.UpdatedAt), Seq: t.st.LastArchiveSeq, Key: o.ClientOrderID, Body: body,
		})
	}
	return out, nil
}

// pruneRecent forgets the finished orders older than finishedKept.
func (t *Terminal) pruneRecent(now time.Time) {
	cutoff := now.Add(-finishedKept)
	n := 0
	for n < len(t.recent) && !t.recent[n].UpdatedAt.After(cutoff) {
		o := t.recent[n]
		delete(t.byID, o.OrderID)
		if t.byClient[o.ClientOrderID] == o {
			delete(t.byClient, o.ClientOrderID)
		}
		n++
	}
	t.recent = slices.Delete(t.recent, 0, n)
}

// pruneArchive deletes the archived days no longer answered, once a day.
// A failure leaves it for the next save: it is housekeeping, nothing a
// caller waits for.
func (t *Terminal) pruneArchive(ctx context.Context, now time.Time) {
	before := dayOf(now.Add(-finishedKept))
	if t.ledger == nil || !t.prunedBefore.Before(before) {
		return
	}
	if err := t.ledger.PruneLedgerArchive(ctx, t.name, before); err == nil {
		t.prunedBefore = before
	}
}

// reindex rebuilds the lookups by order id and client order id from the
// open and the recently finished orders.
func (t *Terminal) reindex() {
	t.byID = make(map[string]*order, len(t.st.Orders)+len(t.recent))
	t.byClient = make(map[string]*order, len(t.st.Orders)+len(t.recent))
	for _, o := range t.recent {
		t.index(o)
	}
	for _, o := range t.st.Orders {
		t.index(o)
	}
}

// index makes o findable; by client order id, the newest order wins.
func (t *Terminal) index(o *order) {
	t.byID[o.OrderID] = o
	if prev := t.byClient[o.ClientOrderID]; prev == nil || orderNumber(prev) < orderNumber(o) {
		t.byClient[o.ClientOrderID] = o
	}
}
