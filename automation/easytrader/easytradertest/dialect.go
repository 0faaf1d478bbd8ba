package easytradertest

import (
	"fmt"
	"strconv"
)

// Dialect is the column layout of one broker's client, as easytrader
// hands its grids over. They differ in names, in the shape of /balance
// and in how numbers and codes are written.
type Dialect string

const (
	// THS is the 同花顺 family (universal_client, ths): /balance a dict,
	// 股票余额/可用余额/成本价/盈亏比例(%), the status in 备注.
	THS Dialect = "ths"
	// YH is 银河 (yh_client): /balance a list of one row with 可用资金 and
	// 参考市值, 股份余额/股份可用/参考成本价, numbers as strings.
	YH Dialect = "yh"
	// HT is 华泰 (ht_client): codes and contract numbers as numbers (their
	// leading zeros lost), 委托时间 as 93105, 盈亏比.
	HT Dialect = "ht"
	// GJ is 国金 (gj_client): /balance a list, 当前持仓/股份可用/参考成本价,
	// contract numbers zero-padded ("00000002"), 委托日期.
	GJ Dialect = "gj"
)

// Dialects lists them all, for table-driven tests.
var Dialects = []Dialect{THS, YH, HT, GJ}

func (d Dialect) num(v float64, decimals int) any {
	if d == YH {
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	return pyFloat(v)
}

func (d Dialect) code(c string) any {
	if d == HT {
		n, err := strconv.Atoi(c)
		if err == nil {
			return n
		}
	}
	return c
}

func (d Dialect) contract(n int) any {
	switch d {
	case HT:
		return n
	case GJ:
		return fmt.Sprintf("%08d", n)
	}
	return strconv.Itoa(n)
}

func (d Dialect) balance(b balance) any {
	switch d {
	case YH:
		return []any{map[string]any{
			"资金余额": d.num(b.cash, 2), "可用资金": d.num(b.available, 2), "可取资金": d.num(b.available, 2),
			"参考市值": d.num(b.value, 2), "总资产": d.num(b.cash+b.value, 2), "币种": "0",
		}}
	case GJ:
		return []any{map[string]any{
			"资金余额": pyFloat(b.cash), "可用金额": pyFloat(b.available), "可取金额": pyFloat(b.available),
			"股票市值": pyFloat(b.value), "总资产": pyFloat(round2(b.cash + b.value)), "冻结金额": pyFloat(round2(b.cash - b.available)),
		}}
	}
	return map[string]any{
		"资金余额": pyFloat(b.cash), "可用金额": pyFloat(b.available), "可取金额": pyFloat(b.available),
		"股票市值": pyFloat(b.value), "总资产": pyFloat(round2(b.cash + b.value)),
	}
}

func (d Dialect) position(p holdingView) map[string]any {
	switch d {
	case YH:
		return map[string]any{
			"证券代码": p.code, "证券名称": p.name, "股份余额": strconv.FormatInt(p.quantity, 10),
			"股份可用": strconv.FormatInt(p.available, 10), "参考成本价": d.num(p.cost, 3), "参考市价": d.num(p.last, 3),
			"参考市值": d.num(p.value, 2), "参考盈亏": d.num(p.pnl, 2), "盈亏比例(%)": d.num(p.ratio, 2),
			"交易市场": p.market, "股东代码": "A123456789",
		}
	case HT:
		return map[string]any{
			"证券代码": d.code(p.code), "证券名称": p.name, "股份余额": p.quantity, "可用余额": p.available,
			"成本价": pyFloat(p.cost), "当前价": pyFloat(p.last), "最新市值": pyFloat(p.value),
			"浮动盈亏": pyFloat(p.pnl), "盈亏比": pyFloat(p.ratio), "交易市场": p.market,
		}
	case GJ:
		return map[string]any{
			"证券代码": p.code, "证券名称": p.name, "当前持仓": p.quantity, "股份可用": p.available,
			"参考成本价": pyFloat(p.cost), "市价": pyFloat(p.last), "市值": pyFloat(p.value),
			"参考盈亏": pyFloat(p.pnl), "盈亏比例(%)": pyFloat(p.ratio), "股东代码": "A123456789",
		}
	}
	return map[string]any{
		"证券代码": p.code, "证券名称": p.name, "股票余额": p.quantity, "可用余额": p.available,
		"冻结数量": p.quantity - p.available, "成本价": pyFloat(p.cost), "市价": pyFloat(p.last),
		"市值": pyFloat(p.value), "盈亏": pyFloat(p.pnl), "盈亏比例(%)": pyFloat(p.ratio),
		"交易市场": p.market, "股东帐户": "A123456789",
	}
}

func (d Dialect) entrust(e *entrust) map[string]any {
	side := "买入"
	if e.sell {
		side = "卖出"
	}
	switch d {
	case YH:
		return map[string]any{
			"委托时间": e.at.Format("15:04:05"), "证券代码": e.code, "证券名称": e.name, "买卖标志": side,
			"委托价格": d.num(e.price, 3), "委托数量": strconv.FormatInt(e.quantity, 10),
			"成交数量": strconv.FormatInt(e.filled, 10), "撤单数量": strconv.FormatInt(e.cancelled, 10),
			"状态说明": e.status, "合同编号": d.contract(e.no), "交易市场": e.market,
		}
	case HT:
		t, _ := strconv.Atoi(e.at.Format("150405"))
		return map[string]any{
			"委托时间": t, "证券代码": d.code(e.code), "证券名称": e.name, "买卖标志": side,
			"委托价格": pyFloat(e.price), "委托数量": e.quantity, "成交数量": e.filled, "成交均价": pyFloat(e.avg),
			"撤单数量": e.cancelled, "状态说明": e.status, "合同编号": d.contract(e.no),
		}
	case GJ:
		return map[string]any{
			"委托日期": e.at.Format("20060102"), "委托时间": e.at.Format("15:04:05"), "证券代码": e.code,
			"证券名称": e.name, "操作": "证券" + side, "委托价格": pyFloat(e.price), "委托数量": e.quantity,
			"成交数量": e.filled, "撤单数量": e.cancelled, "状态说明": e.status, "合同编号": d.contract(e.no),
			"申报编号": fmt.Sprintf("S%06d", e.no),
		}
	}
	return map[string]any{
		"委托时间": e.at.Format("15:04:05"), "证券代码": e.code, "证券名称": e.name, "操作": side,
		"委托价格": pyFloat(e.price), "委托数量": e.quantity, "成交数量": e.filled, "成交均价": pyFloat(e.avg),
		"撤消数量": e.cancelled, "备注": e.status, "合同编号": d.contract(e.no), "交易市场": e.market,
		"股东帐户": "A123456789",
	}
}

func (d Dialect) trade(e *entrust, qty int64) map[string]any {
	side := "买入"
	if e.sell {
		side = "卖出"
	}
	return map[string]any{
		"成交时间": e.at.Format("15:04:05"), "证券代码": d.code(e.code), "证券名称": e.name, "买卖标志": side,
		"成交价格": d.num(e.price, 3), "成交数量": qty, "成交金额": d.num(round2(e.price*float64(qty)), 2),
		"合同编号": d.contract(e.no),
	}
}
