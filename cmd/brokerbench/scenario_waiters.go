package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// waitersScenario is scenario 3 (and -mode waiters): the lane is paused,
// -waiters operations are submitted, and one client per operation blocks on
// GET /result. Once the server counts them all as waiting
// (brokerd_result_waiters), its CPU and memory are read over -idle seconds
// of nothing happening; then the lane is resumed and every client must get
// its operation's successful result. The bare-Gin baseline, whose /result
// blocks on a channel until resumed, runs the same steps: its memory per
// blocked client is net/http's and Gin's floor.
func (b *bench) waitersScenario(ctx context.Context) error {
	o := b.opts.opOr("funds_query")
	body, err := operationBody(o.op, "", o.code, o.price)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n== Scenario 3: %d clients blocked on GET /result (%s), %s idle, %d repeats\n", o.waiters, o.op, o.idle, o.repeat)

	// Each waiter holds a connection on both sides; the servers inherit
	// the bench's limit (and Go raises a process's soft limit to its hard
	// one at start anyway).
	need := uint64(o.waiters) + 256
	limit, err := raiseFileLimit(need)
	switch {
	case err != nil:
		return fmt.Errorf("raise the open file limit to %d: %w", need, err)
	case limit < need:
		return fmt.Errorf("the open file limit is %d, and %d waiters need %d: raise the hard limit (ulimit -Hn) or use fewer -waiters", limit, o.waiters, need)
	}
	fmt.Fprintf(b.out, "open file limit (RLIMIT_NOFILE, soft) of the bench and of the servers it starts: %d\n", limit)

	var rows []waitersResult
	var brokerdPeak, brokerdPer, ginPer []float64
	var idle []time.Duration
	allAnswered := true
	for rep := 1; rep <= o.repeat; rep++ {
		starts := []func() (*target, error){
			func() (*target, error) { return b.startBrokerd(ctx, brokerdConfig{MaxSize: o.waiters + 1000}, 64) },
			func() (*target, error) { return b.startBaseline(ctx, 64) },
		}
		for i, start := range starts {
			t, err := start()
			if err != nil {
				return err
			}
			r, err := b.waitersOn(ctx, t, o, body)
			if serr := t.stop(); err == nil {
				err = serr
			}
			if err != nil {
				return err
			}
			r.rep = rep
			rows = append(rows, r)
			allAnswered = allAnswered && r.answered == int64(o.waiters) && r.failed == 0
			if i == 0 {
				brokerdPeak = append(brokerdPeak, float64(r.blocked.HWM))
				brokerdPer = append(brokerdPer, r.perWaiter(o.waiters))
				idle = append(idle, r.idleCPU)
			} else {
				ginPer = append(ginPer, r.perWaiter(o.waiters))
			}
		}
	}
	b.printWaiters(rows, o)
	idleCores := median(idle).Seconds() / o.idle.Seconds()
	fmt.Fprintf(b.out, "median: brokerd peak RSS %s, %.1f KiB per blocked client (bare Gin %.1f KiB: %.2f×), idle CPU %s over %s (%.2f%% of a core)\n",
		fmtBytes(int64(median(brokerdPeak))), median(brokerdPer)/1024, median(ginPer)/1024, ratio(median(brokerdPer), median(ginPer)),
		fmtDur(median(idle)), o.idle, idleCores*100)
	// "About zero": under 1% of one core, which the 10 ms resolution of
	// the CPU times can see over the idle window.
	fmt.Fprintf(b.out, "target idle CPU ≈ 0: %s; RSS < 200 MB: %s; every waiter answered: %s\n",
		verdict(idleCores < 0.01), verdict(median(brokerdPeak) < 200e6), verdict(allAnswered))
	return nil
}

// waitersResult is what one run of the waiters steps measured.
type waitersResult struct {
	server, op             string
	rep                    int
	fresh, queued, blocked procUsage // after start, after the submits, with the clients blocked
	idleCPU, selfCPU       time.Duration
	selfKnown              bool
	heap, goroutines       float64 // brokerd's Go heap in use and goroutines, blocked
	answered, failed       int64
	failures               []string
	drain                  time.Duration // from the resume to the last answer
	toAnswer               latencies     // from the resume to each answer
}

// perWaiter is the RSS each blocked client added.
func (r waitersResult) perWaiter(n int) float64 {
	return float64(r.blocked.RSS-r.queued.RSS) / float64(n)
}

// waitersOn runs the waiters steps against t.
func (b *bench) waitersOn(ctx context.Context, t *target, o options, body []byte) (r waitersResult, err error) {
	n := o.waiters
	r.server, r.op = t.name, o.op
	r.fresh, _ = t.usage()
	if err := t.api.pause(ctx); err != nil {
		return r, err
	}
	resumed := false
	defer func() {
		if !resumed {
			t.api.resume(context.WithoutCancel(ctx)) //nolint:errcheck // best effort on the way out
		}
	}()
	ids := make([]string, n)
	var next atomic.Int64
	sub := load{Name: t.name + ": submit, lane paused", Clients: 64, Requests: int64(n), Progress: b.errw,
		Do: func(ctx context.Context, _ int) error {
			s, err := t.api.submit(ctx, o.op, body, 0)
			if err == nil {
				ids[next.Add(1)-1] = s.OperationID
			}
			return err
		}}
	if out := sub.run(ctx); out.Errors > 0 || out.Done != int64(n) {
		return r, fmt.Errorf("%s: %d of %d submits failed, such as: %v", t.name, out.Errors, n, out.ErrorSamples)
	}
	r.queued, _ = t.usage()

	// One client per waiter: a pool as large as the crowd.
	crowd := newAPI(t.api.base, n)
	defer crowd.close()
	var resumeAt atomic.Int64 // unix nanoseconds
	var mu sync.Mutex
	var toAnswer histogram
	var failures []string
	var failed atomic.Int64
	var wg sync.WaitGroup
	wctx, cancelWaiters := context.WithCancel(ctx)
	// Every client has returned when this returns, whatever happened.
	defer wg.Wait()
	defer cancelWaiters()
	fail := func(why string) { // with mu held
		failed.Add(1)
		if len(failures) < 5 {
			failures = append(failures, why)
		}
	}
	for _, id := range ids {
		wg.Go(func() {
			err := crowd.result(wctx, id)
			at := time.Now()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				fail(err.Error())
			case resumeAt.Load() == 0:
				fail("answered before the lane was resumed")
			default:
				toAnswer.record(at.Sub(time.Unix(0, resumeAt.Load())))
			}
		})
	}
	if err := b.awaitWaiters(ctx, t, n, &failed); err != nil {
		return r, err
	}

	selfBefore, _ := readProc(os.Getpid())
	before, err := t.usage()
	if err != nil {
		return r, fmt.Errorf("read the server's usage: %w", err)
	}
	select {
	case <-time.After(o.idle):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if r.blocked, err = t.usage(); err != nil {
		return r, fmt.Errorf("read the server's usage: %w", err)
	}
	r.idleCPU = r.blocked.CPU - before.CPU
	if selfAfter, err := readProc(os.Getpid()); err == nil {
		r.selfCPU, r.selfKnown = selfAfter.CPU-selfBefore.CPU, true
	}
	if m, err := t.api.metrics(ctx); err == nil {
		r.heap, r.goroutines = m["go_memstats_heap_inuse_bytes"], m["go_goroutines"]
	}

	resumeAt.Store(time.Now().UnixNano())
	if err := t.api.resume(ctx); err != nil {
		return r, err
	}
	resumed = true
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(10 * time.Minute):
		cancelWaiters()
		<-answered
		return r, errors.New("the waiters were not all answered within 10 minutes of the resume")
	case <-ctx.Done():
		return r, ctx.Err()
	}
	r.drain = time.Since(time.Unix(0, resumeAt.Load()))
	mu.Lock()
	defer mu.Unlock()
	r.answered, r.failed, r.toAnswer, r.failures = int64(toAnswer.n), failed.Load(), toAnswer.summary(), failures
	if r.failed > 0 {
		fmt.Fprintf(b.errw, "  %s: %d clients failed, such as: %v\n", t.name, r.failed, r.failures)
	}
	return r, nil
}

func (b *bench) printWaiters(rows []waitersResult, o options) {
	tw := newTable(b.out)
	fmt.Fprintln(tw, "run\tRSS fresh\tRSS queued\tRSS blocked\tpeak RSS\tper client\tGo heap\tgoroutines\tidle CPU\tbench CPU\tanswered\tall answered in\tp50 after resume\t")
	for _, r := range rows {
		heap, goroutines, self := "-", "-", "-"
		if r.heap > 0 {
			heap, goroutines = fmtBytes(int64(r.heap)), fmt.Sprint(r.goroutines)
		}
		if r.selfKnown {
			self = fmtDur(r.selfCPU)
		}
		fmt.Fprintf(tw, "#%d %s\t%s\t%s\t%s\t%s\t%.1f KiB\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t\n", r.rep, r.server,
			fmtBytes(r.fresh.RSS), fmtBytes(r.queued.RSS), fmtBytes(r.blocked.RSS), fmtBytes(r.blocked.HWM),
			r.perWaiter(o.waiters)/1024, heap, goroutines, fmtDur(r.idleCPU), self, r.answered, o.waiters, fmtDur(r.drain), fmtDur(r.toAnswer.P50))
	}
	tw.Flush()
}

// awaitWaiters polls brokerd_result_waiters until n clients are blocked.
func (b *bench) awaitWaiters(ctx context.Context, t *target, n int, failed *atomic.Int64) error {
	deadline := time.Now().Add(3 * time.Minute)
	start := time.Now()
	for {
		m, err := t.api.metrics(ctx)
		if err != nil {
			return err
		}
		w := int(m["brokerd_result_waiters"])
		fmt.Fprintf(b.errw, "  %-28s %6.1fs  %9d blocked\n", t.name+": clients blocking", time.Since(start).Seconds(), w)
		switch {
		case w >= n:
			return nil
		case failed.Load() > 0:
			return fmt.Errorf("%s: %d clients failed before blocking", t.name, failed.Load())
		case time.Now().After(deadline):
			return fmt.Errorf("%s: only %d of %d clients blocked after 3 minutes", t.name, w, n)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
