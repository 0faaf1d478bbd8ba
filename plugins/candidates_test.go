package plugins

import (
	"fmt"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// candidatesErr is a driver's outcome_unknown naming the orders it may be.
type candidatesErr struct{ orders []automation.ExchangeOrder }

func (e candidatesErr) Error() string                          { return "lost" }
func (e candidatesErr) Candidates() []automation.ExchangeOrder { return e.orders }

func TestUnsettledOrderCarriesCandidates(t *testing.T) {
	cands := []automation.ExchangeOrder{{OrderID: "1"}, {OrderID: "2"}}
	u := newUnsettledOrder("cid", "BTC/USDT", fmt.Errorf("wrapped: %w", candidatesErr{cands}))
	if u.ClientOrderID != "cid" || u.Symbol != "BTC/USDT" || len(u.Candidates) != 2 || u.Candidates[1].OrderID != "2" {
		t.Fatalf("%+v", u)
	}
	if u := newUnsettledOrder("cid", "X", fmt.Errorf("plain")); u.Candidates != nil {
		t.Fatalf("candidates from nowhere: %+v", u)
	}
}
