package sim

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// BenchmarkPlaceOrderToday measures a marketable buy with a client order
// id, through the real store, on an account that already placed placed
// orders today. What a buy writes must not grow with the day's activity:
// written-bytes/op counts the snapshot and the archive records each buy
// stores. Run it with a fixed count, so that the day grows little while it
// runs:
//
//	go test -run '^$' -bench PlaceOrderToday -benchtime=300x ./automation/sim
func BenchmarkPlaceOrderToday(b *testing.B) {
	for _, placed := range []int{0, 3_000} {
		b.Run(fmt.Sprintf("today=%d", placed), func(b *testing.B) {
			ledger := &countingLedger{Ledger: openStore(b)}
			clk := newClock("2026-01-05 10:00")
			opts := paper(map[string]float64{"600000": 10.00})
			opts.InitialCash = 1e11
			s, err := New(context.Background(), "sim", opts, Deps{Now: clk.Now, Ledger: ledger})
			if err != nil {
				b.Fatal(err)
			}
			place := func(id string) {
				req := limit("600000", automation.Buy, 10.00, 100)
				req.ClientOrderID = id
				if _, err := s.PlaceOrder(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			for i := range placed {
				place("before-" + strconv.Itoa(i))
				clk.Add(time.Millisecond)
			}
			ledger.written.Store(0)
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				place("bench-" + strconv.Itoa(i))
				n++
			}
			b.ReportMetric(float64(ledger.written.Load())/float64(n), "written-bytes/op")
		})
	}
}

// countingLedger counts the bytes of the snapshots and archive records
// saved through it.
type countingLedger struct {
	Ledger
	written atomic.Int64
}

func (l *countingLedger) SaveLedger(ctx context.Context, terminal string, state []byte) error {
	l.written.Add(int64(len(state)))
	return l.Ledger.SaveLedger(ctx, terminal, state)
}

func (l *countingLedger) ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error {
	n := len(state)
	for _, r := range records {
		n += len(r.Body)
	}
	l.written.Add(int64(n))
	return l.Ledger.ArchiveLedger(ctx, terminal, records, state)
}
