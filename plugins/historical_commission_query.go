package plugins

import (
	"context"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// HistoricalCommissionQueryResult is the data of
// historical_commission_query (EasyTHS's keys).
type HistoricalCommissionQueryResult struct {
	// HistoricalOrders is []automation.Order for json/dict, a table
	// (string) for str/markdown.
	HistoricalOrders any     `json:"historical_orders"`
	StockCode        *string `json:"stock_code"` // null: every stock
	TimeRange        string  `json:"time_range"`
	Since            string  `json:"since"` // the first day the range covers, 2026-01-02
	Count            int     `json:"count"`
	Timestamp        string  `json:"timestamp"`
	Success          bool    `json:"success"`
	Message          string  `json:"message"`
}

// The time ranges THS offers, in order.
var timeRanges = []any{"当日", "近一周", "近一月", "近三月", "近一年"}

// historical_commission_query lists past orders (历史委托) over a range.
func historicalCommissionQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpHistoricalCommissionQuery,
		Title:         "HistoricalCommissionQueryOperation",
		Description:   "查询股票历史委托订单信息",
		DescriptionEn: "list past orders over a time range",
		Params: []Param{
			returnTypeParam(),
			stockCodeParam(false, "股票代码(6位数字),不指定则查询所有股票", "stock code; omit it for every stock"),
			{
				Name: "time_range", Type: TypeString, Enum: timeRanges, Default: "当日",
				Description:   "时间范围:当日/近一周/近一月/近三月/近一年,默认当日",
				DescriptionEn: "time range: 当日 (today), 近一周 (last week), 近一月 (last month), 近三月 (last 3 months), 近一年 (last year); default 当日",
				Example:       "当日",
			},
		},
		Example: map[string]any{"return_type": "json", "stock_code": "600000", "time_range": "当日"},
	}, queryOrderHistory)
}

func queryOrderHistory(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	code, timeRange := c.Params.str("stock_code"), c.Params.str("time_range")
	since := rangeStart(timeRange, c.Now)
	orders, err := b.OrderHistory(ctx, automation.HistoryQuery{Code: code, Since: since})
	if err != nil {
		return Result{}, err
	}
	data := HistoricalCommissionQueryResult{
		HistoricalOrders: shapeRows(orders, c.Params.str("return_type")),
		StockCode:        optional(code),
		TimeRange:        timeRange,
		Since:            since.Format(time.DateOnly),
		Count:            len(orders),
		Timestamp:        timestamp(c.Now),
		Success:          true,
		Message:          fmt.Sprintf("历史委托查询成功,共获取到%d条数据", len(orders)),
	}
	return Result{Data: data, Message: data.Message}, nil
}

// rangeStart is the first instant a time range covers: midnight, China
// time, of today (当日), of the same day a week, one month, three months
// or a year ago. A month back from the 31st lands on the month's last day
// (31 March → 29 February), not past it as time.AddDate would.
func rangeStart(timeRange string, now time.Time) time.Time {
	now = now.In(chinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	switch timeRange {
	case "近一周":
		return today.AddDate(0, 0, -7)
	case "近一月":
		return monthsBefore(today, 1)
	case "近三月":
		return monthsBefore(today, 3)
	case "近一年":
		return monthsBefore(today, 12)
	}
	return today
}

func monthsBefore(day time.Time, n int) time.Time {
	first := time.Date(day.Year(), day.Month()-time.Month(n), 1, 0, 0, 0, 0, day.Location())
	lastDay := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(day.Day(), lastDay), 0, 0, 0, 0, day.Location())
}
