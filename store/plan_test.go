package store

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/queue"
)

// TestQueryPlans checks that every query is served by an index, so that a
// journal of millions of operations stays fast: no full scan of operations
// and no temporary sort.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, Options{})
	history := func(f HistoryFilter) (string, []any) {
		where, args := filterWhere(f)
		return historyPage(where), append(args, 100, 0)
	}
	count := func(f HistoryFilter) (string, []any) {
		where, args := filterWhere(f)
		return historyCount(where), args
	}
	q := func(sql string, args ...any) func() (string, []any) {
		return func() (string, []any) { return sql, args }
	}
	tests := []struct {
		name  string
		query func() (string, []any)
		index string
		sorts bool // a sort is fine: few rows
	}{
		{"Get", q(selectByID, "x"), "sqlite_autoindex_operations_1", false},
		{"status before an update", q(selectStatus, "x"), "sqlite_autoindex_operations_1", false},
		{"FindByKey", q(selectByKey, "sim", "k", int64(0)), "operations_key", false},
		{"Unfinished", q(selectUnfinished), "operations_status", true},
		{"Prune", q(pruneFinished, int64(0), 500), "operations_status", false},
		{"History", func() (string, []any) { return history(HistoryFilter{}) }, "operations_submitted", false},
		{"History by status", func() (string, []any) { return history(HistoryFilter{Status: queue.StatusFailed}) }, "operations_status", false},
		{"History by name", func() (string, []any) { return history(HistoryFilter{Name: "buy"}) }, "operations_name", false},
		{"History by terminal", func() (string, []any) { return history(HistoryFilter{Terminal: "sim"}) }, "operations_terminal", false},
		{"History since", func() (string, []any) { return history(HistoryFilter{Since: t0}) }, "operations_submitted", false},
		{"History count by terminal, until", func() (string, []any) {
			return count(HistoryFilter{Terminal: "sim", Until: t0.Add(time.Hour)})
		}, "operations_terminal", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args := tt.query()
			plan := queryPlan(t, s, sql, args...)
			all := strings.Join(plan, "; ")
			if !strings.Contains(all, "INDEX "+tt.index) {
				t.Errorf("plan %q does not use %s", all, tt.index)
			}
			for _, d := range plan {
				if d == "SCAN operations" || strings.Contains(d, "TEMP B-TREE") && !tt.sorts {
					t.Errorf("plan %q scans the table or sorts", all)
				}
			}
		})
	}
}

// queryPlan is the detail column of EXPLAIN QUERY PLAN for a statement.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.write.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		must(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
