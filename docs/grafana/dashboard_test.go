// Package grafana holds brokerd's Grafana dashboard (brokerd.json) and the
// test that keeps it true to brokerd's /metrics.
package grafana

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/client"
	"github.com/brokerd/brokerd/internal/brokerdtest"
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"` // a collapsed row's
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// expression is one PromQL expression of the dashboard and where it is.
type expression struct {
	where, expr string
}

func loadDashboard(t *testing.T) []expression {
	t.Helper()
	raw, err := os.ReadFile("brokerd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("brokerd.json: %v", err)
	}
	var out []expression
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q queries nothing", p.Title)
			}
			for _, tg := range p.Targets {
				out = append(out, expression{where: "panel " + p.Title, expr: tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		switch x := v.Query.(type) {
		case string:
			q = x
		case map[string]any:
			q, _ = x["query"].(string)
		}
		out = append(out, expression{where: "variable " + v.Name, expr: q})
	}
	return out
}

// grafanaVariables are replaced before parsing, as Grafana does.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$terminal", ".*", "${terminal}", ".*")

// labelValues is Grafana's label_values(metric, label) of a variable.
var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// refer parses one of the dashboard's expressions.
func refer(expr string) (query, error) {
	expr = grafanaVariables.Replace(expr)
	if m := labelValues.FindStringSubmatch(strings.TrimSpace(expr)); m != nil {
		return query{metrics: map[string]bool{m[1]: true}, labels: map[string]bool{m[2]: true},
			selectorLabels: map[string][]string{m[1]: {m[2]}}}, nil
	}
	return parsePromQL(expr)
}

// exposition maps each sample name of a /metrics text to its label names.
type exposition map[string]map[string]bool

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+`)
var labelName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)

func parseExposition(r io.Reader) (exposition, error) {
	out := exposition{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("not a sample line: %q", line)
		}
		if out[m[1]] == nil {
			out[m[1]] = map[string]bool{}
		}
		for _, l := range labelName.FindAllStringSubmatch(m[3], -1) {
			out[m[1]][l[1]] = true
		}
	}
	return out, sc.Err()
}

// check lists what q refers to that the exposition lacks.
func (e exposition) check(q query) []string {
	var problems []string
	metrics := slices.Sorted(func(yield func(string) bool) {
		for m := range q.metrics {
			if !yield(m) {
				return
			}
		}
	})
	for _, m := range metrics {
		labels, ok := e[m]
		if !ok {
			problems = append(problems, "no metric "+m)
			continue
		}
		for _, l := range q.selectorLabels[m] {
			if !labels[l] {
				problems = append(problems, fmt.Sprintf("metric %s has no label %s", m, l))
			}
		}
	}
	// A label of by/on/without must be on one of the expression's metrics.
	for l := range q.labels {
		found := false
		for m := range q.metrics {
			found = found || e[m][l]
		}
		if !found {
			problems = append(problems, fmt.Sprintf("label %s is on none of %v", l, metrics))
		}
	}
	sort.Strings(problems)
	return problems
}

// scrape runs a few operations on a real brokerd (success, failure,
// cancel, replay, a 422) so that every counter and histogram has series,
// and reads its /metrics.
func scrape(t *testing.T) exposition {
	t.Helper()
	b := brokerdtest.Start(t, brokerdtest.Options{})
	c, err := client.New(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	buy := map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}
	for _, key := range []string{"g-1", "g-1"} { // the second is a replay
		if _, err := c.Submit(ctx, "buy", buy, client.SubmitOptions{IdempotencyKey: key, Wait: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Submit(ctx, "sell", map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 90000}, client.SubmitOptions{Wait: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, "buy", map[string]any{"stock_code": "600000", "price": 0, "quantity": 100}, client.SubmitOptions{}); client.Code(err) != "invalid_params" {
		t.Fatalf("a bad buy: %v", err)
	}
	if _, err := c.Pause(ctx, ""); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Submit(ctx, "buy", buy, client.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(ctx, sub.OperationID); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(b.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exp, err := parseExposition(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestDashboardQueriesExistInMetrics(t *testing.T) {
	exprs := loadDashboard(t)
	exp := scrape(t)
	used := map[string]bool{}
	for _, e := range exprs {
		q, err := refer(e.expr)
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", e.where, e.expr, err)
			continue
		}
		if len(q.metrics) == 0 {
			t.Errorf("%s: %q queries no metric", e.where, e.expr)
		}
		for _, p := range exp.check(q) {
			t.Errorf("%s: %q: %s", e.where, e.expr, p)
		}
		for m := range q.metrics {
			used[m] = true
		}
	}
	// What the dashboard promises to show.
	for _, m := range []string{
		"brokerd_terminal_up", "brokerd_lane_paused", "brokerd_lane_stuck", "brokerd_operations_running", "brokerd_queue_depth",
		"brokerd_operations_submitted_total", "brokerd_operations_finished_total", "brokerd_idempotent_replays_total",
		"brokerd_queue_wait_seconds_bucket", "brokerd_operation_duration_seconds_bucket",
		"brokerd_http_request_duration_seconds_bucket", "brokerd_http_request_duration_seconds_count",
		"process_resident_memory_bytes", "go_goroutines",
	} {
		if !used[m] {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}

// TestCheckCatches makes sure the check above can fail.
func TestCheckCatches(t *testing.T) {
	exp := exposition{
		"brokerd_queue_depth":               {"terminal": true},
		"brokerd_queue_wait_seconds_bucket": {"terminal": true, "operation": true, "le": true},
	}
	tests := []struct {
		expr string
		want []string
	}{
		{`brokerd_queue_depth{terminal=~".*"}`, nil},
		{`histogram_quantile(0.95, sum by (le, operation) (rate(brokerd_queue_wait_seconds_bucket{terminal=~"$terminal"}[$__rate_interval])))`, nil},
		{`brokerd_queue_dept`, []string{"no metric brokerd_queue_dept"}},
		{`brokerd_queue_depth{lane="x"}`, []string{"label lane is on none of [brokerd_queue_depth]", "metric brokerd_queue_depth has no label lane"}},
		{`sum by (instance_name) (brokerd_queue_depth)`, []string{"label instance_name is on none of [brokerd_queue_depth]"}},
		{`label_values(brokerd_queue_depth, terminal)`, nil},
		{`label_values(brokerd_queue_depth, term)`, []string{"label term is on none of [brokerd_queue_depth]", "metric brokerd_queue_depth has no label term"}},
	}
	for _, tt := range tests {
		q, err := refer(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := exp.check(q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestParsePromQL(t *testing.T) {
	good := []struct {
		expr    string
		metrics []string
		labels  []string
	}{
		{`up`, []string{"up"}, nil},
		{`sum(rate(a_total{x="1",y!~"2"}[5m])) by (z) / on (z) group_left (w) b`, []string{"a_total", "b"}, []string{"w", "x", "y", "z"}},
		{`topk(3, max_over_time(c[1h:5m] offset 1d)) > bool 2`, []string{"c"}, nil},
		{`-d * 100 and e unless f or g`, []string{"d", "e", "f", "g"}, nil},
		{`{__name__="h"}`, nil, []string{"__name__"}},
	}
	for _, tt := range good {
		q, err := parsePromQL(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		metrics := sortedSet(q.metrics)
		labels := sortedSet(q.labels)
		if !slices.Equal(metrics, tt.metrics) || !slices.Equal(labels, tt.labels) {
			t.Errorf("%s: metrics %v labels %v, want %v %v", tt.expr, metrics, labels, tt.metrics, tt.labels)
		}
	}
	for _, bad := range []string{`sum(`, `rate(x[5m]`, `x{a=1}`, `x{a="1"`, `nosuchfunc(x)`, `x[5m`, `"unterminated`, `x y`, `sum by (1) (x)`, `x $ y`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func FuzzParsePromQL(f *testing.F) {
	for _, s := range []string{`sum by (le) (rate(x_bucket{a="b"}[5m]))`, `a / on(b) group_left c`, `{x="y"}[1m:]`, `-1 + x offset -5m`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parsePromQL(s)
		if err == nil && (q.metrics == nil || q.labels == nil) {
			t.Fatal("parsed without sets")
		}
	})
}
