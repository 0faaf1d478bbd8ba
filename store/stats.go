package store

import (
	"os"
	"sort"
	"sync"
	"time"
)

// Bucket bounds of the commit statistics: a commit syncs the WAL, from
// well under a millisecond on an SSD to seconds on a failing disk; a group
// is 1 to maxBatch records.
var (
	commitSecondsBounds = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	groupSizeBounds     = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
)

// Histogram is a distribution as Prometheus keeps one: Counts[i] is how
// many observations were at most Bounds[i], cumulative; Count and Sum are
// over all observations (also those above the last bound).
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// CommitStats is what the journal's writer has done since Open, for
// brokerd's metrics.
type CommitStats struct {
	// Commits is the number of transactions committed; Failures of those
	// that did not commit (nothing of them was recorded).
	Commits, Failures uint64
	// CommitSeconds is the time of each transaction, begin to durable
	// commit (or failure).
	CommitSeconds Histogram
	// GroupSize is the number of records in each transaction (group
	// commit).
	GroupSize Histogram
	// DBBytes and WALBytes are the sizes of the database file and of its
	// WAL now.
	DBBytes, WALBytes int64
}

// commitStats accumulates CommitStats; the writer goroutine adds, scrapes
// read.
type commitStats struct {
	mu                sync.Mutex
	commits, failures uint64
	seconds, group    histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is above every bound
	count  uint64
	sum    float64
}

func (h *histogram) observe(bounds []float64, v float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	h.counts[sort.SearchFloat64s(bounds, v)]++
	h.count++
	h.sum += v
}

func (h *histogram) snapshot(bounds []float64) Histogram {
	out := Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)), Count: h.count, Sum: h.sum}
	var cum uint64
	for i := range bounds {
		if h.counts != nil {
			cum += h.counts[i]
		}
		out.Counts[i] = cum
	}
	return out
}

func (c *commitStats) observe(records int, took time.Duration, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if failed {
		c.failures++
	} else {
		c.commits++
	}
	c.seconds.observe(commitSecondsBounds, took.Seconds())
	c.group.observe(groupSizeBounds, float64(records))
}

// CommitStats reports the writer's commits since Open and the files' sizes.
func (s *Store) CommitStats() CommitStats {
	c := &s.stats
	c.mu.Lock()
	out := CommitStats{Commits: c.commits, Failures: c.failures,
		CommitSeconds: c.seconds.snapshot(commitSecondsBounds), GroupSize: c.group.snapshot(groupSizeBounds)}
	c.mu.Unlock()
	if fi, err := os.Stat(s.path); err == nil {
		out.DBBytes = fi.Size()
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		out.WALBytes = fi.Size()
	}
	return out
}
