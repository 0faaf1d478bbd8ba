//go:build unix

// Removing a file that brokerd holds open is possible on Unix only.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/store"
)

// TestRemovedWALStopsAcknowledging removes the WAL of a real journal under
// a running brokerd, as a cleanup script would: brokerd must notice, stop
// acknowledging submits (503 journal_unavailable), block its lanes, say why
// in health, and keep every operation it acknowledged before, even if it
// were killed now (the database file alone holds them).
func TestRemovedWALStopsAcknowledging(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.db")
	base, logs, stop := startBrokerdWith(t, func(string) string { return simConfig(0, journal, "") })

	var acked []string
	submit := func(i int) (int, string, string) {
		resp, err := http.Post(base+"/api/v1/operations/buy", "application/json", strings.NewReader(
			fmt.Sprintf(`{"params":{"stock_code":"600000","price":10.50,"quantity":100},"client_id":"wal-%d"}`, i)))
		must(t, err)
		defer resp.Body.Close()
		var a struct {
			ErrorCode *string `json:"error_code"`
			Data      struct {
				ID string `json:"operation_id"`
			} `json:"data"`
		}
		decodeInto(t, resp, &a)
		code := ""
		if a.ErrorCode != nil {
			code = *a.ErrorCode
		}
		return resp.StatusCode, code, a.Data.ID
	}
	for i := range 30 {
		status, code, id := submit(i)
		if status != 200 {
			t.Fatalf("submit %d: %d %s", i, status, code)
		}
		acked = append(acked, id)
	}
	must(t, os.Remove(journal+"-wal"))

	var health struct {
		Data struct {
			Status     string   `json:"status"`
			Problems   []string `json:"problems"`
			Components struct {
				Lanes map[string]string `json:"lanes"`
			} `json:"components"`
		} `json:"data"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		getJSON(t, base+"/api/v1/system/health", &health)
		if health.Data.Status == "unhealthy" && health.Data.Components.Lanes["sim"] == "blocked" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never said the WAL was removed: %+v", health.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := strings.Join(health.Data.Problems, " | "); !strings.Contains(p, "WAL") || !strings.Contains(p, "removed") {
		t.Errorf("health does not say why: %s", p)
	}
	if status, code, _ := submit(1000); status != http.StatusServiceUnavailable || code != "journal_unavailable" {
		t.Errorf("a submit after the WAL was removed: %d %q, want 503 journal_unavailable", status, code)
	}

	// What a kill -9 now would leave: the database file without the WAL.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	b, err := os.ReadFile(journal)
	must(t, err)
	must(t, os.WriteFile(crashed, b, 0o600))
	st, err := store.Open(context.Background(), crashed, store.Options{})
	must(t, err)
	for _, id := range acked {
		if _, err := st.Get(context.Background(), id); err != nil {
			t.Errorf("acknowledged %s is not in the database file: %v", id, err)
		}
	}
	must(t, st.Close())

	must(t, stop())
	if !strings.Contains(logs.String(), "the journal is damaged") {
		t.Errorf("the log does not say it:\n%s", logs.String())
	}
}

func decodeInto(t *testing.T, resp *http.Response, into any) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%d: %v: %s", resp.StatusCode, err, b)
	}
}
