package main

import (
	"math/bits"
	"time"
)

// histogram records latencies in constant memory (about 35 KB), HDR style:
// values below 256 ns are exact; above, each power of two is split into 128
// buckets, so a percentile is within 1/128 (0.8%) of the recorded value.
// Values beyond maxValue (18 minutes) are clamped to it. It is not safe for
// concurrent use; the load generator guards it.
type histogram struct {
	counts   [bucketCount]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

const (
	exactBits   = 8                    // values below 1<<exactBits are their own bucket
	halfBuckets = 1 << (exactBits - 1) // buckets per power of two above that
	maxShift    = 32                   // largest shift: values up to 1<<(exactBits+maxShift) ns
	bucketCount = 1<<exactBits + maxShift*halfBuckets
	maxValue    = time.Duration(1)<<(exactBits+maxShift) - 1
)

// bucketOf is the index of the bucket holding v (0 ≤ v ≤ maxValue).
func bucketOf(v uint64) int {
	if v < 1<<exactBits {
		return int(v)
	}
	shift := bits.Len64(v) - exactBits // ≥ 1: v>>shift is in [128, 256)
	return 1<<exactBits + (shift-1)*halfBuckets + int(v>>shift) - halfBuckets
}

// bucketRange is the smallest and largest value bucket i holds.
func bucketRange(i int) (lo, hi uint64) {
	if i < 1<<exactBits {
		return uint64(i), uint64(i)
	}
	i -= 1 << exactBits
	shift := i/halfBuckets + 1
	lo = uint64(i%halfBuckets+halfBuckets) << shift
	return lo, lo + 1<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	d = min(max(d, 0), maxValue)
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
	h.sum += d
}

// merge adds o's records to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// percentile is the nearest-rank q-quantile (0 < q ≤ 1): the smallest
// recorded value such that at least q of the records are at or below it,
// to within its bucket. It answers the bucket's upper end (never under the
// true value), clamped to the exact maximum and minimum; 0 with no records.
func (h *histogram) percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++ // ceil
	}
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return min(max(time.Duration(hi), h.min), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// latencies is the summary a report prints.
type latencies struct {
	P50, P90, P99, Max, Mean time.Duration
}

func (h *histogram) summary() latencies {
	return latencies{P50: h.percentile(0.50), P90: h.percentile(0.90), P99: h.percentile(0.99), Max: h.max, Mean: h.mean()}
}
