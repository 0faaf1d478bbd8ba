package server

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// JournalStats is what /metrics shows of the journal's writer; cmd fills it
// from the store.
type JournalStats struct {
	Commits, Failures uint64
	CommitSeconds     Histogram
	GroupSize         Histogram
	DBBytes, WALBytes int64
}

// Histogram is a distribution: Counts[i] observations at most Bounds[i]
// (cumulative), Count and Sum over all.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

var (
	descCommits = prometheus.NewDesc("brokerd_journal_commits_total",
		"Journal transactions committed (each holds a group of records).", nil, nil)
	descCommitFailures = prometheus.NewDesc("brokerd_journal_commit_failures_total",
		"Journal transactions that failed: nothing of them was recorded.", nil, nil)
	descCommitSeconds = prometheus.NewDesc("brokerd_journal_commit_seconds",
		"Time of a journal transaction, begin to durable commit (WAL synced).", nil, nil)
	descGroupSize = prometheus.NewDesc("brokerd_journal_commit_group_size",
		"Records per journal transaction (group commit).", nil, nil)
	descDBBytes = prometheus.NewDesc("brokerd_journal_size_bytes",
		"Size of the journal's files.", []string{"file"}, nil)
)

// journalCollector reads the journal's statistics at scrape time.
type journalCollector struct{ stats func() JournalStats }

func (j journalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommits, descCommitFailures, descCommitSeconds, descGroupSize, descDBBytes} {
		ch <- d
	}
}

func (j journalCollector) Collect(ch chan<- prometheus.Metric) {
	st := j.stats()
	ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(st.Commits))
	ch <- prometheus.MustNewConstMetric(descCommitFailures, prometheus.CounterValue, float64(st.Failures))
	ch <- constHistogram(descCommitSeconds, st.CommitSeconds)
	ch <- constHistogram(descGroupSize, st.GroupSize)
	ch <- prometheus.MustNewConstMetric(descDBBytes, prometheus.GaugeValue, float64(st.DBBytes), "db")
	ch <- prometheus.MustNewConstMetric(descDBBytes, prometheus.GaugeValue, float64(st.WALBytes), "wal")
}

func constHistogram(d *prometheus.Desc, h Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			buckets[b] = h.Counts[i]
		}
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}

// buildInfo is brokerd_build_info: 1, labelled with what was built.
func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "brokerd_build_info",
		Help:        "Always 1; its labels say which brokerd runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
