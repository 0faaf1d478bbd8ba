package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// clock is a settable sim clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *clock { return &clock{t: at(s)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = at(s)
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// at parses a Shanghai wall-clock time: "2026-01-05 10:00" (a Monday).
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// memLedger is a Ledger in memory that can be told to fail. Its archive is
// the sim's own memoryArchive, one per terminal.
type memLedger struct {
	mu       sync.Mutex
	data     map[string][]byte
	archives map[string]*memoryArchive
	saves    int   // SaveLedger and ArchiveLedger calls that succeeded
	archived int   // records archived
	failErr  error // SaveLedger and ArchiveLedger fail with it while set
	loadErr  error
	readErr  error // LoadLedgerArchive and FindLedgerArchive fail with it while set
	pruneErr error // PruneLedgerArchive fails with it while set
}

func newMemLedger() *memLedger {
	return &memLedger{data: make(map[string][]byte), archives: make(map[string]*memoryArchive)}
}

func (l *memLedger) LoadLedger(_ context.Context, terminal string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loadErr != nil {
		return nil, l.loadErr
	}
	return l.data[terminal], nil
}

func (l *memLedger) SaveLedger(_ context.Context, terminal string, state []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return l.failErr
	}
	l.data[terminal] = append([]byte(nil), state...)
	l.saves++
	return nil
}

// archive is the terminal's archive. The caller holds l.mu.
func (l *memLedger) archive(terminal string) *memoryArchive {
	if l.archives == nil {
		l.archives = make(map[string]*memoryArchive)
	}
	a := l.archives[terminal]
	if a == nil {
		a = new(memoryArchive)
		l.archives[terminal] = a
	}
	return a
}

func (l *memLedger) ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return l.failErr
	}
	a := l.archive(terminal)
	last := int64(0)
	if n := len(a.records); n > 0 {
		last = a.records[n-1].Seq
	}
	for _, r := range records {
		if r.Seq <= last {
			return fmt.Errorf("record %d archived after %d: archived twice", r.Seq, last)
		}
		last = r.Seq
	}
	a.ArchiveLedger(ctx, terminal, records, nil)
	l.data[terminal] = append([]byte(nil), state...)
	l.saves++
	l.archived += len(records)
	return nil
}

func (l *memLedger) LoadLedgerArchive(ctx context.Context, terminal, kind string, since time.Time) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return nil, l.readErr
	}
	return l.archive(terminal).LoadLedgerArchive(ctx, terminal, kind, since)
}

func (l *memLedger) FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return nil, l.readErr
	}
	return l.archive(terminal).FindLedgerArchive(ctx, terminal, kind, key)
}

func (l *memLedger) PruneLedgerArchive(ctx context.Context, terminal string, before time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pruneErr != nil {
		return l.pruneErr
	}
	return l.archive(terminal).PruneLedgerArchive(ctx, terminal, before)
}

func (l *memLedger) failWith(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failErr = err
}

func (l *memLedger) failReadsWith(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readErr = err
}

func (l *memLedger) failPrunesWith(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneErr = err
}

// archivedSeqs lists the Seq of the terminal's archived records of kind.
func (l *memLedger) archivedSeqs(terminal, kind string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var seqs []int64
	for _, r := range l.archive(terminal).records {
		if r.Kind == kind {
			seqs = append(seqs, r.Seq)
		}
	}
	return seqs
}

func (l *memLedger) saveCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.saves
}

// archivedCount is how many records were archived, pruned ones included.
func (l *memLedger) archivedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.archived
}

// paper is the deterministic configuration: prices stay at their quotes.
func paper(quotes map[string]float64) Options {
	o := DefaultOptions()
	o.Volatility = 0
	o.Quotes = quotes
	return o
}

// newSim builds a sim on clk with newChecked. Without a ledger of the
// test's own it saves to a fresh memLedger, so that every test also runs
// the save path and the check that nothing changes unsaved.
func newSim(t testing.TB, opts Options, clk *clock, l Ledger) *Terminal {
	t.Helper()
	deps := Deps{Now: clk.Now, Ledger: l}
	if l == nil {
		deps.Ledger = newMemLedger()
	}
	s, err := newChecked(t, opts, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// newChecked is New for a sim named "sim" that checks that nothing
// changes unsaved: a change to the account that forgets to set t.changed
// is not saved (commit skips an unchanged account without encoding it),
// and fails the test that makes it. With a ledger, the account as last
// saved must then be the account held whenever the sim reads its clock —
// which it does under its lock, first in every action, after the previous
// one's commit — and when the test ends.
func newChecked(t testing.TB, opts Options, deps Deps) (*Terminal, error) {
	t.Helper()
	var s *Terminal // nil while New loads the account: nothing is saved yet
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	deps.Now = func() time.Time {
		if s != nil {
			if err := unsaved(s); err != nil {
				// Any goroutine may be reading the clock, and t.Fatal
				// is for the test's own.
				panic(err)
			}
		}
		return now()
	}
	var err error
	if s, err = New(context.Background(), "sim", opts, deps); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := unsaved(s); err != nil {
			t.Error(err)
		}
	})
	return s, nil
}

// unsaved says how s's account differs from the one it last saved, when it
// holds no change it knows of. The caller holds s.mu.
func unsaved(s *Terminal) error {
	if s.ledger == nil || s.changed {
		return nil
	}
	body, err := json.Marshal(s.st)
	if err != nil || !bytes.Equal(body, s.saved) {
		return fmt.Errorf("sim: the state changed without t.changed being set (%v):\nsaved %s\nnow   %s", err, s.saved, body)
	}
	return nil
}

// kept is every record of kind the account keeps, archived then in the
// state. The caller holds s.mu.
func kept[T any](t testing.TB, s *Terminal, kind string, inState []*T) []*T {
	t.Helper()
	return append(archivedSince[T](t, s, kind, dayOf(time.Time{})), inState...)
}

// archivedSince is the archived records of kind from day since on. The
// caller holds s.mu.
func archivedSince[T any](t testing.TB, s *Terminal, kind string, since day) []*T {
	t.Helper()
	records, err := archived[T](context.Background(), s, kind, since)
	if err != nil {
		t.Fatalf("reading the archive: %v", err)
	}
	return records
}

func limit(code string, side automation.Side, price float64, qty int64) automation.OrderRequest {
	return automation.OrderRequest{Code: code, Side: side, Kind: automation.Limit, Price: price, Quantity: qty}
}

func market(code string, side automation.Side, qty int64) automation.OrderRequest {
	return automation.OrderRequest{Code: code, Side: side, Kind: automation.Market, Quantity: qty, Strategy: 3}
}

func mustPlace(t testing.TB, s *Terminal, req automation.OrderRequest) automation.Order {
	t.Helper()
	o, err := s.PlaceOrder(context.Background(), req)
	if err != nil {
		t.Fatalf("PlaceOrder(%+v): %v", req, err)
	}
	return o
}

func mustFunds(t testing.TB, s *Terminal) automation.Funds {
	t.Helper()
	f, err := s.Funds(context.Background())
	if err != nil {
		t.Fatalf("Funds: %v", err)
	}
	return f
}

func mustPosition(t testing.TB, s *Terminal, code string) (automation.Position, bool) {
	t.Helper()
	ps, err := s.Positions(context.Background())
	if err != nil {
		t.Fatalf("Positions: %v", err)
	}
	for _, p := range ps {
		if p.Code == code {
			return p, true
		}
	}
	return automation.Position{}, false
}

func mustOrder(t testing.TB, s *Terminal, contractNo string) automation.Order {
	t.Helper()
	os, err := s.OrderHistory(context.Background(), automation.HistoryQuery{})
	if err != nil {
		t.Fatalf("OrderHistory: %v", err)
	}
	for _, o := range os {
		if o.ContractNo == contractNo {
			return o
		}
	}
	t.Fatalf("no order %s", contractNo)
	return automation.Order{}
}

func mustQuote(t testing.TB, s *Terminal, code string) float64 {
	t.Helper()
	p, err := s.Quote(code)
	if err != nil {
		t.Fatalf("Quote(%s): %v", code, err)
	}
	return p
}

// wantCode fails unless err carries the automation error code.
func wantCode(t testing.TB, err error, code automation.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %s", code)
	}
	if got := automation.CodeOf(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
}

var errDiskFull = errors.New("disk full")
