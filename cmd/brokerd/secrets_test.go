package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The four places a secret must never reach, read by the drivers'
// end-to-end tests: the log, the journal, /metrics and /events.

// journalText is every byte of the journal in dir (the database, its WAL),
// read after brokerd stopped.
func journalText(t *testing.T, dir string) string {
	t.Helper()
	var journal strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "brokerd.db*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		journal.Write(b)
	}
	if len(files) == 0 {
		t.Fatalf("no journal in %s", dir)
	}
	return journal.String()
}

// metricsText is brokerd's /metrics exposition (with the key, if given).
func metricsText(t *testing.T, base, key string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// noSecrets fails for every secret (by what it is) found in any place (by
// name).
func noSecrets(t *testing.T, secrets, places map[string]string) {
	t.Helper()
	for where, text := range places {
		for what, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("the %s holds the %s", where, what)
			}
		}
	}
}
