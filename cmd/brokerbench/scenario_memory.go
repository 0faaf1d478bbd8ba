package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// memSample is the server's memory after some operations.
type memSample struct {
	elapsed time.Duration
	done    int64
	rss     int64
	heap    int64 // go_memstats_heap_inuse_bytes
}

// memory is scenario 4: -ops operations through one lane, with -clients
// clients each submitting with ?wait= (so the lane is never idle and the
// queue never overflows), sampling the server's RSS and Go heap every
// second. Finished operations stay in memory for result_ttl (-result-ttl in
// the generated config), so after a warm-up of twice that the memory must
// stop growing.
func (b *bench) memory(ctx context.Context) error {
	o := b.opts.opOr("funds_query").clientsOr(4)
	body, err := operationBody(o.op, "", o.code, o.price)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n== Scenario 4: %d operations (%s) through one lane, %d clients with ?wait=, result_ttl %s\n",
		o.ops, o.op, o.clients, o.ttl)
	if b.opts.url != "" {
		fmt.Fprintf(b.out, "attached: the server's own result_ttl applies, not -result-ttl\n")
	}
	t, err := b.startBrokerd(ctx, brokerdConfig{ResultTTL: o.ttl}, o.clients)
	if err != nil {
		return err
	}
	defer t.stop()

	var mu sync.Mutex
	var samples []memSample
	sample := func(elapsed time.Duration, done int64) {
		s := memSample{elapsed: elapsed, done: done}
		if u, err := t.usage(); err == nil {
			s.rss = u.RSS
		}
		mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if m, err := t.api.metrics(mctx); err == nil {
			s.heap = int64(m["go_memstats_heap_inuse_bytes"])
		}
		cancel()
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	lo := o
	lo.duration, lo.requests = 0, o.ops
	l := waitLoad("operations through one lane", t, lo, body)
	l.Progress, l.Sample = b.errw, sample
	before, procErr := t.usage()
	out := l.run(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	m := measured{outcome: out, Server: t.name, Backlog: -1}
	if after, err := t.usage(); err == nil && procErr == nil {
		m.CPU, m.RSS, m.HWM, m.procKnown = after.CPU-before.CPU, after.RSS, after.HWM, true
	}
	mu.Lock()
	defer mu.Unlock()
	printLoads(b.out, []measured{m})
	if out.Errors > 0 {
		fmt.Fprintf(b.out, "errors, such as: %v\n", out.ErrorSamples)
	}
	return b.printMemory(samples, 2*o.ttl+5*time.Second, out)
}

// printMemory prints the samples (a dozen of them) and how memory moved
// after the warm-up.
func (b *bench) printMemory(samples []memSample, warmup time.Duration, out outcome) error {
	if len(samples) == 0 {
		return fmt.Errorf("no memory samples: the run was shorter than a second")
	}
	tw := newTable(b.out)
	fmt.Fprintln(tw, "elapsed\toperations\tRSS\tGo heap in use\t")
	step := max(len(samples)/12, 1)
	for i, s := range samples {
		if i%step == 0 || i == len(samples)-1 {
			fmt.Fprintf(tw, "%.0fs\t%d\t%s\t%s\t\n", s.elapsed.Seconds(), s.done, fmtBytes(s.rss), fmtBytes(s.heap))
		}
	}
	tw.Flush()

	var after []memSample
	for _, s := range samples {
		if s.elapsed >= warmup {
			after = append(after, s)
		}
	}
	if len(after) < 3 {
		fmt.Fprintf(b.out, "too short to judge: the warm-up (2 × result_ttl + 5s = %s) leaves %d samples; run more -ops or a shorter -result-ttl\n", warmup, len(after))
		return nil
	}
	first, last := after[0], after[len(after)-1]
	maxRSS, maxHeap := first.rss, first.heap
	for _, s := range after {
		maxRSS, maxHeap = max(maxRSS, s.rss), max(maxHeap, s.heap)
	}
	ops := float64(last.done - first.done)
	fmt.Fprintf(b.out, "after the warm-up (%s, %d operations): RSS %s → %s (max %s), Go heap %s → %s (max %s)\n",
		warmup, first.done, fmtBytes(first.rss), fmtBytes(last.rss), fmtBytes(maxRSS), fmtBytes(first.heap), fmtBytes(last.heap), fmtBytes(maxHeap))
	fmt.Fprintf(b.out, "growth over the next %.0f operations: RSS %+.1f B/op (least squares), Go heap %+.1f B/op\n",
		ops, slope(after, func(s memSample) int64 { return s.rss }), slope(after, func(s memSample) int64 { return s.heap }))
	flat := float64(maxRSS) <= float64(first.rss)*1.10+float64(4<<20)
	fmt.Fprintf(b.out, "target RSS flat after warm-up (max within 10%% + 4 MiB of the warm-up's end): %s\n", verdict(flat))
	return nil
}

// slope is the least-squares slope of f(sample) over operations done.
func slope(ss []memSample, f func(memSample) int64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss {
		x, y := float64(s.done), float64(f(s))
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
