package plugins

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The A-share rules the order plugins share, written once (REFERENCE.md,
// EasyTHS's plugins).

// stockCodePattern: a code is six digits, always sent as a string.
const stockCodePattern = `^[0-9]{6}$`

// contractNoPattern: a contract number (合同编号) as brokers write them.
const contractNoPattern = `^[0-9A-Za-z_-]{1,32}$`

// patternMeanings says in words what a pattern asks for.
var patternMeanings = map[string]string{
	stockCodePattern:  `a stock code of 6 digits such as "600000" or "000001"`,
	contractNoPattern: "a contract number (合同编号) of 1 to 32 letters, digits, - or _, as buy and sell return it in contract_no",
}

// maxOrderValue caps price × quantity of one order, in CNY.
const maxOrderValue = 10_000_000

// isConvertibleBond reports whether code is a convertible bond (11xxxx,
// 12xxxx): they trade in lots of 10 instead of 100.
func isConvertibleBond(code string) bool {
	return strings.HasPrefix(code, "11") || strings.HasPrefix(code, "12")
}

// priceDecimals is the tick of a code's price: funds, ETFs and bonds
// (codes starting 5 or 1) quote to 0.001, shares to 0.01.
func priceDecimals(code string) int {
	if strings.HasPrefix(code, "5") || strings.HasPrefix(code, "1") {
		return 3
	}
	return 2
}

// lotError says what is wrong with quantity for code, or "". With code
// unknown ("": it failed validation itself) only the smallest lot, 10,
// is checked, so that a quantity wrong for every code is still reported.
func lotError(code string, quantity int64) string {
	switch {
	case code == "":
		if quantity < 10 || quantity%10 != 0 {
			return fmt.Sprintf("must be a whole number of lots: a multiple of 100 for shares and funds, of 10 for convertible bonds (11xxxx/12xxxx); got %d", quantity)
		}
	case isConvertibleBond(code):
		if quantity < 10 || quantity%10 != 0 {
			return fmt.Sprintf("must be at least 10 and a multiple of 10 for the convertible bond %s (lots of 10), got %d", code, quantity)
		}
	default:
		if quantity < 100 || quantity%100 != 0 {
			return fmt.Sprintf("must be at least 100 and a multiple of 100 for %s (lots of 100 shares), got %d", code, quantity)
		}
	}
	return ""
}

// decimalsError says whether price has more decimals than code's tick
// allows. More decimals is an error, never rounded: rounding would send a
// price the trader did not write (a buy at 10.005 rounded up pays more).
// With code unknown ("": it failed validation itself) only the finest tick,
// 0.001, is checked, so that a price wrong for every code is still
// reported beside the code.
func decimalsError(code string, price float64) string {
	if code == "" {
		if decimalsOf(price) > 3 {
			return fmt.Sprintf("has more than 3 decimals: no code is priced finer than 0.001 (shares 0.01; funds, ETFs and bonds 0.001), got %s", formatPlain(price))
		}
		return ""
	}
	allowed := priceDecimals(code)
	if decimalsOf(price) <= allowed {
		return ""
	}
	if allowed == 3 {
		return fmt.Sprintf("has more than 3 decimals: %s (a fund, ETF or bond) is priced in steps of 0.001, got %s", code, formatPlain(price))
	}
	return fmt.Sprintf("has more than 2 decimals: %s is priced in steps of 0.01 (only funds, ETFs and bonds, codes starting 5 or 1, take 3), got %s", code, formatPlain(price))
}

// decimalsOf counts the decimals of the shortest decimal that reads back
// as f: 10.5 → 1, 0.29 → 2, 10.125 → 3.
func decimalsOf(f float64) int {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// valueError says whether price × quantity passes the per-order cap.
func valueError(price float64, quantity int64) string {
	value := price * float64(quantity)
	if value <= maxOrderValue+1e-6 { // tolerate float rounding of an exact cap
		return ""
	}
	return fmt.Sprintf("makes an order of %s CNY (price × quantity), above the limit of 10,000,000 CNY per order; split it into smaller orders", formatAmount(value))
}

// checkLot applies the lot rule to the named quantity field, when given.
func checkLot(p Params, field string) []FieldError {
	if !p.has(field) {
		return nil
	}
	if reason := lotError(p.str("stock_code"), p.int(field)); reason != "" {
		return []FieldError{fieldError(field, reason)}
	}
	return nil
}

// checkPricedOrder applies the lot, tick and value rules to an order
// priced by priceField.
func checkPricedOrder(priceField string) func(Params) []FieldError {
	return func(p Params) []FieldError {
		errs := checkLot(p, "quantity")
		code := p.str("stock_code")
		if p.has(priceField) {
			if reason := decimalsError(code, p.float(priceField)); reason != "" {
				errs = append(errs, fieldError(priceField, reason))
			}
		}
		// The cap is checked only on a quantity that is itself valid, so
		// that one mistake is not reported twice.
		if p.has(priceField) && p.has("quantity") && len(errs) == 0 {
			if reason := valueError(p.float(priceField), p.int("quantity")); reason != "" {
				errs = append(errs, fieldError("quantity", reason))
			}
		}
		return errs
	}
}

// formatPrice writes a price with its code's decimals: "10.50", "1.234".
func formatPrice(code string, price float64) string {
	return strconv.FormatFloat(price, 'f', priceDecimals(code), 64)
}

// formatAmount writes CNY with thousands separators: 12,000,000.00.
func formatAmount(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// The parameters several operations share.

func bound(v float64) *float64 { return &v }

func stockCodeParam(required bool, zh, en string) Param {
	return Param{
		Name: "stock_code", Type: TypeString, Required: required, Pattern: stockCodePattern,
		NumberHint:  "must be a string in quotes such as \"000001\", not a number: a code sent as a number loses its leading zeros",
		Description: zh, DescriptionEn: en, Example: "600000",
	}
}

func quantityParam(required bool, zh, en string) Param {
	return Param{
		// No minimum or multiple here: both depend on the code, and the lot
		// rule in Check says which lot applies (see lotError).
		Name: "quantity", Type: TypeInteger, Required: required,
		Description: zh, DescriptionEn: en, Example: 100,
	}
}

func priceParam(name, zh, en string) Param {
	return Param{
		Name: name, Type: TypeNumber, Required: true, Minimum: bound(0), ExclusiveMinimum: true,
		Description: zh, DescriptionEn: en, Example: 10.50,
	}
}

// Return types of the query operations: json and dict give rows, str and
// markdown a table rendered as text.
const (
	ReturnJSON     = "json"
	ReturnDict     = "dict"
	ReturnStr      = "str"
	ReturnMarkdown = "markdown"
)

func returnTypeParam() Param {
	return Param{
		Name: "return_type", Type: TypeString, Enum: []any{ReturnStr, ReturnJSON, ReturnDict, ReturnMarkdown}, Default: ReturnJSON,
		Description:   "返回类型:str/json/dict/markdown,默认 json。json 与 dict 返回行列表,str 返回对齐的文本表格,markdown 返回 Markdown 表格",
		DescriptionEn: "result format: json or dict give a list of rows, str a plain-text table, markdown a Markdown table; default json",
		Example:       ReturnJSON,
	}
}

func expireDaysParam() Param {
	return Param{
		Name: "expire_days", Type: TypeInteger, Enum: []any{1, 3, 5, 10, 20, 30}, Default: int64(30),
		Description:   "有效期(自然日),可选1/3/5/10/20/30,默认30",
		DescriptionEn: "validity in calendar days: 1, 3, 5, 10, 20 or 30; default 30",
		Example:       30,
	}
}

// quantityRuleZh and quantityRuleEn describe the lot rule in schemas.
const (
	quantityRuleZh = "必须是100的倍数(可转债11/12开头为10的倍数)"
	quantityRuleEn = "a multiple of 100 (of 10 for convertible bonds, codes 11xxxx/12xxxx)"
	priceRuleZh    = "大于0,股票最多2位小数,基金/ETF/债券(5或1开头)最多3位小数;价格×数量不超过1000万元"
	priceRuleEn    = "greater than 0; at most 2 decimals for shares, 3 for funds, ETFs and bonds (codes starting 5 or 1); price × quantity at most 10,000,000 CNY"
)
