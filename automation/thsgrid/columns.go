package thsgrid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/brokerd/brokerd/automation"
)

// The column names each field is read from, the first found winning. They
// are the ones the 同花顺 (ths, universal_client), 银河 (yh), 华泰 (ht),
// 国金 (gj) and other grid clients show, and EasyTHS's.
var (
	colCode      = []string{"证券代码", "股票代码", "代码", "stock_code"}
	colName      = []string{"证券名称", "股票名称", "名称", "stock_name"}
	colMarket    = []string{"交易市场", "市场", "交易所", "市场名称", "交易所名称"}
	colContract  = []string{"合同编号", "委托编号", "委托序号", "合同号", "委托号", "订单编号", "contract_no", "entrust_no"}
	colSide      = []string{"买卖标志", "操作", "买卖方向", "委托方向", "买卖类别", "买卖", "委托类型"}
	colKind      = []string{"委托类别", "报价方式", "价格类型", "订单类型"}
	colPrice     = []string{"委托价格", "委托价", "申报价格"}
	colQuantity  = []string{"委托数量", "委托股数", "申报数量"}
	colFilled    = []string{"成交数量", "已成交数量", "成交股数"}
	colAvgPrice  = []string{"成交均价", "成交价格", "成交价"}
	colCancelled = []string{"撤单数量", "撤消数量", "已撤数量", "撤销数量"}
	colStatus    = []string{"状态说明", "委托状态", "状态", "备注"}
	colDate      = []string{"委托日期", "日期", "成交日期"}
	colTime      = []string{"委托时间", "申报时间", "时间", "下单时间"}

	colHolding     = []string{"股票余额", "股份余额", "当前持仓", "持仓数量", "证券数量", "股份数量", "实际数量", "持股数量", "库存数量", "参考持股", "证券余额"}
	colAvailable   = []string{"可用余额", "股份可用", "可卖数量", "可用数量", "可用股份", "可卖余额"}
	colFrozen      = []string{"冻结数量", "冻结股份", "冻结"}
	colCost        = []string{"成本价", "参考成本价", "成本价格", "买入成本", "摊薄成本价", "持仓成本", "参考买入价"}
	colLast        = []string{"市价", "参考市价", "当前价", "最新价", "市场价格", "现价", "最新价格"}
	colValue       = []string{"市值", "参考市值", "最新市值", "证券市值", "持仓市值"}
	colProfit      = []string{"浮动盈亏", "参考盈亏", "盈亏", "持仓盈亏", "参考浮动盈亏"}
	colProfitRatio = []string{"盈亏比例(%)", "盈亏比", "盈亏比例", "盈亏比(%)", "参考盈亏比例(%)", "盈亏比例（%）", "浮动盈亏比例(%)"}

	colBalance      = []string{"资金余额", "余额", "当前余额"}
	colFrozenCash   = []string{"冻结金额", "冻结资金"}
	colCashFree     = []string{"可用金额", "可用资金"}
	colWithdrawable = []string{"可取金额", "可取资金", "可取余额"}
	colStockValue   = []string{"股票市值", "参考市值", "证券市值", "总市值", "市值"}
	colTotal        = []string{"总资产", "资产总值", "总资金", "账户资产"}
	colPnL          = []string{"持仓盈亏", "参考盈亏", "浮动盈亏", "盈亏", "总盈亏"}
)

// Side reads a 买卖标志: 买入, 证券买入, 买, B, 1 … as Buy; 卖出, 卖,
// S, 2 … as Sell; "" when it is neither.
func Side(s string) automation.Side {
	switch {
	case strings.Contains(s, "买"), strings.EqualFold(s, "B"), strings.EqualFold(s, "buy"), s == "1", s == "0B":
		return automation.Buy
	case strings.Contains(s, "卖"), strings.EqualFold(s, "S"), strings.EqualFold(s, "sell"), s == "2", s == "0S":
		return automation.Sell
	}
	return ""
}

// Status maps a client's 状态说明 to one of the automation.Order*
// statuses. Pending cancels (已报待撤, 待撤) are still open orders.
func Status(raw string, filled, cancelled, quantity int64) string {
	switch {
	case strings.Contains(raw, "废"), strings.Contains(raw, "拒"), strings.Contains(raw, "失败"):
		return automation.OrderRejected
	case strings.Contains(raw, "部撤"), strings.Contains(raw, "部成部撤"):
		return automation.OrderPartCancelled
	case strings.Contains(raw, "待撤"), strings.Contains(raw, "正撤"):
		if filled > 0 {
			return automation.OrderPartFilled
		}
		return automation.OrderPending
	case strings.Contains(raw, "撤"):
		if filled > 0 {
			return automation.OrderPartCancelled
		}
		return automation.OrderCancelled
	case strings.Contains(raw, "已成"), strings.Contains(raw, "全部成交"), raw == "成交", strings.Contains(raw, "全成"):
		return automation.OrderFilled
	case strings.Contains(raw, "部成"), strings.Contains(raw, "部分成交"):
		return automation.OrderPartFilled
	case raw == "":
		// Some clients show no status column: tell it from the counts.
		switch {
		case cancelled > 0 && filled > 0:
			return automation.OrderPartCancelled
		case cancelled > 0:
			return automation.OrderCancelled
		case quantity > 0 && filled >= quantity:
			return automation.OrderFilled
		case filled > 0:
			return automation.OrderPartFilled
		}
	}
	return automation.OrderPending // 未成交, 已报, 未报, 待报, 正报, 已确认 …
}

// CancelPending reports whether a 状态说明 says a cancel was accepted and
// awaits the exchange (已报待撤).
func CancelPending(raw string) bool {
	return strings.Contains(raw, "待撤") || strings.Contains(raw, "正撤")
}

// Order reads one row of today's orders (当日委托, 可撤单). Columns with no
// field are kept in Extra; the 状态说明 the client showed, when the
// status was normalized from it, is kept there as 原状态说明.
func Order(r Row) (automation.Order, error) {
	rd := newReader(r)
	o := automation.Order{
		ContractNo: rd.str(colContract...),
		Code:       rd.code(colCode...),
		Name:       rd.str(colName...),
		Kind:       rd.str(colKind...),
		Price:      rd.num(colPrice...),
		Quantity:   rd.count(colQuantity...),
		Filled:     rd.count(colFilled...),
		AvgPrice:   rd.num(colAvgPrice...),
		Cancelled:  rd.count(colCancelled...),
		Date:       strings.ReplaceAll(rd.str(colDate...), "-", ""),
		Time:       clockTime(rd.str(colTime...)),
		Market:     rd.str(colMarket...),
	}
	side := rd.str(colSide...)
	o.Side = Side(side)
	raw := rd.str(colStatus...)
	o.Status = Status(raw, o.Filled, o.Cancelled, o.Quantity)
	if o.Kind == "" {
		o.Kind = "限价"
	}
	extra := r.leftover(rd.used)
	if raw != o.Status && raw != "" {
		extra["原状态说明"] = raw
	}
	if o.Side == "" && side != "" {
		extra["原买卖标志"] = side
	}
	o.Extra = automation.OrderExtra(extra)
	return o, rd.err
}

// clockTime writes 93105, 093105 and 09:31:05 as 09:31:05; anything else
// as given.
func clockTime(s string) string {
	if len(s) == 5 && isDigits(s) {
		s = "0" + s
	}
	if len(s) == 6 && isDigits(s) {
		return s[0:2] + ":" + s[2:4] + ":" + s[4:6]
	}
	return s
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Position reads one row of the holdings (持仓).
func Position(r Row) (automation.Position, error) {
	rd := newReader(r)
	p := automation.Position{
		Code:        rd.code(colCode...),
		Name:        rd.str(colName...),
		Quantity:    rd.count(colHolding...),
		Available:   rd.count(colAvailable...),
		Frozen:      rd.count(colFrozen...),
		CostPrice:   rd.num(colCost...),
		LastPrice:   rd.num(colLast...),
		MarketValue: rd.num(colValue...),
		ProfitLoss:  rd.num(colProfit...),
		ProfitRatio: rd.num(colProfitRatio...),
		Market:      rd.str(colMarket...),
	}
	p.Extra = automation.PositionExtra(r.leftover(rd.used))
	return p, rd.err
}

// Funds reads the cash account from a balance table (a dict, or a list of
// one dict). Columns with no field are returned apart: Funds has no room
// for them.
func Funds(rows []Row) (automation.Funds, map[string]any, error) {
	if len(rows) == 0 {
		return automation.Funds{}, nil, ErrNoTable
	}
	r := rows[0]
	rd := newReader(r)
	f := automation.Funds{
		Balance:      rd.num(colBalance...),
		Frozen:       rd.num(colFrozenCash...),
		Available:    rd.num(colCashFree...),
		Withdrawable: rd.num(colWithdrawable...),
		MarketValue:  rd.num(colStockValue...),
		TotalAssets:  rd.num(colTotal...),
		ProfitLoss:   rd.num(colPnL...),
	}
	if !rd.has(colBalance...) && !rd.has(colCashFree...) && !rd.has(colTotal...) {
		return f, nil, &fieldError{colTotal, errTooFewColumns}
	}
	return f, r.leftover(rd.used), rd.err
}

var errTooFewColumns = errors.New("the balance has none of 资金余额, 可用金额, 总资产")

// Orders reads every row of a table of orders.
func Orders(rows []Row) ([]automation.Order, error) {
	out := make([]automation.Order, 0, len(rows))
	for i, r := range rows {
		o, err := Order(r)
		if err != nil {
			return nil, rowError(i, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// Positions reads every row of a table of holdings.
func Positions(rows []Row) ([]automation.Position, error) {
	out := make([]automation.Position, 0, len(rows))
	for i, r := range rows {
		p, err := Position(r)
		if err != nil {
			return nil, rowError(i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func rowError(i int, err error) error { return fmt.Errorf("row %d: %w", i, err) }

// RawStatus is the 状态说明 a row shows, as the client wrote it.
func RawStatus(r Row) string {
	v, _ := r.take(map[string]bool{}, colStatus...)
	return text(v)
}

// SameContract reports whether two contract numbers are the same order:
// the grid writes "00000002" where an answer may say 2.
func SameContract(a, b string) bool {
	return a != "" && b != "" && TrimContract(a) == TrimContract(b)
}

// TrimContract is a contract number without its leading zeros.
func TrimContract(s string) string {
	t := strings.TrimLeft(strings.TrimSpace(s), "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}
