package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

func walking(seed int64) Options {
	o := DefaultOptions()
	o.Seed = seed
	o.Volatility = 0.03
	o.Quotes = map[string]float64{"600000": 10.00}
	return o
}

// pathOf samples code's price every 7 minutes for three calendar days.
func pathOf(t *testing.T, s *Terminal, clk *clock, code string) []float64 {
	t.Helper()
	var out []float64
	clk.Set("2026-01-05 09:00")
	for clk.Now().Before(at("2026-01-08 09:00")) {
		out = append(out, mustQuote(t, s, code))
		clk.Add(7 * time.Minute)
	}
	return out
}

func TestPriceProcessIsDeterministic(t *testing.T) {
	newAt := func(opts Options) (*Terminal, *clock) {
		clk := newClock("2026-01-05 09:00")
		return newSim(t, opts, clk, nil), clk
	}
	a, ca := newAt(walking(1))
	b, cb := newAt(walking(1))
	c, cc := newAt(walking(2))
	for _, code := range []string{"600000", "300750"} { // quoted, and derived from the code
		pa, pb, pc := pathOf(t, a, ca, code), pathOf(t, b, cb, code), pathOf(t, c, cc, code)
		same, moved := true, false
		for i := range pa {
			if pa[i] != pb[i] {
				t.Fatalf("%s: same seed, same clock, different prices at sample %d: %v vs %v", code, i, pa[i], pb[i])
			}
			same = same && pa[i] == pc[i]
			moved = moved || pa[i] != pa[0]
		}
		if same {
			t.Errorf("%s: seeds 1 and 2 gave the same path", code)
		}
		if !moved {
			t.Errorf("%s: the price never moved with volatility 0.03", code)
		}
	}
}

// The price at an instant does not depend on who asked before: a sim asked
// every minute and one asked once agree, across days.
func TestPriceDoesNotDependOnHistory(t *testing.T) {
	busyClock, idleClock := newClock("2026-01-05 09:00"), newClock("2026-01-05 09:00")
	busy, idle := newSim(t, walking(5), busyClock, nil), newSim(t, walking(5), idleClock, nil)
	for busyClock.Now().Before(at("2026-01-07 14:10")) {
		mustQuote(t, busy, "600000")
		mustFunds(t, busy) // actions advance the account too
		busyClock.Add(time.Minute)
	}
	idleClock.Set("2026-01-07 14:10")
	if b, i := mustQuote(t, busy, "600000"), mustQuote(t, idle, "600000"); b != i {
		t.Errorf("busy sim says %v, idle sim says %v", b, i)
	}
}

func TestPriceStaysOnTheTickAndInTheBand(t *testing.T) {
	opts := walking(9)
	opts.Volatility = 0.2 // wild: the band must hold it
	clk := newClock("2026-01-05 09:00")
	s := newSim(t, opts, clk, nil)
	in, _ := classify("600000")
	hitBand := false
	for clk.Now().Before(at("2026-01-10 00:00")) {
		s.mu.Lock()
		price, prev := s.priceAt(in, pointOf(clk.Now()))
		s.mu.Unlock()
		down, up := in.band(prev)
		if price < down || price > up || price%in.tick() != 0 {
			t.Fatalf("%s: price %d outside [%d, %d] or off the tick", clk.Now(), price, down, up)
		}
		hitBand = hitBand || price == down || price == up
		clk.Add(5 * time.Minute)
	}
	if !hitBand {
		t.Error("volatility 0.2 never reached a limit; the clamp is untested")
	}
}

func TestEachDayOpensAtThePreviousClose(t *testing.T) {
	clk := newClock("2026-01-05 09:00")
	s := newSim(t, walking(3), clk, nil)
	clk.Set("2026-01-09 15:00") // Friday's close
	friday := mustQuote(t, s, "600000")
	in, _ := classify("600000")
	for _, when := range []string{"2026-01-10 12:00", "2026-01-12 09:00", "2026-01-12 09:30"} {
		clk.Set(when)
		if p := mustQuote(t, s, "600000"); p != friday {
			t.Errorf("%s: price %v, want Friday's close %v", when, p, friday)
		}
	}
	s.mu.Lock()
	_, prev := s.priceAt(in, pointOf(at("2026-01-12 10:00")))
	s.mu.Unlock()
	if milliFloat(prev) != friday {
		t.Errorf("Monday's previous close = %d, want %v", prev, friday)
	}
}

func TestZeroVolatilityHoldsQuotes(t *testing.T) {
	clk := newClock("2026-01-05 09:00")
	s := newSim(t, paper(map[string]float64{"600000": 12.34}), clk, nil)
	in, _ := classify("300750")
	for _, when := range []string{"2026-01-05 10:00", "2026-01-06 14:00", "2026-02-20 11:00"} {
		clk.Set(when)
		if p := mustQuote(t, s, "600000"); p != 12.34 {
			t.Errorf("%s: quoted price moved to %v", when, p)
		}
		if p := mustQuote(t, s, "300750"); p != milliFloat(in.basePrice()) {
			t.Errorf("%s: unquoted price %v, want the base %v", when, p, milliFloat(in.basePrice()))
		}
	}
}

func TestSetQuote(t *testing.T) {
	clk := newClock("2026-01-05 10:00")
	s := newSim(t, paper(map[string]float64{"600000": 10.00}), clk, nil)
	in, _ := classify("600000")
	prevClose := func() int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, p := s.priceAt(in, pointOf(clk.Now()))
		return p
	}

	if err := s.SetQuote("600000", 10.80); err != nil {
		t.Fatal(err)
	}
	if p := mustQuote(t, s, "600000"); p != 10.80 || prevClose() != 10_000 {
		t.Errorf("inside the band: price %v, previous close %d", p, prevClose())
	}
	// Outside the band, the quote re-bases the previous close.
	if err := s.SetQuote("600000", 12.50); err != nil {
		t.Fatal(err)
	}
	if p := mustQuote(t, s, "600000"); p != 12.50 || prevClose() != 12_500 {
		t.Errorf("outside the band: price %v, previous close %d", p, prevClose())
	}
	if _, err := s.PlaceOrder(ctx, limit("600000", automation.Buy, 13.75, 100)); err != nil {
		t.Errorf("the band moved with the re-based close, 13.75 is limit-up: %v", err)
	}
	for _, bad := range []struct {
		code  string
		price float64
	}{{"600000", 10.001}, {"600000", -1}, {"60000", 1}, {"204001", 1}} {
		if err := s.SetQuote(bad.code, bad.price); err == nil {
			t.Errorf("SetQuote(%s, %v) accepted", bad.code, bad.price)
		}
	}
	if _, err := s.Quote("6000"); err == nil || !strings.Contains(err.Error(), "6位") {
		t.Errorf("Quote of a bad code: %v", err)
	}
	if q := s.Quotes(); len(q) != 1 || q["600000"] != 12.50 {
		t.Errorf("Quotes = %v", q)
	}
	// Quotes work while the terminal is disconnected: they are the market.
	if err := s.Inject(Fault{Kind: FaultDisconnect}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuote("600000", 12.60); err != nil {
		t.Errorf("SetQuote while disconnected: %v", err)
	}
}
