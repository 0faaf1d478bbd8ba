package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metrics reads brokerd's Prometheus exposition and sums each metric over
// its label sets: {"brokerd_result_waiters": 10000, …}.
func (a api) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d: %s", resp.StatusCode, truncate(string(body), 200))
	}
	return parseExposition(body), nil
}

// parseExposition reads the text format's sample lines ("name{labels}
// value [timestamp]"); comments and lines it cannot read are skipped.
func parseExposition(body []byte) map[string]float64 {
	out := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var name, rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
		} else {
			var ok bool
			if name, rest, ok = strings.Cut(line, " "); !ok {
				continue
			}
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out
}

// usageFromMetrics is the process collector's view of the server, for an
// attached server whose pid is unknown.
func usageFromMetrics(m map[string]float64) (procUsage, error) {
	rss, ok1 := m["process_resident_memory_bytes"]
	cpu, ok2 := m["process_cpu_seconds_total"]
	if !ok1 || !ok2 {
		return procUsage{}, fmt.Errorf("/metrics has no process_resident_memory_bytes or process_cpu_seconds_total")
	}
	return procUsage{RSS: int64(rss), HWM: int64(rss), CPU: time.Duration(cpu * float64(time.Second))}, nil
}
