package sim

import (
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

func TestRepoRates(t *testing.T) {
	s := newSim(t, paper(nil), newClock("2026-01-05 10:00"), nil)
	rates, err := s.RepoRates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 10 {
		t.Fatalf("%d rates", len(rates))
	}
	if rates[0] != (automation.RepoRate{Market: "上海市场", Term: "1天期", Rate: "1.85%", Code: "204001"}) ||
		rates[9] != (automation.RepoRate{Market: "深圳市场", Term: "7天期", Rate: "1.74%", Code: "131801"}) {
		t.Errorf("rates = %+v", rates)
	}

	opts := paper(nil)
	opts.RepoRates = map[string]float64{"204001": 2.5, "131810": 2.455}
	s = newSim(t, opts, newClock("2026-01-05 10:00"), nil)
	rates, _ = s.RepoRates(ctx)
	if rates[0].Rate != "2.50%" || rates[5].Rate != "2.46%" || rates[1].Rate != "1.82%" {
		t.Errorf("configured rates = %+v", rates)
	}
}

func TestRepoLocksCashAndPaysInterest(t *testing.T) {
	tests := []struct {
		name     string
		lent     string
		market   string
		term     string
		amount   int64
		matures  string // 到期日期
		before   string // still locked
		paid     string
		interest float64
	}{
		// 10000 × 1.85% × 1 / 365 = 0.5068…
		{"monday GC001", "2026-01-05 10:00", "上海", "1天期", 10000, "20260106", "2026-01-05 23:59", "2026-01-06 00:00", 0.51},
		// Friday's one-day repo pays on Monday, three days later: 1.5205…
		{"friday GC001", "2026-01-09 10:00", "上海", "1天期", 10000, "20260112", "2026-01-11 23:59", "2026-01-12 00:00", 1.52},
		// 100000 × 1.76% × 7 / 365 = 33.7534…
		{"GC007", "2026-01-05 10:00", "上海市场", "7天期", 100000, "20260112", "2026-01-11 12:00", "2026-01-12 09:00", 33.75},
		// Wednesday + 3 is a Saturday: paid Monday, 5 days: 50000 × 1.78% × 5 / 365 = 12.1917…
		{"R-003 over a weekend", "2026-01-07 10:00", "深圳", "3天期", 50000, "20260112", "2026-01-10 10:00", "2026-01-12 10:00", 12.19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(tt.lent)
			s := newSim(t, paper(nil), clk, nil)
			loan, err := s.LendRepo(ctx, automation.RepoRequest{Market: tt.market, Term: tt.term, Amount: tt.amount})
			if err != nil {
				t.Fatal(err)
			}
			if loan.ContractNo != "1" || loan.Amount != tt.amount || loan.MaturesOn != tt.matures || loan.Term != tt.term {
				t.Errorf("loan = %+v", loan)
			}
			clk.Set(tt.before)
			locked := automation.Funds{Balance: 1000000, Frozen: float64(tt.amount), Available: float64(1000000 - tt.amount),
				Withdrawable: float64(1000000 - tt.amount), TotalAssets: 1000000}
			if f := mustFunds(t, s); f != locked {
				t.Errorf("%s: funds = %+v, want %+v", tt.before, f, locked)
			}
			clk.Set(tt.paid)
			balance := 1000000 + tt.interest
			paid := automation.Funds{Balance: balance, Available: balance, Withdrawable: balance, TotalAssets: balance}
			if f := mustFunds(t, s); f != paid {
				t.Errorf("%s: funds = %+v, want %+v", tt.paid, f, paid)
			}
		})
	}
}

func TestRepoChecks(t *testing.T) {
	opts := paper(map[string]float64{"600000": 10})
	opts.InitialCash = 20000
	tests := []struct {
		name string
		req  automation.RepoRequest
		want string
	}{
		{"not a multiple of 1000", automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 1500}, "1000元的整数倍"},
		{"below 1000", automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 0}, "至少1000元"},
		{"more than the cash", automation.RepoRequest{Market: "深圳", Term: "1天期", Amount: 21000}, "可用资金不足"},
		{"unknown market", automation.RepoRequest{Market: "北京", Term: "1天期", Amount: 1000}, "上海 或 深圳"},
		{"unknown term", automation.RepoRequest{Market: "上海", Term: "5天期", Amount: 1000}, "逆回购期限"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
			_, err := s.LendRepo(ctx, tt.req)
			wantCode(t, err, automation.CodeRejected)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v does not say %q", err, tt.want)
			}
		})
	}

	// Lent cash cannot buy shares.
	s := newSim(t, opts, newClock("2026-01-05 10:00"), nil)
	if _, err := s.LendRepo(ctx, automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 15000}); err != nil {
		t.Fatal(err)
	}
	_, err := s.PlaceOrder(ctx, limit("600000", automation.Buy, 10, 1000))
	wantCode(t, err, automation.CodeRejected)
	if !strings.Contains(err.Error(), "可用资金 5000.00") {
		t.Errorf("buy with lent cash: %v", err)
	}
}
