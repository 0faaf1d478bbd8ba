package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestJournalFilesAreIgnored: the README's run command leaves the journal,
// its WAL and its lock in the working tree; git status must not show them.
func TestJournalFilesAreIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	files := []string{"brokerd.db", "brokerd.db-wal", "brokerd.db-shm", "brokerd.db.lock", "journal.db.lock", "cmd/brokerd/brokerd.db.lock"}
	args := append([]string{"-C", "../..", "check-ignore", "--no-index", "-v", "-n"}, files...)
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Skipf("git check-ignore: %v (not in a git work tree?)", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		// -n -v prints "::\tpath" for a path no rule ignores.
		if strings.HasPrefix(line, "::") {
			t.Errorf("not ignored: %s", strings.TrimSpace(strings.TrimPrefix(line, "::")))
		}
	}
}
