package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

// TestCommitStats: every commit is counted with its group size, a failed
// one as a failure, and the files' sizes are reported.
func TestCommitStats(t *testing.T) {
	s := openTest(t, Options{})
	for i := range 5 {
		appendOps(t, s, queued(fmt.Sprintf("op-%d", i), uint64(i+1), t0))
	}
	st := s.CommitStats()
	if st.Commits < 5 || st.Failures != 0 || st.GroupSize.Count != st.Commits || st.CommitSeconds.Count != st.Commits {
		t.Fatalf("%+v", st)
	}
	if st.GroupSize.Sum < 5 || st.GroupSize.Counts[len(st.GroupSize.Counts)-1] != st.GroupSize.Count {
		t.Errorf("group sizes %+v", st.GroupSize)
	}
	if st.DBBytes <= 0 || st.WALBytes <= 0 {
		t.Errorf("sizes db %d, wal %d", st.DBBytes, st.WALBytes)
	}

	// A batch that fails as a whole (not a record's own error) is a failure.
	boom := errors.New("boom")
	before := s.CommitStats()
	_, err := s.submit(context.Background(), func(context.Context, *sql.Tx) (int64, error) { return 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
	if after := s.CommitStats(); after.Failures != before.Failures+1 || after.Commits != before.Commits {
		t.Errorf("before %d/%d, after %d/%d", before.Commits, before.Failures, after.Commits, after.Failures)
	}
}
