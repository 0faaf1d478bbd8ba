package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// repoProduct is one treasury reverse repo (国债逆回购) the sim lends
// through. Both exchanges take amounts in multiples of 1000 CNY.
type repoProduct struct {
	code        string
	name        string // GC001 / R-001 …
	market      string // 上海 / 深圳, as reverse_repo_buy names it
	term        string // 1天期 …
	days        int
	defaultRate float64 // percent a year
}

// repoProducts in the order reverse_repo_query lists them. The default
// rates are typical of a quiet market; configure repo_rates to follow it.
var repoProducts = []repoProduct{
	{"204001", "GC001", "上海", "1天期", 1, 1.85},
	{"204002", "GC002", "上海", "2天期", 2, 1.82},
	{"204003", "GC003", "上海", "3天期", 3, 1.80},
	{"204004", "GC004", "上海", "4天期", 4, 1.78},
	{"204007", "GC007", "上海", "7天期", 7, 1.76},
	{"131810", "R-001", "深圳", "1天期", 1, 1.83},
	{"131811", "R-002", "深圳", "2天期", 2, 1.80},
	{"131800", "R-003", "深圳", "3天期", 3, 1.78},
	{"131809", "R-004", "深圳", "4天期", 4, 1.76},
	{"131801", "R-007", "深圳", "7天期", 7, 1.74},
}

func repoProductByCode(code string) (repoProduct, bool) {
	for _, p := range repoProducts {
		if p.code == code {
			return p, true
		}
	}
	return repoProduct{}, false
}

func repoCodes() []string {
	codes := make([]string, len(repoProducts))
	for i, p := range repoProducts {
		codes[i] = p.code
	}
	return codes
}

func repoName(code string) string {
	if p, ok := repoProductByCode(code); ok {
		return p.name
	}
	return "逆回购"
}

// repoTable is the rate of each product in units of 1e-8 a year.
type repoTable map[string]int64

func newRepoTable(overrides map[string]float64) repoTable {
	t := make(repoTable, len(repoProducts))
	for _, p := range repoProducts {
		r, ok := overrides[p.code]
		if !ok {
			r = p.defaultRate
		}
		t[p.code] = rateUnits(r / 100)
	}
	return t
}

// ratePercent renders a rate as reverse_repo_query shows it: "1.85%",
// rounded half away from zero to a hundredth of a percent.
func ratePercent(units int64) string {
	bp := mulDivRound(units, 1, rateScale/10_000) // hundredths of a percent
	return fmt.Sprintf("%d.%02d%%", bp/100, bp%100)
}

// loan is a placed reverse repo. Its principal stays in the cash balance
// but is frozen until PayDay, when it is released with the interest.
type loan struct {
	ContractNo string    `json:"contract_no"`
	Code       string    `json:"code"`
	Amount     int64     `json:"amount_cents"`
	Rate       int64     `json:"rate"` // units of 1e-8 a year
	PlacedAt   time.Time `json:"placed_at"`
	// PayDay is the trade day plus the term in natural days, moved to the
	// next trading day when it is not one: the cash comes back then.
	PayDay   day   `json:"pay_day"`
	Interest int64 `json:"interest_cents,omitempty"` // set when paid
	Paid     bool  `json:"paid,omitempty"`
}

// interestDays is the number of natural days the cash is lent: from the
// trade day to the pay day. (The exchanges count from the first settlement
// day; the sim simplifies.)
func (l *loan) interestDays() int64 { return int64(l.PayDay - dayOf(l.PlacedAt)) }

// interest is amount × rate × days / 365, to the cent.
func (l *loan) interest() int64 {
	return mulDivRound(l.Amount, l.Rate*l.interestDays(), rateScale*365)
}

func (l *loan) view() automation.RepoLoan {
	p, _ := repoProductByCode(l.Code)
	return automation.RepoLoan{
		ContractNo: l.ContractNo,
		Code:       l.Code,
		Market:     p.market + "市场",
		Term:       p.term,
		Amount:     l.Amount / centsPerYuan,
		Rate:       float64(l.Rate) * 100 / rateScale,
		MaturesOn:  l.PayDay.compact(),
	}
}

// repoMarkets accepts the names reverse_repo_buy takes and the ones
// reverse_repo_query shows.
func repoProductFor(market, term string) (repoProduct, error) {
	switch market {
	case "上海市场":
		market = "上海"
	case "深圳市场":
		market = "深圳"
	}
	if market != "上海" && market != "深圳" {
		return repoProduct{}, fmt.Errorf("逆回购市场 %q 无效, 应为 上海 或 深圳", market)
	}
	for _, p := range repoProducts {
		if p.market == market && p.term == term {
			return p, nil
		}
	}
	return repoProduct{}, fmt.Errorf("逆回购期限 %q 无效, 应为 1天期/2天期/3天期/4天期/7天期", term)
}

// lendRepo places a reverse repo at now. The caller holds the lock.
func (t *Terminal) lendRepo(now time.Time, req automation.RepoRequest) (automation.RepoLoan, error) {
	p, err := repoProductFor(req.Market, req.Term)
	if err != nil {
		return automation.RepoLoan{}, automation.Rejected("%v", err)
	}
	if req.Amount < 1000 || req.Amount%1000 != 0 {
		return automation.RepoLoan{}, automation.Rejected("逆回购出借金额 %d 元无效: 至少1000元且为1000元的整数倍", req.Amount)
	}
	if req.Amount > maxCash/centsPerYuan {
		return automation.RepoLoan{}, automation.Rejected("逆回购出借金额 %d 元过大", req.Amount)
	}
	amount := req.Amount * centsPerYuan
	if avail := t.available(); amount > avail {
		return automation.RepoLoan{}, automation.Rejected("可用资金不足: 出借 %s 元, 可用 %s 元", yuan(amount), yuan(avail))
	}
	l := &loan{
		ContractNo: t.nextContractNo(),
		Code:       p.code,
		Amount:     amount,
		Rate:       t.repo[p.code],
		PlacedAt:   now,
		PayDay:     (dayOf(now) + day(p.days)).onOrAfterTrading(),
	}
	t.st.Loans = append(t.st.Loans, l)
	t.changed = true
	return l.view(), nil
}

// repoRates is the rate table as reverse_repo_query shows it.
func (t *Terminal) repoRates() []automation.RepoRate {
	rates := make([]automation.RepoRate, len(repoProducts))
	for i, p := range repoProducts {
		rates[i] = automation.RepoRate{
			Market: p.market + "市场",
			Term:   p.term,
			Rate:   ratePercent(t.repo[p.code]),
			Code:   p.code,
		}
	}
	return rates
}

// payLoans releases the loans due on or before d with their interest; the
// next save archives them.
func (t *Terminal) payLoans(d day) {
	t.st.Loans = slices.DeleteFunc(t.st.Loans, func(l *loan) bool {
		if l.PayDay > d {
			return false
		}
		l.Interest = l.interest()
		l.Paid = true
		t.st.Cash += l.Interest
		t.retired.loans = append(t.retired.loans, l)
		t.changed = true
		return true
	})
}
