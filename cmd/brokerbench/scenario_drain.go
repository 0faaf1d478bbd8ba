package main

import (
	"context"
	"fmt"
	"time"
)

// drain is scenario 6: one lane's completion rate under a backlog, as an
// operator sees it after a pause. A burst of submits (-duration, 64
// clients by default, max_size raised so none is refused) builds a backlog
// while the lane runs; once the burst is over nothing more is submitted and
// the bench polls /metrics until the lane is empty. The rate is the
// operations the lane finished while draining divided by the time it took
// (brokerd_operations_finished_total), compared with the fsync probe of the
// same repeat: issue 13 asks for at least 0.8 of an operation per fsync.
func (b *bench) drain(ctx context.Context) error {
	o := b.opts.opOr("buy").clientsOr(64)
	body, err := operationBody(o.op, "", o.code, o.price)
	if err != nil {
		return err
	}
	if b.opts.url != "" {
		return fmt.Errorf("the drain scenario needs a brokerd of its own (its lane must be idle at start): drop -url")
	}
	fmt.Fprintf(b.out, "\n== Scenario 6: one lane draining a backlog of %s, a %s burst at %d clients then no submits, %d repeats\n",
		o.op, o.duration, o.clients, o.repeat)
	var rates, perFsync, fsyncs []float64
	for rep := 1; rep <= o.repeat; rep++ {
		p, err := b.probe("", fmt.Sprintf("#%d", rep))
		if err != nil {
			return err
		}
		t, err := b.startBrokerd(ctx, brokerdConfig{MaxSize: 10_000_000}, o.clients)
		if err != nil {
			return err
		}
		d, err := b.drainOnce(ctx, t, submitLoad(fmt.Sprintf("#%d burst", rep), t, o, body))
		if serr := t.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		rate := float64(d.drained) / d.took.Seconds()
		fmt.Fprintf(b.out, "#%d: burst %d submits in %s (%.0f/s), the lane finished %d meanwhile; backlog %d drained in %s: %.0f %s/s = %.2f per fsync (probe %s)\n",
			rep, d.burst.Done, fmtDur(d.burst.Elapsed), d.burst.Throughput(), d.duringBurst, d.drained, fmtDur(d.took), rate, o.op,
			rate*p.P50.Seconds(), fmtDur(p.P50))
		rates, perFsync, fsyncs = append(rates, rate), append(perFsync, rate*p.P50.Seconds()), append(fsyncs, p.P50.Seconds())
	}
	fmt.Fprintf(b.out, "median drain rate %.0f %s/s; fsync probe median %s (1/fsync = %.0f/s); median of the paired ratios %.2f per fsync (per repeat %s) — target ≥ 0.80: %s\n",
		median(rates), o.op, fmtDur(time.Duration(median(fsyncs)*float64(time.Second))), 1/median(fsyncs), median(perFsync), fmtRatios(perFsync),
		verdict(median(perFsync) >= 0.8))
	return nil
}

// drained is what one burst and its drain measured.
type drained struct {
	burst       outcome
	duringBurst int64         // operations the lane finished during the burst
	drained     int64         // operations finished after it, until the lane was empty
	took        time.Duration // from the end of the burst to the empty lane
}

// drainOnce applies the burst to t, then polls its /metrics every 50 ms
// until nothing is queued or running (each poll reads the process
// collector, which costs the server CPU: not more often).
func (b *bench) drainOnce(ctx context.Context, t *target, burst load) (drained, error) {
	finished := func() (float64, bool, error) {
		m, err := t.api.metrics(ctx)
		if err != nil {
			return 0, false, err
		}
		return m["brokerd_operations_finished_total"], m["brokerd_queue_depth"] == 0 && m["brokerd_operations_running"] == 0, nil
	}
	start, _, err := finished()
	if err != nil {
		return drained{}, err
	}
	burst.Progress = b.errw
	o := burst.run(ctx)
	if err := ctx.Err(); err != nil {
		return drained{}, err
	}
	if o.Errors > 0 {
		return drained{}, fmt.Errorf("%s: %d submits failed, such as: %v", burst.Name, o.Errors, o.ErrorSamples)
	}
	atEnd, _, err := finished()
	if err != nil {
		return drained{}, err
	}
	end := time.Now() // after the count it is paired with
	for {
		n, empty, err := finished()
		if err != nil {
			return drained{}, err
		}
		if empty {
			return drained{burst: o, duringBurst: int64(atEnd - start), drained: int64(n - atEnd), took: time.Since(end)}, nil
		}
		select {
		case <-ctx.Done():
			return drained{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// perSecond is 1/d in events a second; 0 for no duration.
func perSecond(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return 1 / d.Seconds()
}
