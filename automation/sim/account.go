package sim

import (
	"maps"
	"slices"

	"github.com/brokerd/brokerd/automation"
)

// frozenCash is the cash held by open buy orders and lent through repos
// not yet paid back.
func (t *Terminal) frozenCash() int64 {
	var f int64
	for _, o := range t.st.Orders {
		f += o.Frozen
	}
	for _, l := range t.st.Loans {
		if !l.Paid {
			f += l.Amount
		}
	}
	return f
}

// available is the cash free for a new order or loan.
func (t *Terminal) available() int64 { return t.st.Cash - t.frozenCash() }

// frozenShares is how many shares of code open sell orders hold.
func (t *Terminal) frozenShares(code string) int64 {
	var n int64
	for _, o := range t.st.Orders {
		if o.Side == automation.Sell && o.Code == code {
			n += o.Quantity - o.Filled
		}
	}
	return n
}

// sellable is how many shares of code can be sold on today.
func (t *Terminal) sellable(code string, today day) int64 {
	p := t.st.Positions[code]
	if p == nil {
		return 0
	}
	return p.Quantity - p.unsettled(today) - t.frozenShares(code)
}

// anchorFor is where code's price path starts.
func (t *Terminal) anchorFor(in instrument) anchor {
	if a, ok := t.st.Quotes[in.code]; ok {
		return a
	}
	base := in.basePrice()
	return anchor{At: point{Day: t.st.Genesis}, Price: base, PrevClose: base}
}

// priceAt is code's price at p and its previous close.
func (t *Terminal) priceAt(in instrument, p point) (price, prevClose int64) {
	return t.prices.at(in, t.anchorFor(in), p)
}

// positionsView values the holdings at the price of p, sorted by code.
func (t *Terminal) positionsView(p point, today day) []automation.Position {
	out := []automation.Position{}
	for _, code := range slices.Sorted(maps.Keys(t.st.Positions)) {
		pos := t.st.Positions[code]
		in, _ := classify(code)
		price, _ := t.priceAt(in, p)
		value := amountCents(price, pos.Quantity)
		pl := value - pos.Cost
		ratio := 0.0
		if pos.Cost > 0 {
			ratio = round2(float64(pl) * 100 / float64(pos.Cost))
		}
		out = append(out, automation.Position{
			Code:        code,
			Name:        in.name(),
			Quantity:    pos.Quantity,
			Available:   t.sellable(code, today),
			Frozen:      t.frozenShares(code),
			CostPrice:   milliFloat(mulDivRound(pos.Cost, milliPerYuan/centsPerYuan, pos.Quantity)),
			LastPrice:   milliFloat(price),
			MarketValue: centsFloat(value),
			ProfitLoss:  centsFloat(pl),
			ProfitRatio: ratio,
			Market:      in.market,
		})
	}
	return out
}

// fundsView is the cash account at the price of p. 可取金额 equals 可用金额:
// the sim does not hold back today's sale proceeds from withdrawal.
func (t *Terminal) fundsView(p point) automation.Funds {
	var value, pl int64
	for code, pos := range t.st.Positions {
		in, _ := classify(code)
		price, _ := t.priceAt(in, p)
		v := amountCents(price, pos.Quantity)
		value += v
		pl += v - pos.Cost
	}
	frozen := t.frozenCash()
	return automation.Funds{
		Balance:      centsFloat(t.st.Cash),
		Frozen:       centsFloat(frozen),
		Available:    centsFloat(t.st.Cash - frozen),
		Withdrawable: centsFloat(t.st.Cash - frozen),
		MarketValue:  centsFloat(value),
		TotalAssets:  centsFloat(t.st.Cash + value),
		ProfitLoss:   centsFloat(pl),
	}
}
