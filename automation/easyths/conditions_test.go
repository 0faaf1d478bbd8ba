package easyths

import (
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/easyths/easythstest"
)

// The rest of the 15 operations, mapped both ways.
func TestOtherOperations(t *testing.T) {
	for _, v := range []easythstest.Version{easythstest.V2, easythstest.V17} {
		t.Run(string(v), func(t *testing.T) {
			f := open(t, easythstest.Options{Version: v, Holdings: map[string]int64{"000001": 1000}}, nil, nil)
			ctx := testCtx(t)
			m, err := f.term.PlaceOrder(ctx, automation.OrderRequest{Code: "000001", Side: automation.Sell, Kind: automation.Market, Quantity: 100, Strategy: 3})
			if err != nil || m.Side != automation.Sell || m.Kind != "市价" {
				t.Fatalf("market sell %+v %v", m, err)
			}
			c, err := f.term.PlaceConditionOrder(ctx, automation.ConditionRequest{Kind: automation.ConditionBuy, Code: "000001", TargetPrice: 12.0, Quantity: 100, ExpireDays: 30})
			if err != nil || c.Code != "000001" || c.Side != automation.Buy {
				t.Fatalf("condition buy %+v %v", c, err)
			}
			if _, err := f.term.PlaceConditionOrder(ctx, automation.ConditionRequest{Kind: automation.StopLossProfit, Code: "000001", LossPercent: 3, GainPercent: 5, Quantity: 100, ExpireDays: 30}); err != nil {
				t.Fatalf("stop loss/profit: %v", err)
			}
			cs, err := f.term.ConditionOrders(ctx)
			if err != nil || len(cs) != 2 || cs[0].Code != "000001" {
				t.Fatalf("condition orders %+v %v", cs, err)
			}
			del, err := f.term.CancelConditionOrders(ctx, automation.ConditionCancel{Code: "000001", Side: automation.Buy})
			if err != nil || len(del) != 1 {
				t.Fatalf("delete %+v %v", del, err)
			}
			loan, err := f.term.LendRepo(ctx, automation.RepoRequest{Market: "上海", Term: "1天期", Amount: 10000})
			if err != nil || loan.Amount != 10000 {
				t.Fatalf("repo %+v %v", loan, err)
			}
			hist, err := f.term.OrderHistory(ctx, automation.HistoryQuery{Since: time.Now().AddDate(0, 0, -7)})
			if err != nil || len(hist) == 0 {
				t.Fatalf("history %+v %v", hist, err)
			}
		})
	}
}

func TestTimeRange(t *testing.T) {
	now := time.Date(2026, 1, 10, 10, 0, 0, 0, chinaTime)
	for days, want := range map[int]string{0: "当日", 3: "近一周", 20: "近一月", 60: "近三月", 200: "近一年"} {
		since := time.Date(2026, 1, 10, 0, 0, 0, 0, chinaTime).AddDate(0, 0, -days)
		if got := timeRange(now, since); got != want {
			t.Errorf("%d days: %s, want %s", days, got, want)
		}
	}
}
