package sim

import (
	"context"
	"fmt"
)

// The sim's own controls, for tests, paper trading and an admin API: its
// market (quotes) and its faults. They are not terminal actions: no
// latency, no faults, and they work while the terminal is disconnected.

// Quote is code's current price on the sim's market. It is not a terminal
// action: no latency, no faults, and it works while disconnected.
func (t *Terminal) Quote(code string) (float64, error) {
	in, err := classifyTradable(code)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	price, _ := t.priceAt(in, pointOf(t.now()))
	return milliFloat(price), nil
}

// SetQuote moves code's price to price now; the price process goes on
// from there, and resting orders and condition orders the move reaches
// act at once. A price outside today's limit band around the previous
// close also becomes the previous close, as if the stock had been re-based
// (the sim trusts the caller about the market). Quotes are saved in the
// ledger. Like Quote, it is not a terminal action.
func (t *Terminal) SetQuote(code string, price float64) error {
	in, err := classifyTradable(code)
	if err != nil {
		return err
	}
	m, err := in.parsePrice(price)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.advance(now)
	p := pointOf(now)
	_, prevClose := t.priceAt(in, p)
	if down, up := in.band(prevClose); m < down || m > up {
		prevClose = m
	}
	t.st.Quotes[code] = anchor{At: p, Price: m, PrevClose: prevClose}
	t.changed = true
	t.matchOpen(p, now, code)
	t.watchAt(p, now, code)
	return t.commit(context.Background())
}

// Quotes lists the codes whose price was set (by config or SetQuote) with
// their current prices.
func (t *Terminal) Quotes() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := pointOf(t.now())
	out := make(map[string]float64, len(t.st.Quotes))
	for code := range t.st.Quotes {
		in, _ := classify(code)
		price, _ := t.priceAt(in, p)
		out[code] = milliFloat(price)
	}
	return out
}

// Inject adds a fault; a disconnect takes effect at once.
func (t *Terminal) Inject(f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sim fault: %w", err)
	}
	t.ctl.inject(f)
	return nil
}

// ClearFaults drops every pending fault. A disconnected terminal stays
// disconnected until Reconnect.
func (t *Terminal) ClearFaults() { t.ctl.clear() }

// Faults lists the pending faults, with the counts they have left.
func (t *Terminal) Faults() []Fault { return t.ctl.pending() }
