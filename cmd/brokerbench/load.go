package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// load is a closed loop: Clients workers, each sending its next request as
// soon as its last one is answered, until Duration has passed or Requests
// have been sent (whichever comes first; at least one must be set).
type load struct {
	Name     string
	Clients  int
	Duration time.Duration
	Requests int64
	// Do sends one request (or one round trip) for a worker; its latency
	// is the time Do takes. An error counts the request as failed.
	Do func(ctx context.Context, worker int) error
	// Progress gets a line a second while the load runs; nil: none.
	Progress io.Writer
	// Sample, when set, is called with each progress tick (for RSS).
	Sample func(elapsed time.Duration, done int64)
}

// outcome is what a load measured.
type outcome struct {
	Name    string
	Clients int
	Done    int64 // requests answered successfully
	Errors  int64
	Elapsed time.Duration
	Latency latencies
	Samples uint64 // latencies recorded: one per successful request
	// ErrorSamples are the first distinct error texts, at most 5.
	ErrorSamples []string
}

// Throughput is successful requests per second.
func (o outcome) Throughput() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(o.Done) / o.Elapsed.Seconds()
}

// run applies the load. When the duration is over, no new request starts
// and the ones in flight finish and count: nothing is cut short but by ctx.
func (l load) run(ctx context.Context) outcome {
	if l.Clients < 1 {
		l.Clients = 1
	}
	var (
		issued, done, failed atomic.Int64
		stop                 atomic.Bool
		mu                   sync.Mutex
		hist                 histogram
		samples              []string
	)
	noteError := func(err error) {
		failed.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(samples) >= 5 {
			return
		}
		for _, s := range samples {
			if s == err.Error() {
				return
			}
		}
		samples = append(samples, err.Error())
	}

	start := time.Now()
	if l.Duration > 0 {
		t := time.AfterFunc(l.Duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() { l.report(start, &done, &failed, progressDone) })

	var workers sync.WaitGroup
	for w := range l.Clients {
		workers.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				if l.Requests > 0 && issued.Add(1) > l.Requests {
					return
				}
				t0 := time.Now()
				err := l.Do(ctx, w)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() == nil {
						noteError(err)
					}
					continue
				}
				done.Add(1)
				mu.Lock()
				hist.record(d)
				mu.Unlock()
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(start)
	close(progressDone)
	progress.Wait()
	return outcome{
		Name: l.Name, Clients: l.Clients, Done: done.Load(), Errors: failed.Load(),
		Elapsed: elapsed, Latency: hist.summary(), Samples: hist.n, ErrorSamples: samples,
	}
}

// report writes a progress line a second until finished is closed.
func (l load) report(start time.Time, done, failed *atomic.Int64, finished <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := start
	for {
		select {
		case <-finished:
			return
		case now := <-tick.C:
			n := done.Load()
			elapsed := now.Sub(start)
			if l.Progress != nil {
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(l.Progress, "  %-28s %6.1fs  %9d done  %8.0f/s  %d errors\n", l.Name, elapsed.Seconds(), n, rate, failed.Load())
			}
			if l.Sample != nil {
				l.Sample(elapsed, n)
			}
			last, lastAt = n, now
		}
	}
}
