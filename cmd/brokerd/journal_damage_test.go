package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/store"
)

// TestCorruptJournalRefusesToStart: with a page of the operations table
// overwritten (a bad sector, a stray write), brokerd does not start
// healthy and fail every submit: it refuses to start and says what to do.
func TestCorruptJournalRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.db")
	base, _, stop := startBrokerdWith(t, func(string) string { return simConfig(0, journal, "") })
	for i := range 200 {
		var a struct {
			Success bool `json:"success"`
		}
		postJSON(t, base+"/api/v1/operations/funds_query", fmt.Sprintf(`{"client_id":"q-%d"}`, i), &a)
		if !a.Success {
			t.Fatalf("submit %d refused", i)
		}
	}
	must(t, stop())

	overwriteOperationsRoot(t, journal)

	cfgPath := filepath.Join(dir, "config.toml")
	writeFile(t, cfgPath, simConfig(0, journal, ""))
	var logs lockedBuffer
	err := run(context.Background(), []string{"-config", cfgPath}, func(string) string { return "" }, io.Discard, &logs)
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("run on a corrupt journal = %v, want store.ErrCorrupt", err)
	}
	for _, want := range []string{journal, "damaged", "integrity check", ".recover", "[store] path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

// overwriteOperationsRoot writes garbage over the root page of the
// journal's operations table.
func overwriteOperationsRoot(t *testing.T, journal string) {
	t.Helper()
	db, err := sql.Open("sqlite", journal)
	must(t, err)
	var root, pageSize int64
	must(t, db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'operations'`).Scan(&root))
	must(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	must(t, db.Close())
	f, err := os.OpenFile(journal, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt([]byte(strings.Repeat("\xff", int(pageSize))), (root-1)*pageSize)
	must(t, err)
	must(t, f.Close())
}

// TestJournalMetricsOfARealJournal: /metrics of a running brokerd counts
// its journal's commits.
func TestJournalMetricsOfARealJournal(t *testing.T) {
	base, _, _ := startBrokerdWith(t, func(dir string) string { return simConfig(0, filepath.Join(dir, "j.db"), "") })
	var a struct {
		Success bool `json:"success"`
	}
	postJSON(t, base+"/api/v1/operations/funds_query?wait=5", `{}`, &a)
	resp, err := http.Get(base + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	text := string(b)
	for _, want := range []string{"brokerd_build_info{", "brokerd_journal_commits_total ", "brokerd_journal_commit_seconds_bucket{le=", `brokerd_journal_size_bytes{file="db"}`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "brokerd_journal_commits_total 0\n") {
		t.Error("no commit counted after a submit")
	}
}
