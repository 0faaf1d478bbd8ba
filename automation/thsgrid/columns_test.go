package thsgrid

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

func TestDecodeShapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		rows int
		err  error
	}{
		{`[{"a":1},{"a":2}]`, 2, nil},
		{`[]`, 0, nil},
		{`{}`, 0, nil},
		{`"空数据"`, 0, nil},
		{`""`, 0, nil},
		{`{"资金余额": 1}`, 1, nil},
		{`{"0": {"a": 1}, "1": {"a": 2}}`, 2, nil},
		{`"[{\"a\":1}]"`, 1, nil},
		{`null`, 0, ErrNoTable},
	} {
		rows, err := Decode([]byte(tc.in))
		if len(rows) != tc.rows || !errors.Is(err, tc.err) {
			t.Errorf("%s: %d rows, %v", tc.in, len(rows), err)
		}
	}
	for _, bad := range []string{`[1]`, `"some text"`, `42`, `{`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestPositionVariants(t *testing.T) {
	want := automation.Position{Code: "000001", Name: "平安银行", Quantity: 1000, Available: 800, CostPrice: 12.5, LastPrice: 13, MarketValue: 13000, ProfitLoss: 500, ProfitRatio: 4}
	for name, row := range map[string]string{
		"ths": `{"证券代码":"000001","证券名称":"平安银行","股票余额":1000,"可用余额":800,"成本价":12.5,"市价":13.0,"市值":13000.0,"盈亏":500.0,"盈亏比例(%)":4.0}`,
		"yh":  `{"证券代码":"000001","证券名称":"平安银行","股份余额":"1000","股份可用":"800","参考成本价":"12.500","参考市价":"13.000","参考市值":"13,000.00","参考盈亏":"500.00","盈亏比例(%)":"4.00%"}`,
		"ht":  `{"证券代码":1,"证券名称":"平安银行","股份余额":1000,"可用余额":800,"成本价":12.5,"当前价":13,"最新市值":13000,"浮动盈亏":500,"盈亏比":4}`,
		"gj":  `{"证券代码":"1","证券名称":"平安银行","当前持仓":1000.0,"股份可用":800,"参考成本价":12.5,"市价":13,"市值":13000,"参考盈亏":500,"盈亏比例(%)":4}`,
	} {
		rows, err := Decode([]byte(row))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Position(rows[0])
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
}

func TestOrderAndExtras(t *testing.T) {
	rows, _ := Decode([]byte(`[{"委托时间":93105,"证券代码":600000,"操作":"证券买入","委托价格":"10.50","委托数量":200,"成交数量":100,"撤单数量":0,"状态说明":"部成","合同编号":"00000002","股东代码":"A1","申报编号":7}]`))
	o, err := Order(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	if o.Code != "600000" || o.Side != automation.Buy || o.Price != 10.5 || o.Quantity != 200 || o.Filled != 100 ||
		o.Status != automation.OrderPartFilled || o.ContractNo != "00000002" || o.Time != "09:31:05" {
		t.Errorf("%+v", o)
	}
	b, _ := json.Marshal(o)
	for _, want := range []string{`"股东代码":"A1"`, `"申报编号":7`, `"原状态说明":"部成"`, `"证券代码":"600000"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if !SameContract("00000002", "2") || SameContract("12", "2") {
		t.Error("SameContract")
	}
}

func TestStatus(t *testing.T) {
	for raw, want := range map[string]string{
		"已成": automation.OrderFilled, "全部成交": automation.OrderFilled, "未成交": automation.OrderPending,
		"已报": automation.OrderPending, "已报待撤": automation.OrderPending, "已撤": automation.OrderCancelled,
		"场内撤单": automation.OrderCancelled, "部成部撤": automation.OrderPartCancelled, "废单": automation.OrderRejected,
		"部成": automation.OrderPartFilled,
	} {
		if got := Status(raw, 0, 0, 100); got != want {
			t.Errorf("%s: %s, want %s", raw, got, want)
		}
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{`"000001"`: "000001", `1`: "000001", `"1"`: "000001", `600000.0`: "600000",
		`"SH600000"`: "600000", `"000001.SZ"`: "000001", `"ABC"`: "ABC", `"1234567"`: "1234567"} {
		rows, _ := Decode([]byte(`{"c":` + in + `}`))
		if got := Code(rows[0]["c"]); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// FuzzRows: any answer decodes or fails cleanly; digit codes come out as 6
// digits; the rows encode as JSON with every column kept.
func FuzzRows(f *testing.F) {
	for _, s := range []string{
		`[{"证券代码":1,"股份余额":"1,000","盈亏比例(%)":"4.0%","股东代码":"A1"}]`,
		`{"资金余额":1.5,"可用资金":"2"}`, `[{"合同编号":2,"委托时间":"93105","状态说明":"已报待撤"}]`,
		`null`, `{}`, `"空数据"`, `{"0":{"a":1}}`, `[{"委托数量":1e400}]`, `[{"证券代码":"-1"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := Decode(b)
		if err != nil {
			return
		}
		if ps, err := Positions(rows); err == nil {
			for _, p := range ps {
				checkCode(t, p.Code)
				if _, err := json.Marshal(p); err != nil {
					t.Fatal(err)
				}
			}
		}
		if os, err := Orders(rows); err == nil {
			for i, o := range os {
				checkCode(t, o.Code)
				out, err := json.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				var back map[string]any
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatalf("%s: %v", out, err)
				}
				for k := range rows[i] {
					if _, ok := back[k]; !ok && !isField(k) {
						t.Fatalf("column %q dropped from %s", k, out)
					}
				}
			}
		}
		_, _, _ = Funds(rows)
	})
}

func checkCode(t *testing.T, c string) {
	if isDigits(c) && len(c) < 6 {
		t.Fatalf("code %q not padded", c)
	}
}

// isField reports a column some field reads (so it is not kept as extra).
func isField(k string) bool {
	for _, cols := range [][]string{colCode, colName, colMarket, colContract, colSide, colKind, colPrice, colQuantity,
		colFilled, colAvgPrice, colCancelled, colStatus, colDate, colTime} {
		for _, c := range cols {
			if c == k {
				return true
			}
		}
	}
	return false
}
