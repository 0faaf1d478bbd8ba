package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/store"
)

// restart is scenario 5: a journal of -journal operations (-queued of them
// still queued) is written once through the store package, the way brokerd
// writes it; then, -repeat times, a copy of it is opened by a fresh brokerd
// and the time from the exec to the first successful GET /api/v1/ping is
// measured (polled every millisecond).
func (b *bench) restart(ctx context.Context) error {
	if b.opts.url != "" {
		return errors.New("the restart scenario starts brokerd itself: it cannot use -url")
	}
	o := b.opts.opOr("buy")
	fmt.Fprintf(b.out, "\n== Scenario 5: restart with %d journaled operations (%d of them queued), %d repeats\n", o.journal, o.queued, o.repeat)
	dir, err := b.subdir("journal")
	if err != nil {
		return err
	}
	journal := filepath.Join(dir, "brokerd.db")
	began := time.Now()
	if err := fillJournal(ctx, journal, o); err != nil {
		return err
	}
	info, err := os.Stat(journal)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "journal written through store.Append/MarkRunning/Finish in %s: %s\n", time.Since(began).Round(time.Millisecond), fmtBytes(info.Size()))

	var ready, listening []time.Duration
	tw := newTable(b.out)
	fmt.Fprintln(tw, "repeat\tto \"listening\"\tto first /ping\tRSS once ready\t")
	for rep := 1; rep <= o.repeat; rep++ {
		r, l, rss, err := b.timeStart(ctx, journal)
		if err != nil {
			return err
		}
		ready, listening = append(ready, r), append(listening, l)
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t\n", rep, fmtDur(l), fmtDur(r), fmtBytes(rss))
	}
	tw.Flush()
	fmt.Fprintf(b.out, "median time from exec to the first successful /ping: %s — target < 2s: %s\n",
		fmtDur(median(ready)), verdict(median(ready) < 2*time.Second))
	return nil
}

// timeStart starts brokerd on a copy of journal and times it.
func (b *bench) timeStart(ctx context.Context, journal string) (ready, listening time.Duration, rss int64, err error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, 0, err
	}
	dir, err := b.subdir("restart")
	if err != nil {
		return 0, 0, 0, err
	}
	db := filepath.Join(dir, "brokerd.db")
	if err := copyFile(journal, db); err != nil {
		return 0, 0, 0, err
	}
	p, _, err := b.launchBrokerd(ctx, brokerdConfig{Port: port, Store: db})
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		if serr := p.stop(); err == nil {
			err = serr
		}
	}()
	a := newAPI(fmt.Sprintf("http://127.0.0.1:%d", port), 1)
	defer a.close()
	deadline := p.started.Add(time.Minute)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		perr := a.ping(pctx)
		cancel()
		if perr == nil {
			ready = time.Since(p.started)
			break
		}
		select {
		case <-p.exited:
			return 0, 0, 0, fmt.Errorf("brokerd exited during the start: %s", p.logTail())
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("no answer to /ping within a minute: %v", perr)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := p.waitListening(ctx, 10*time.Second); err != nil {
		return 0, 0, 0, err
	}
	listening = p.listenedAt().Sub(p.started)
	if u, err := readProc(p.pid()); err == nil {
		rss = u.RSS
	}
	return ready, listening, rss, nil
}

// fillJournal writes n operations, the first n-queued finished (success,
// with a buy's result) and the rest queued (submitted just now, so they
// resume at start), from 64 writers at once so that group commit batches
// them, as concurrent submits would be.
func fillJournal(ctx context.Context, path string, o options) error {
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return err
	}
	params, err := operationBody(o.op, "", o.code, o.price)
	if err != nil {
		return err
	}
	var body struct {
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(params, &body); err != nil {
		return err
	}
	now := time.Now()
	n, finished := o.journal, o.journal-o.queued
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := journalOne(ctx, st, i, i < finished, n, now, o, body.Params); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	err = errors.Join(<-errs, ctx.Err(), st.Close())
	return err
}

// journalOne writes operation i: submitted (n-i)×100ms before now when
// finished, just now when queued.
func journalOne(ctx context.Context, st *store.Store, i int, finish bool, n int, now time.Time, o options, params json.RawMessage) error {
	submitted := now.Add(-time.Duration(n-i) * 100 * time.Millisecond)
	if !finish {
		submitted = now.Add(-time.Duration(n-i) * time.Millisecond)
	}
	op := queue.Operation{
		ID: uuid.Must(uuid.NewV7()).String(), Name: o.op, Terminal: "sim", Params: params,
		Status: queue.StatusQueued, SubmittedAt: submitted, SideEffect: o.op == automation.OpBuy, Seq: uint64(i + 1),
	}
	if err := st.Append(ctx, op); err != nil || !finish {
		return err
	}
	op.StartedAt = submitted.Add(2 * time.Millisecond)
	if err := st.MarkRunning(ctx, op.ID, op.StartedAt); err != nil {
		return err
	}
	data, err := orderResult(o, i, submitted)
	if err != nil {
		return err
	}
	op.Status, op.Result, op.Message, op.FinishedAt = queue.StatusSuccess, data, "委托成功", op.StartedAt.Add(time.Millisecond)
	return st.Finish(ctx, op)
}

// orderResult is the result data a buy or sell of the bench gets (nil for
// other operations).
func orderResult(o options, i int, at time.Time) (json.RawMessage, error) {
	if o.op != automation.OpBuy && o.op != automation.OpSell {
		return nil, nil
	}
	side := automation.Buy
	if o.op == automation.OpSell {
		side = automation.Sell
	}
	contract := fmt.Sprint(1_000_000 + i)
	return json.Marshal(plugins.OrderResult{
		StockCode: o.code, Price: fmt.Sprintf("%.2f", o.price), Quantity: 100, Operation: o.op,
		Success: true, Message: "委托成功", ContractNo: contract,
		Order: automation.Order{ContractNo: contract, Code: o.code, Name: "浦发银行", Side: side, Kind: "限价",
			Price: o.price, Quantity: 100, Filled: 100, AvgPrice: o.price, Status: automation.OrderFilled,
			Date: at.Format("20060102"), Time: at.Format("15:04:05"), Market: "上海A股"},
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
