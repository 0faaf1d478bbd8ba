package sim

import (
	"context"
	"strconv"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// BenchmarkPlaceOrder measures a marketable limit buy with a client order
// id, in memory and with a ledger that keeps every save. The account is
// renewed every 1000 orders so that the ledger's size (it grows with the
// day's orders) stays in the range of a busy paper account.
func BenchmarkPlaceOrder(b *testing.B) {
	for _, bb := range []struct {
		name   string
		ledger func() Ledger
	}{
		{"memory", func() Ledger { return nil }},
		{"ledger", func() Ledger { return newMemLedger() }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			opts := paper(map[string]float64{"600000": 10.00})
			opts.InitialCash = 1e11
			clk := newClock("2026-01-05 10:00")
			var s *Terminal
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%1000 == 0 {
					b.StopTimer()
					var err error
					if s, err = New(context.Background(), "sim", opts, Deps{Now: clk.Now, Ledger: bb.ledger()}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				req := limit("600000", automation.Buy, 10.00, 100)
				req.ClientOrderID = strconv.Itoa(i)
				if _, err := s.PlaceOrder(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
