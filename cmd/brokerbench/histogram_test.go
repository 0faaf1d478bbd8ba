package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Consecutive buckets tile [0, maxValue] without gap or overlap, and
	// every value maps to the bucket whose range holds it.
	var next uint64
	for i := range bucketCount {
		lo, hi := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d is [%d, %d]", i, lo, hi)
		}
		for _, v := range []uint64{lo, hi, lo + (hi-lo)/2} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		next = hi + 1
	}
	if next-1 != uint64(maxValue) {
		t.Fatalf("last bucket ends at %d, want maxValue %d", next-1, maxValue)
	}
}

func TestPercentile(t *testing.T) {
	us := time.Microsecond
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
		within float64 // relative error allowed
	}{
		{name: "empty", values: nil, q: 0.5, want: 0},
		{name: "one value", values: []time.Duration{42}, q: 0.99, want: 42},
		{name: "exact small values p50", values: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, q: 0.5, want: 5},
		{name: "exact small values p90", values: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, q: 0.9, want: 9},
		{name: "exact small values p99 is the max", values: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, q: 0.99, want: 10},
		{name: "nearest rank rounds up", values: []time.Duration{10, 20, 30}, q: 0.5, want: 20},
		{name: "large value within its bucket", values: []time.Duration{1000 * us}, q: 0.5, want: 1000 * us},
		{name: "two large values", values: []time.Duration{250 * us, 3 * time.Millisecond}, q: 0.5, want: 250 * us, within: 1.0 / 128},
		{name: "max is exact", values: []time.Duration{250 * us, 3*time.Millisecond + 17}, q: 1, want: 3*time.Millisecond + 17},
		{name: "clamped beyond range", values: []time.Duration{time.Hour}, q: 0.5, want: maxValue},
		{name: "negative counts as zero", values: []time.Duration{-5}, q: 0.5, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			got := h.percentile(tt.q)
			if diff := float64(got-tt.want) / float64(max(tt.want, 1)); diff < 0 || diff > tt.within {
				t.Errorf("percentile(%v) = %v, want %v (+%.2f%%)", tt.q, got, tt.want, tt.within*100)
			}
		})
	}
}

// TestPercentileAgainstSortedSamples compares with the nearest-rank
// percentile of the kept samples, on spreads like real latencies.
func TestPercentileAgainstSortedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, spread := range []struct {
		name string
		draw func() time.Duration
	}{
		{"uniform 0-5ms", func() time.Duration { return time.Duration(r.Int64N(int64(5 * time.Millisecond))) }},
		{"exponential mean 300us", func() time.Duration { return time.Duration(r.ExpFloat64() * float64(300*time.Microsecond)) }},
		{"bimodal", func() time.Duration {
			if r.IntN(10) == 0 {
				return 40*time.Millisecond + time.Duration(r.Int64N(int64(time.Millisecond)))
			}
			return 200*time.Microsecond + time.Duration(r.Int64N(int64(50*time.Microsecond)))
		}},
	} {
		t.Run(spread.name, func(t *testing.T) {
			var h histogram
			samples := make([]time.Duration, 10_000)
			for i := range samples {
				samples[i] = spread.draw()
				h.record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(q*float64(len(samples))+0.999999) - 1
				want := samples[rank]
				got := h.percentile(q)
				if got < want || float64(got-want) > float64(want)/128 {
					t.Errorf("p%v = %v, sorted samples say %v", q*100, got, want)
				}
			}
			if h.max != samples[len(samples)-1] || h.min != samples[0] {
				t.Errorf("min, max = %v, %v; want %v, %v", h.min, h.max, samples[0], samples[len(samples)-1])
			}
		})
	}
}

func TestMerge(t *testing.T) {
	var a, b, all histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	if a.summary() != all.summary() || a.n != all.n || a.min != all.min {
		t.Errorf("merged %+v (n %d), want %+v (n %d)", a.summary(), a.n, all.summary(), all.n)
	}
}
