package store

import (
	"context"
	"errors"
	"fmt"
	"github.com/brokerd/brokerd/automation"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// day0 is the start of a day; archive days are whole days after it.
var day0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.FixedZone("CST", 8*60*60))

func rec(kind string, dayN int, seq int64, key, body string) automation.LedgerRecord {
	return automation.LedgerRecord{Kind: kind, Day: day0.AddDate(0, 0, dayN), Seq: seq, Key: key, Body: []byte(body)}
}

func bodies(t *testing.T, got [][]byte, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]string, len(got))
	for i, b := range got {
		parts[i] = string(b)
	}
	return strings.Join(parts, ",")
}

func TestArchiveLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	s := openAt(t, path, Options{})
	must(t, s.SaveLedger(ctx, "sim", []byte(`{"day":0}`)))

	// Two rolls of "sim" (the second holds an earlier day's record: a
	// condition order created before it ended) and one of another terminal.
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{
		rec("order", 0, 1, "c-1", "o1"),
		rec("order", 0, 2, "", "o2"),
		rec("trade", 0, 3, "", "t1"),
	}, []byte(`{"day":1}`)))
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{
		rec("order", 1, 4, "c-1", "o3"), // a key used again: the last wins
		rec("trade", 1, 5, "", "t2"),
		rec("condition", 0, 6, "", "k1"),
	}, []byte(`{"day":2}`)))
	must(t, s.ArchiveLedger(ctx, "paper", []automation.LedgerRecord{rec("order", 1, 1, "c-1", "p1")}, []byte(`{"paper":1}`)))
	// Nothing to archive still saves the state.
	must(t, s.ArchiveLedger(ctx, "paper", nil, []byte(`{"paper":2}`)))

	check := func(s *Store) {
		t.Helper()
		loads := []struct {
			terminal, kind string
			since          time.Time
			want           string
		}{
			{"sim", "order", time.Time{}, "o1,o2,o3"},
			{"sim", "order", day0, "o1,o2,o3"},
			{"sim", "order", day0.Add(time.Hour), "o3"}, // days are compared whole: the caller passes a day's start
			{"sim", "order", day0.AddDate(0, 0, 1), "o3"},
			{"sim", "order", day0.AddDate(0, 0, 2), ""},
			{"sim", "trade", time.Time{}, "t1,t2"},
			{"sim", "condition", time.Time{}, "k1"},
			{"sim", "repo_loan", time.Time{}, ""},
			{"paper", "order", time.Time{}, "p1"},
			{"nobody", "order", time.Time{}, ""},
		}
		for _, tt := range loads {
			got, err := s.LoadLedgerArchive(ctx, tt.terminal, tt.kind, tt.since)
			if b := bodies(t, got, err); b != tt.want || got == nil {
				t.Errorf("LoadLedgerArchive(%s, %s, %v) = %q (nil %v), want %q", tt.terminal, tt.kind, tt.since, b, got == nil, tt.want)
			}
		}
		finds := []struct {
			terminal, kind, key string
			want                string
			found               bool
		}{
			{"sim", "order", "c-1", "o3", true},
			{"paper", "order", "c-1", "p1", true},
			{"sim", "trade", "c-1", "", false},
			{"sim", "order", "c-2", "", false},
			{"sim", "order", "", "", false},
		}
		for _, tt := range finds {
			got, err := s.FindLedgerArchive(ctx, tt.terminal, tt.kind, tt.key)
			if err != nil || string(got) != tt.want || (got != nil) != tt.found {
				t.Errorf("FindLedgerArchive(%s, %s, %q) = %q, %v; want %q (found %v)", tt.terminal, tt.kind, tt.key, got, err, tt.want, tt.found)
			}
		}
		for terminal, want := range map[string]string{"sim": `{"day":2}`, "paper": `{"paper":2}`} {
			if got, err := s.LoadLedger(ctx, terminal); err != nil || string(got) != want {
				t.Errorf("LoadLedger(%s) = %s, %v; want %s", terminal, got, err, want)
			}
		}
	}
	check(s)
	must(t, s.Close())
	check(openAt(t, path, Options{}))
}

func TestArchiveLedgerRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tests := []struct {
		name     string
		terminal string
		records  []automation.LedgerRecord
		want     string
	}{
		{"no terminal", "", nil, "without a terminal name"},
		{"no kind", "sim", []automation.LedgerRecord{{Day: day0, Seq: 1}}, "no kind"},
		{"no day", "sim", []automation.LedgerRecord{{Kind: "order", Seq: 1}}, "no day"},
	}
	for _, tt := range tests {
		err := s.ArchiveLedger(ctx, tt.terminal, tt.records, []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if got, _ := s.LoadLedger(ctx, "sim"); got != nil {
		t.Errorf("a refused archive saved the state %s", got)
	}
	must(t, s.Close())
	if err := s.ArchiveLedger(ctx, "sim", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("ArchiveLedger after Close = %v", err)
	}
	for name, err := range map[string]error{
		"LoadLedgerArchive":  func() error { _, err := s.LoadLedgerArchive(ctx, "sim", "order", time.Time{}); return err }(),
		"FindLedgerArchive":  func() error { _, err := s.FindLedgerArchive(ctx, "sim", "order", "k"); return err }(),
		"PruneLedgerArchive": s.PruneLedgerArchive(ctx, "sim", day0),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v", name, err)
		}
	}
}

// A record archived twice fails the whole archive write — its other records
// and its state too — while the writes committed in the same transaction
// by other callers are kept.
func TestArchiveLedgerIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{BusyTimeout: heldBusyTimeout})
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{rec("order", 0, 1, "", "o1")}, []byte(`{"v":1}`)))
	before := s.CommitStats()

	// Hold the writer with a write of its own transaction, then queue the
	// three writes of one batch in order.
	lock := lockOutside(t, s.Path())
	holder := appendAsync(ctx, s, queued("holder", 0, t0))
	waitInTransaction(t, s)
	first := appendAsync(ctx, s, queued("op-before", 1, t0))
	waitQueued(t, s, 1)
	dup := make(chan error, 1)
	go func() {
		dup <- s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{rec("order", 1, 2, "k", "o2"), rec("order", 0, 1, "", "o1 again")}, []byte(`{"v":2}`))
	}()
	waitQueued(t, s, 2)
	after := appendAsync(ctx, s, queued("op-after", 2, t0))
	waitQueued(t, s, 3)
	lock.release()
	must(t, <-holder)
	must(t, <-first)
	must(t, <-after)
	// The three writes were committed in one transaction, after holder's.
	wantCommits(t, s, before, 2, 0, 1, 3)
	if t.Failed() {
		t.FailNow()
	}

	err := <-dup
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already archived") {
		t.Errorf("archiving a record twice = %v, want ErrConflict", err)
	}
	for _, id := range []string{"op-before", "op-after"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("%s, committed with the failed archive: %v", id, err)
		}
	}
	got, err := s.LoadLedgerArchive(ctx, "sim", "order", time.Time{})
	if b := bodies(t, got, err); b != "o1" {
		t.Errorf("archive after the conflict = %q, want only o1", b)
	}
	if f, _ := s.FindLedgerArchive(ctx, "sim", "order", "k"); f != nil {
		t.Errorf("the failed archive's record is findable: %s", f)
	}
	if st, _ := s.LoadLedger(ctx, "sim"); string(st) != `{"v":1}` {
		t.Errorf("state after the conflict = %s, want the previous one", st)
	}
}

func TestPruneLedgerArchive(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	s.pruneBatch = 3 // several batches
	var sim, paper []automation.LedgerRecord
	for i := range 10 {
		sim = append(sim, rec("order", i, int64(2*i+1), fmt.Sprint("c-", i), fmt.Sprint("o", i)), rec("trade", i, int64(2*i+2), "", fmt.Sprint("t", i)))
		paper = append(paper, rec("order", i, int64(i+1), "", fmt.Sprint("p", i)))
	}
	must(t, s.ArchiveLedger(ctx, "sim", sim, []byte(`{}`)))
	must(t, s.ArchiveLedger(ctx, "paper", paper, []byte(`{}`)))

	tests := []struct {
		before            time.Time
		orders, trades    string
		keyGone, keyFound string
	}{
		{time.Time{}, "o0,o1,o2,o3,o4,o5,o6,o7,o8,o9", "t0,t1,t2,t3,t4,t5,t6,t7,t8,t9", "", "c-0"},
		{day0, "o0,o1,o2,o3,o4,o5,o6,o7,o8,o9", "t0,t1,t2,t3,t4,t5,t6,t7,t8,t9", "", "c-0"},
		{day0.AddDate(0, 0, 7), "o7,o8,o9", "t7,t8,t9", "c-6", "c-7"}, // 14 rows: 5 batches
		{day0.AddDate(0, 0, 7), "o7,o8,o9", "t7,t8,t9", "c-6", "c-7"}, // again: nothing left to delete
		{day0.AddDate(0, 0, 30), "", "", "c-9", ""},
	}
	for _, tt := range tests {
		must(t, s.PruneLedgerArchive(ctx, "sim", tt.before))
		o, err := s.LoadLedgerArchive(ctx, "sim", "order", time.Time{})
		if b := bodies(t, o, err); b != tt.orders {
			t.Errorf("before %v: orders %q, want %q", tt.before, b, tt.orders)
		}
		tr, err := s.LoadLedgerArchive(ctx, "sim", "trade", time.Time{})
		if b := bodies(t, tr, err); b != tt.trades {
			t.Errorf("before %v: trades %q, want %q", tt.before, b, tt.trades)
		}
		if tt.keyGone != "" {
			if f, _ := s.FindLedgerArchive(ctx, "sim", "order", tt.keyGone); f != nil {
				t.Errorf("before %v: %s still found", tt.before, tt.keyGone)
			}
		}
		if tt.keyFound != "" {
			if f, _ := s.FindLedgerArchive(ctx, "sim", "order", tt.keyFound); f == nil {
				t.Errorf("before %v: %s not found", tt.before, tt.keyFound)
			}
		}
	}
	// Another terminal's archive is its own.
	p, err := s.LoadLedgerArchive(ctx, "paper", "order", time.Time{})
	if b := bodies(t, p, err); b != "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9" {
		t.Errorf("paper's archive after pruning sim = %q", b)
	}
}

// A journal of schema version 1, with a sim ledger saved, gains the archive
// and keeps the ledger.
func TestMigrateToTheLedgerArchive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "brokerd.db")
	db := rawDB(t, path)
	must(t, migrate(ctx, db, migrations[:1]))
	_, err := db.Exec(`INSERT INTO sim_ledger (terminal, state, updated_at) VALUES ('sim', '{"version":1}', 0)`)
	must(t, err)
	must(t, db.Close())

	s := openAt(t, path, Options{})
	if v := pragmaInt(t, rawDB(t, path), "user_version"); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	if st, err := s.LoadLedger(ctx, "sim"); err != nil || string(st) != `{"version":1}` {
		t.Errorf("ledger after the migration = %s, %v", st, err)
	}
	must(t, s.ArchiveLedger(ctx, "sim", []automation.LedgerRecord{rec("order", 0, 1, "k", "o1")}, []byte(`{"version":2}`)))
	if f, err := s.FindLedgerArchive(ctx, "sim", "order", "k"); err != nil || string(f) != "o1" {
		t.Errorf("archive after the migration: %s, %v", f, err)
	}
}

// The archive's reads and pruning are served by its indexes, without a
// sort or a scan of the table: a year of a busy account stays fast.
func TestArchiveQueryPlans(t *testing.T) {
	s := openTest(t, Options{})
	tests := []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"LoadLedgerArchive", selectArchive, []any{"sim", "order", int64(0)}, "sim_archive_kind"},
		{"FindLedgerArchive", findArchive, []any{"sim", "order", "k"}, "sim_archive_key"},
		{"PruneLedgerArchive", pruneArchive, []any{"sim", int64(0), 500}, "sim_archive_day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			all := strings.Join(plan, "; ")
			if !strings.Contains(all, "INDEX "+tt.index) {
				t.Errorf("plan %q does not use %s", all, tt.index)
			}
			for _, d := range plan {
				if strings.HasPrefix(d, "SCAN sim_archive") && !strings.Contains(d, "INDEX") || strings.Contains(d, "TEMP B-TREE") {
					t.Errorf("plan %q scans the table or sorts", all)
				}
			}
		})
	}
}
