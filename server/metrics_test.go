package server

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// testCounter reads one series of a counter family.
func testCounter(t *testing.T, m *Metrics, family string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, s := range mf.GetMetric() {
			if hasLabels(s, labels) {
				switch {
				case s.Counter != nil:
					return s.Counter.GetValue()
				case s.Gauge != nil:
					return s.Gauge.GetValue()
				case s.Histogram != nil:
					return float64(s.Histogram.GetSampleCount())
				}
			}
		}
	}
	t.Errorf("no series %s%v", family, labels)
	return -1
}

func hasLabels(s *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range s.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	id := h.submitted("/api/v1/operations/buy?wait=10", buyBody)
	h.exec.respond(func(queue.Operation) (queue.Result, error) { return queue.Result{}, automation.Rejected("no") })
	expect(t, h.post("/api/v1/operations/funds_query?wait=10", ""), 200, "rejected")
	h.exec.respond(nil)
	if err := h.q.Pause(context.Background(), "backup"); err != nil {
		t.Fatal(err)
	}
	h.submitted("/api/v1/operations/funds_query", `{"terminal":"backup"}`)
	h.backup.setState(automation.StateDisconnected)
	h.get("/api/v1/operations/" + id + "/status")
	for range 2 {
		h.serve(request{method: "POST", path: "/api/v1/operations/funds_query", header: map[string]string{"Idempotency-Key": "m1"}})
	}
	h.get("/api/v1/no/such/route")

	w := h.get("/metrics")
	if w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	text := w.Body.String()

	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	for _, family := range []string{
		"brokerd_operations_submitted_total", "brokerd_operations_finished_total", "brokerd_queue_depth",
		"brokerd_operations_running", "brokerd_queue_wait_seconds", "brokerd_operation_duration_seconds",
		"brokerd_terminal_up", "brokerd_idempotent_replays_total", "brokerd_http_request_duration_seconds",
		"brokerd_lane_paused", "brokerd_lane_stuck", "brokerd_result_waiters", "go_goroutines", "process_",
	} {
		if !strings.Contains(text, family) {
			t.Errorf("no %s in the exposition", family)
		}
	}
	if strings.Contains(text, id) {
		t.Error("an operation id is in a label")
	}

	checks := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"brokerd_operations_submitted_total", map[string]string{"operation": "buy", "terminal": "main"}, 1},
		{"brokerd_operations_submitted_total", map[string]string{"operation": "funds_query", "terminal": "main"}, 2},
		{"brokerd_idempotent_replays_total", map[string]string{"terminal": "main"}, 1},
		{"brokerd_idempotent_replays_total", map[string]string{"terminal": "gw"}, 0},
		{"brokerd_operations_finished_total", map[string]string{"operation": "buy", "terminal": "main", "status": "success"}, 1},
		{"brokerd_operations_finished_total", map[string]string{"operation": "funds_query", "terminal": "main", "status": "failed"}, 1},
		{"brokerd_queue_wait_seconds", map[string]string{"operation": "buy", "terminal": "main"}, 1},
		{"brokerd_operation_duration_seconds", map[string]string{"operation": "buy", "terminal": "main"}, 1},
		{"brokerd_queue_depth", map[string]string{"terminal": "backup"}, 1},
		{"brokerd_queue_depth", map[string]string{"terminal": "main"}, 0},
		{"brokerd_lane_paused", map[string]string{"terminal": "backup"}, 1},
		{"brokerd_terminal_up", map[string]string{"terminal": "main"}, 1},
		{"brokerd_terminal_up", map[string]string{"terminal": "backup"}, 0},
		{"brokerd_http_request_duration_seconds", map[string]string{"route": "/api/v1/operations/:id/status", "method": "GET", "code": "200"}, 1},
		{"brokerd_http_request_duration_seconds", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
	}
	for _, c := range checks {
		if got := testCounter(t, h.metrics, c.family, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
}

func TestMetricsMethodLabelIsBounded(t *testing.T) {
	h := newHarness(t)
	h.serve(request{method: "BREW", path: "/api/v1/ping"})
	if got := testCounter(t, h.metrics, "brokerd_http_request_duration_seconds", map[string]string{"method": "OTHER"}); got != 1 {
		t.Errorf("OTHER = %v", got)
	}
}

// TestBuildInfoAndJournalMetrics: /metrics says which brokerd runs and how
// its journal commits: count, failures, latency and group size
// histograms, file sizes; and passes promlint.
func TestBuildInfoAndJournalMetrics(t *testing.T) {
	h := newHarness(t, withJournalStats(func() JournalStats {
		return JournalStats{Commits: 7, Failures: 2, DBBytes: 4096, WALBytes: 8192,
			CommitSeconds: Histogram{Bounds: []float64{0.001, 0.01}, Counts: []uint64{3, 8}, Count: 9, Sum: 0.04},
			GroupSize:     Histogram{Bounds: []float64{1, 2}, Counts: []uint64{5, 9}, Count: 9, Sum: 14}}
	}))
	text := h.get("/metrics").Body.String()
	for _, want := range []string{
		`brokerd_build_info{goversion="` + runtime.Version() + `",version="v1.2.3-test"} 1`,
		"brokerd_journal_commits_total 7",
		"brokerd_journal_commit_failures_total 2",
		`brokerd_journal_commit_seconds_bucket{le="0.01"} 8`,
		`brokerd_journal_commit_seconds_bucket{le="+Inf"} 9`,
		"brokerd_journal_commit_seconds_sum 0.04",
		`brokerd_journal_commit_group_size_bucket{le="1"} 5`,
		`brokerd_journal_size_bytes{file="db"} 4096`,
		`brokerd_journal_size_bytes{file="wal"} 8192`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "brokerd_journal") || p.Metric == "brokerd_build_info" {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}
