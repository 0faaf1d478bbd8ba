package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// fsyncProbe is the disk's own limit for a durable write: the time to
// append a small record to a file in the journal's directory and fsync it,
// as a journal commit must at least. brokerd's latencies and rates are
// reported as multiples of it, measured in the same run, so that a figure
// reads the same on a fast disk and a slow one.
type fsyncProbe struct {
	N              int
	P50, P99, Mean time.Duration
}

// probeRecord is about the size of one journal record's WAL frame payload
// that changes per operation; the probe measures fsync, not bandwidth.
const probeRecord = 256

// probeFsync appends n records of probeRecord bytes to a fresh file in dir,
// each followed by an fsync, and returns the median and p99 of the write +
// fsync pairs. The file is removed afterwards.
func probeFsync(dir string, n int) (fsyncProbe, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return fsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// The file's creation is not what a commit pays: make it durable first.
	if err := f.Sync(); err != nil {
		return fsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
	}
	if d, err := os.Open(filepath.Clean(dir)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	rec := make([]byte, probeRecord)
	var hist histogram
	for i := range n {
		rec[0] = byte(i)
		t0 := time.Now()
		if _, err := f.Write(rec); err != nil {
			return fsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return fsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
		}
		hist.record(time.Since(t0))
	}
	s := hist.summary()
	return fsyncProbe{N: n, P50: s.P50, P99: s.P99, Mean: s.Mean}, nil
}

// probeSamples is how many write + fsync pairs a probe times: about a
// tenth of a second on this disk, enough for a stable median.
const probeSamples = 500

// probe measures the fsync probe in dir (a started server's directory, on
// the journal's file system; the bench's own directory when attached) and
// prints it.
func (b *bench) probe(dir, label string) (fsyncProbe, error) {
	if dir == "" {
		dir = b.dir
	}
	p, err := probeFsync(dir, probeSamples)
	if err != nil {
		return p, err
	}
	fmt.Fprintf(b.out, "fsync probe %s: write + fsync of %d bytes in the journal's directory, median of %d: %s (mean %s, p99 %s)\n",
		label, probeRecord, p.N, fmtDur(p.P50), fmtDur(p.Mean), fmtDur(p.P99))
	return p, nil
}
