package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// The archive keeps the account's finished records out of its saved state,
// so that saving after each action costs what the action did, not what the
// day or the year did. A record that can no longer change — an order once
// filled, cancelled or rejected, a trade, an ended condition order, a
// repaid repo loan — leaves the state when it finishes (retireOrder …), and
// the save of that action writes it to the archive and the smaller state
// in one transaction (Ledger.ArchiveLedger): a crash keeps both or neither.
// History queries read the archive, and the state for the open orders;
// today's orders are also kept in memory (dayLog). Records leave the
// archive after historyDays.
//
// Without a Ledger the archive is kept in memory (memoryArchive), so that
// both kinds of terminal answer the same.

// LedgerRecord is one finished record moved from the state to the archive:
// Kind is one of the record kinds below, Day the start of the record's day
// (Shanghai: an order's or a loan's placing, a trade's fill, a condition
// order's creation), Seq its place in the archive (state.LastArchiveSeq is
// the last one given), Key an order's client order id.
type LedgerRecord = automation.LedgerRecord

// Record kinds in the archive.
const (
	kindOrder     = "order"
	kindTrade     = "trade"
	kindCondition = "condition_order"
	kindLoan      = "repo_loan"
)

// archive is the part of a Ledger that keeps the history; memoryArchive
// is the one of a terminal without a Ledger.
type archive interface {
	ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error
	LoadLedgerArchive(ctx context.Context, terminal, kind string, since time.Time) ([][]byte, error)
	FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error)
	PruneLedgerArchive(ctx context.Context, terminal string, before time.Time) error
}

// retired holds the records that finished since the last save, taken out
// of the state, waiting to be archived by it.
type retired struct {
	orders     []*order
	trades     []*trade
	conditions []*condition
	loans      []*loan
}

func (r *retired) empty() bool {
	return len(r.orders)+len(r.trades)+len(r.conditions)+len(r.loans) == 0
}

// historyCutoff is the first day the account still keeps: 近一年 and a day.
func (t *Terminal) historyCutoff() day { return t.st.Today - historyDays }

// retireOrder takes an order that has just finished out of the open
// orders, for the next save to archive. It stays in the day's log.
func (t *Terminal) retireOrder(o *order) {
	if i := slices.Index(t.st.Orders, o); i >= 0 {
		t.st.Orders = slices.Delete(t.st.Orders, i, i+1)
	}
	t.retired.orders = append(t.retired.orders, o)
	t.changed = true
}

// retireTrade is a fill, archived by the next save.
func (t *Terminal) retireTrade(tr *trade) {
	t.retired.trades = append(t.retired.trades, tr)
	t.changed = true
}

// retireCondition takes a condition order that has just ended out of the
// watched ones, for the next save to archive.
func (t *Terminal) retireCondition(c *condition) {
	if i := slices.Index(t.st.Conditions, c); i >= 0 {
		t.st.Conditions = slices.Delete(t.st.Conditions, i, i+1)
	}
	t.retired.conditions = append(t.retired.conditions, c)
	t.changed = true
}

// archiveRecords encodes the finished records for the archive, numbering
// them on from state.LastArchiveSeq, which the state saved with them
// carries on.
func (t *Terminal) archiveRecords() ([]LedgerRecord, error) {
	r := &t.retired
	out := make([]LedgerRecord, 0, len(r.orders)+len(r.trades)+len(r.conditions)+len(r.loans))
	add := func(kind string, d day, key string, v any) error {
		body, err := json.Marshal(v)
		if err != nil {
			return err
		}
		t.st.LastArchiveSeq++
		out = append(out, LedgerRecord{Kind: kind, Day: d.start(), Seq: t.st.LastArchiveSeq, Key: key, Body: body})
		return nil
	}
	for _, o := range r.orders {
		if err := add(kindOrder, dayOf(o.PlacedAt), o.ClientOrderID, o); err != nil {
			return nil, err
		}
	}
	for _, tr := range r.trades {
		if err := add(kindTrade, dayOf(tr.At), "", tr); err != nil {
			return nil, err
		}
	}
	for _, c := range r.conditions {
		if err := add(kindCondition, dayOf(c.CreatedAt), "", c); err != nil {
			return nil, err
		}
	}
	for _, l := range r.loans {
		if err := add(kindLoan, dayOf(l.PlacedAt), "", l); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// history is where the archive is: the Ledger, or the terminal's memory.
func (t *Terminal) history() archive {
	if t.ledger != nil {
		return t.ledger
	}
	return &t.memory
}

// pruneArchive deletes the archived records older than the history kept,
// once the account has rolled to a new day. A failure leaves it due for
// the next save: the records it missed are past the cutoff, which every
// query applies anyway, so it is housekeeping, not a change a caller
// waits for.
func (t *Terminal) pruneArchive(ctx context.Context) {
	if !t.pruneDue {
		return
	}
	if err := t.history().PruneLedgerArchive(ctx, t.name, t.historyCutoff().start()); err == nil {
		t.pruneDue = false
	}
}

// archived reads the archived records of kind from day since on (never
// before the cutoff), oldest first.
func archived[T any](ctx context.Context, t *Terminal, kind string, since day) ([]*T, error) {
	bodies, err := t.history().LoadLedgerArchive(ctx, t.name, kind, max(since, t.historyCutoff()).start())
	if err != nil {
		return nil, archiveError(err)
	}
	out := make([]*T, 0, len(bodies))
	for _, b := range bodies {
		x := new(T)
		if err := json.Unmarshal(b, x); err != nil {
			return nil, archiveError(fmt.Errorf("a %s record is unreadable: %w", kind, err))
		}
		out = append(out, x)
	}
	return out, nil
}

// clientOrder is the order clientID names at now: the last order placed
// with it, if that was less than ClientOrderIDLifetime before now; nil
// otherwise. Today's orders are in the day's log, and any of them is newer
// than every archived one of an earlier day; without one today, the
// archive's last order with the key is the newest (yesterday's, across
// midnight: an order is archived when it ends, at the latest when its day
// does, and the id names no other order until 24 hours after it was
// placed). The caller holds the lock and has advanced the state to now.
func (t *Terminal) clientOrder(ctx context.Context, now time.Time, clientID string) (*order, error) {
	o := t.day.byClientID[clientID]
	if o == nil {
		body, err := t.history().FindLedgerArchive(ctx, t.name, kindOrder, clientID)
		if err != nil || body == nil {
			return nil, archiveError(err)
		}
		o = new(order)
		if err := json.Unmarshal(body, o); err != nil {
			return nil, archiveError(fmt.Errorf("an order record is unreadable: %w", err))
		}
	}
	if now.Sub(o.PlacedAt) >= ClientOrderIDLifetime {
		return nil, nil // the id names a new order now
	}
	return o, nil
}

// archiveError is a failure to read the archive, as the caller sees it;
// nil stays nil.
func archiveError(err error) error {
	if err == nil {
		return nil
	}
	return &automation.Error{
		Code:    automation.CodeInternal,
		Message: "sim ledger: the history of past days could not be read; retry once the store is readable",
		Err:     err,
	}
}

// memoryArchive is the archive of a terminal without a Ledger. The
// terminal's lock guards it.
type memoryArchive struct {
	records []LedgerRecord             // in Seq order
	byKey   map[[2]string]LedgerRecord // the last record of a kind with a key
}

func (m *memoryArchive) ArchiveLedger(_ context.Context, _ string, records []LedgerRecord, _ []byte) error {
	if m.byKey == nil {
		m.byKey = make(map[[2]string]LedgerRecord)
	}
	for _, r := range records {
		m.records = append(m.records, r)
		if r.Key != "" {
			m.byKey[[2]string{r.Kind, r.Key}] = r
		}
	}
	return nil
}

func (m *memoryArchive) LoadLedgerArchive(_ context.Context, _, kind string, since time.Time) ([][]byte, error) {
	var sel []LedgerRecord
	for _, r := range m.records {
		if r.Kind == kind && !r.Day.Before(since) {
			sel = append(sel, r)
		}
	}
	// By day, then Seq (the order they are in), as the store reads them.
	slices.SortStableFunc(sel, func(a, b LedgerRecord) int { return a.Day.Compare(b.Day) })
	out := make([][]byte, len(sel))
	for i, r := range sel {
		out[i] = r.Body
	}
	return out, nil
}

func (m *memoryArchive) FindLedgerArchive(_ context.Context, _, kind, key string) ([]byte, error) {
	if r, ok := m.byKey[[2]string{kind, key}]; ok && key != "" {
		return r.Body, nil
	}
	return nil, nil
}

func (m *memoryArchive) PruneLedgerArchive(_ context.Context, _ string, before time.Time) error {
	old := func(r LedgerRecord) bool { return r.Day.Before(before) }
	m.records = slices.DeleteFunc(m.records, old)
	maps.DeleteFunc(m.byKey, func(_ [2]string, r LedgerRecord) bool { return old(r) })
	return nil
}
