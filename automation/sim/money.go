package sim

import (
	"fmt"
	"math"
	"math/bits"
)

// Money is kept in integers so that sums are exact: cash in cents (分),
// prices in thousandths of a yuan (厘, "milli": a 2-decimal stock price is a
// multiple of 10, a 3-decimal fund price any integer), rates in units of
// 1e-8. A product is rounded once, half away from zero, to the cent, as a
// broker's statement rounds it.
const (
	milliPerYuan = 1000
	centsPerYuan = 100
	rateScale    = 100_000_000 // a rate of 0.00025 is 25_000 units

	maxQuantity = 1_000_000_000            // shares in one order or position
	maxPrice    = 1_000_000 * milliPerYuan // 1,000,000 yuan a share
	maxCash     = 1e12 * centsPerYuan      // 1e12 yuan
)

// mulDivRound returns a×b/d rounded half away from zero, for a, b ≥ 0 and
// d > 0, computed in 128 bits so that no intermediate product overflows.
// The callers' inputs are bounded (maxQuantity, maxPrice, rates < 1) so the
// result always fits; a result that would not is a broken invariant.
func mulDivRound(a, b, d int64) int64 { return mulDiv(a, b, d, d/2) }

// mulDivFloor returns ⌊a×b/d⌋ and mulDivCeil ⌈a×b/d⌉, for a, b ≥ 0, d > 0.
func mulDivFloor(a, b, d int64) int64 { return mulDiv(a, b, d, 0) }

func mulDivCeil(a, b, d int64) int64 { return mulDiv(a, b, d, d-1) }

// mulDiv is ⌊(a×b + bias)/d⌋ in 128 bits.
func mulDiv(a, b, d, bias int64) int64 {
	if a < 0 || b < 0 || d <= 0 {
		panic(fmt.Sprintf("sim: mulDiv(%d, %d, %d): negative operand", a, b, d))
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo, carry := bits.Add64(lo, uint64(bias), 0)
	hi += carry
	if hi >= uint64(d) {
		panic(fmt.Sprintf("sim: mulDiv(%d, %d, %d) overflows", a, b, d))
	}
	q, _ := bits.Div64(hi, lo, uint64(d))
	if q > math.MaxInt64 {
		panic(fmt.Sprintf("sim: mulDiv(%d, %d, %d) overflows", a, b, d))
	}
	return int64(q)
}

// amountCents is the value of qty units at price (milli), to the cent.
func amountCents(price, qty int64) int64 {
	return mulDivRound(price, qty, milliPerYuan/centsPerYuan)
}

// yuanToCents converts a configured amount, rejecting fractions of a cent.
func yuanToCents(y float64) (int64, error) {
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return 0, fmt.Errorf("%v is not a number", y)
	}
	c := math.Round(y * centsPerYuan)
	if math.Abs(y*centsPerYuan-c) > 1e-6 {
		return 0, fmt.Errorf("%v has more than 2 decimals", y)
	}
	if math.Abs(c) > maxCash {
		return 0, fmt.Errorf("%v is too large", y)
	}
	return int64(c), nil
}

// rateUnits converts a rate such as 0.00025 to units of 1e-8, rounding.
func rateUnits(r float64) int64 { return int64(math.Round(r * rateScale)) }

// yuan renders cents for a message a trader reads: 10005.10.
func yuan(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/centsPerYuan, cents%centsPerYuan)
}

func centsFloat(c int64) float64 { return float64(c) / centsPerYuan }

func milliFloat(m int64) float64 { return float64(m) / milliPerYuan }

// round2 rounds half away from zero to 2 decimals, for ratios shown as %.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// feeSchedule is what the broker and the exchanges charge per fill.
type feeSchedule struct {
	commissionRate int64 // units of 1e-8 of the amount, both sides
	minCommission  int64 // cents per fill
	stampDutyRate  int64 // units of 1e-8, sells of stocks only
	transferRate   int64 // units of 1e-8, stocks only, both sides
}

// fees is the cost of one fill, each part rounded to the cent.
type fees struct {
	Commission  int64 `json:"commission_cents"`
	StampDuty   int64 `json:"stamp_duty_cents"`
	TransferFee int64 `json:"transfer_fee_cents"`
}

func (f fees) total() int64 { return f.Commission + f.StampDuty + f.TransferFee }

// of prices a fill of amount cents. Funds, ETFs and bonds pay commission
// only: stamp duty and the transfer fee are charged on stocks.
func (s feeSchedule) of(in instrument, sell bool, amount int64) fees {
	f := fees{Commission: max(mulDivRound(amount, s.commissionRate, rateScale), s.minCommission)}
	if in.stock() {
		f.TransferFee = mulDivRound(amount, s.transferRate, rateScale)
		if sell {
			f.StampDuty = mulDivRound(amount, s.stampDutyRate, rateScale)
		}
	}
	return f
}
