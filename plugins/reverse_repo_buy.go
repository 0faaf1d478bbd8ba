package plugins

import (
	"context"
	"fmt"
	"strconv"

	"github.com/brokerd/brokerd/automation"
)

// ReverseRepoBuyResult is the data of reverse_repo_buy: the seed's shape
// (market, time_range, amount, success, message) plus the contract number
// and the loan as the broker recorded it.
type ReverseRepoBuyResult struct {
	Market     string              `json:"market"`
	TimeRange  string              `json:"time_range"`
	Amount     int64               `json:"amount"`
	Success    bool                `json:"success"`
	Message    string              `json:"message"`
	ContractNo string              `json:"contract_no"`
	Loan       automation.RepoLoan `json:"loan"`
}

// reverse_repo_buy lends cash through a treasury reverse repo (国债逆回购).
func reverseRepoBuyPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpReverseRepoBuy,
		Title:         "ReverseRepoBuyOperation",
		Description:   "国债逆回购购买",
		DescriptionEn: "lend cash through a treasury reverse repo",
		SideEffect:    true,
		Params: []Param{
			{
				Name: "market", Type: TypeString, Required: true, Enum: []any{"上海", "深圳"},
				Description:   "交易市场:上海/深圳",
				DescriptionEn: "market: 上海 (Shanghai, GC001…) or 深圳 (Shenzhen, R-001…)",
				Example:       "上海",
			},
			{
				Name: "time_range", Type: TypeString, Required: true, Enum: []any{"1天期", "2天期", "3天期", "4天期", "7天期"},
				Description:   "回购期限:1天期/2天期/3天期/4天期/7天期",
				DescriptionEn: "term: 1天期, 2天期, 3天期, 4天期 or 7天期 (1, 2, 3, 4 or 7 days)",
				Example:       "1天期",
			},
			{
				Name: "amount", Type: TypeInteger, Required: true, Minimum: bound(1000), MultipleOf: 1000,
				Description:   "出借金额(元),至少1000且必须是1000的倍数",
				DescriptionEn: "amount to lend in CNY: at least 1000 and a multiple of 1000",
				Example:       10000,
			},
		},
		Example: map[string]any{"market": "上海", "time_range": "1天期", "amount": 10000},
	}, lendRepo)
}

func lendRepo(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	market, term, amount := c.Params.str("market"), c.Params.str("time_range"), c.Params.int("amount")
	loan, err := b.LendRepo(ctx, automation.RepoRequest{Market: market, Term: term, Amount: amount})
	if err != nil {
		return Result{}, err
	}
	data := ReverseRepoBuyResult{
		Market: market, TimeRange: term, Amount: amount, Success: true,
		Message:    fmt.Sprintf("国债逆回购操作成功, 成功出借:%d 元, 年化利率为:%s", amount, formatRate(loan.Rate)),
		ContractNo: loan.ContractNo, Loan: loan,
	}
	return Result{Data: data, Message: data.Message}, nil
}

// formatRate writes a percentage with 2 decimals, or 3 when the rate has
// them (GC001 often trades at 1.855%): "2.50%".
func formatRate(percent float64) string {
	decimals := min(max(decimalsOf(percent), 2), 3)
	return strconv.FormatFloat(percent, 'f', decimals, 64) + "%"
}
