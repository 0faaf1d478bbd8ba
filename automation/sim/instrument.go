package sim

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// board is the kind of security a code names; it decides the price band,
// the tick, the lot and the fees.
type board int

const (
	boardMain    board = iota // 60xxxx, 000–003xxx: ±10%
	boardChiNext              // 30xxxx (300/301/302): ±20%
	boardSTAR                 // 688xxx/689xxx: ±20%
	boardBeijing              // 4xxxxx/8xxxxx/92xxxx: ±30%
	boardFund                 // ETFs and LOFs (5xxxxx, 15/16xxxx, …): ±10%, 3 decimals
	boardConvert              // convertible bonds 11xxxx/12xxxx: ±20%, 3 decimals, lots of 10
	boardRepo                 // treasury reverse repo 204xxx/131xxx: only through LendRepo
)

// Exchange names as THS shows them in 交易市场.
const (
	marketShanghai = "上海A股"
	marketShenzhen = "深圳A股"
	marketBeijing  = "北京"
)

// instrument is what the sim knows about a code.
type instrument struct {
	code   string
	board  board
	market string
}

// classify tells what a code is. Only codes a THS A-share account trades
// are known; B shares (200xxx/900xxx) and anything else are refused.
func classify(code string) (instrument, error) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return instrument{}, fmt.Errorf("证券代码 %q 不是6位数字 (a stock code is 6 digits)", code)
	}
	in := instrument{code: code}
	switch {
	case strings.HasPrefix(code, "204"):
		in.board, in.market = boardRepo, marketShanghai
	case strings.HasPrefix(code, "131"):
		in.board, in.market = boardRepo, marketShenzhen
	case strings.HasPrefix(code, "688"), strings.HasPrefix(code, "689"):
		in.board, in.market = boardSTAR, marketShanghai
	case code[0] == '6':
		in.board, in.market = boardMain, marketShanghai
	case code[0] == '5':
		in.board, in.market = boardFund, marketShanghai
	case strings.HasPrefix(code, "11"):
		in.board, in.market = boardConvert, marketShanghai
	case strings.HasPrefix(code, "12"):
		in.board, in.market = boardConvert, marketShenzhen
	case code[0] == '1':
		in.board, in.market = boardFund, marketShenzhen
	case strings.HasPrefix(code, "30"):
		in.board, in.market = boardChiNext, marketShenzhen
	case code[0] == '0':
		in.board, in.market = boardMain, marketShenzhen
	case code[0] == '4', code[0] == '8', strings.HasPrefix(code, "92"):
		in.board, in.market = boardBeijing, marketBeijing
	default:
		return instrument{}, fmt.Errorf("证券代码 %s 不是本模拟账户可交易的A股、基金或可转债 (unsupported code)", code)
	}
	return in, nil
}

// tradable is the check for an order or a condition order: repo codes are
// lent through LendRepo, not bought.
func classifyTradable(code string) (instrument, error) {
	in, err := classify(code)
	if err != nil {
		return in, err
	}
	if in.board == boardRepo {
		return in, fmt.Errorf("%s 是国债逆回购代码, 请用逆回购操作 (reverse_repo_buy) 出借资金", code)
	}
	return in, nil
}

// limitPercent is the daily price band around the previous close.
func (in instrument) limitPercent() int64 {
	switch in.board {
	case boardChiNext, boardSTAR, boardConvert:
		return 20
	case boardBeijing:
		return 30
	default:
		return 10
	}
}

// tick is the price step in milli: 0.01 for stocks, 0.001 for funds and
// bonds (the codes starting 5 or 1).
func (in instrument) tick() int64 {
	if in.code[0] == '5' || in.code[0] == '1' {
		return 1
	}
	return 10
}

func (in instrument) decimals() int {
	if in.tick() == 1 {
		return 3
	}
	return 2
}

// lot is the trading unit: 10 for convertible bonds, 100 otherwise.
func (in instrument) lot() int64 {
	if in.board == boardConvert {
		return 10
	}
	return 100
}

// stock reports whether stamp duty and the transfer fee apply.
func (in instrument) stock() bool {
	switch in.board {
	case boardMain, boardChiNext, boardSTAR, boardBeijing:
		return true
	}
	return false
}

// band is the limit-down and limit-up price for a previous close, rounded
// half away from zero to the tick as the exchanges do.
func (in instrument) band(prevClose int64) (down, up int64) {
	p, t := in.limitPercent(), in.tick()
	up = mulDivRound(prevClose, 100+p, 100*t) * t
	down = max(mulDivRound(prevClose, 100-p, 100*t)*t, t)
	return down, up
}

// roundTick rounds a raw price to the tick, half away from zero, never
// below one tick.
func (in instrument) roundTick(milli float64) int64 {
	t := in.tick()
	return max(int64(math.Round(milli/float64(t)))*t, t)
}

// formatPrice renders a milli price with the code's decimals.
func (in instrument) formatPrice(m int64) string {
	return fmt.Sprintf("%.*f", in.decimals(), milliFloat(m))
}

// parsePrice converts a price a caller sent, refusing more decimals than
// the code trades in.
func (in instrument) parsePrice(p float64) (int64, error) {
	if math.IsNaN(p) || math.IsInf(p, 0) || p <= 0 {
		return 0, fmt.Errorf("价格 %v 必须大于0 (price must be positive)", p)
	}
	raw := p * milliPerYuan
	m := math.Round(raw)
	if math.Abs(raw-m) > 1e-6 || int64(m)%in.tick() != 0 {
		return 0, fmt.Errorf("价格 %v 超过 %s 的 %d 位小数 (too many decimals)", p, in.code, in.decimals())
	}
	if m > maxPrice {
		return 0, fmt.Errorf("价格 %v 过高 (price too high)", p)
	}
	return int64(m), nil
}

func codeHash(code string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(code))
	return mix(h.Sum64())
}

// basePrice is the previous close of a code the sim has no quote for: a
// plausible price for its board, derived from the code alone so that the
// same stock starts at the same price whatever the seed.
func (in instrument) basePrice() int64 {
	lo, hi := 4.0, 60.0
	switch in.board {
	case boardSTAR:
		lo, hi = 15, 120
	case boardChiNext:
		lo, hi = 8, 90
	case boardBeijing:
		lo, hi = 5, 35
	case boardFund:
		lo, hi = 0.8, 5
	case boardConvert:
		lo, hi = 100, 140
	}
	u := unit(codeHash(in.code))
	return in.roundTick(lo * math.Exp(u*math.Log(hi/lo)) * milliPerYuan)
}

// Pieces of invented security names. They are plausible, not real: the sim
// has no list of listed companies and needs none.
var (
	namePrefixes = []string{"华", "中", "东", "海", "国", "新", "金", "恒", "天", "长", "宏", "瑞",
		"博", "鼎", "嘉", "泰", "隆", "安", "信", "盛", "远", "兴", "通", "达", "振", "光", "明", "永"}
	stockSuffixes = []string{"科技", "股份", "电子", "医药", "能源", "材料", "智能", "制造", "实业",
		"控股", "电气", "生物", "化工", "传媒", "银行", "汽车", "食品", "环境", "光电", "软件"}
	fundThemes = []string{"红利", "证券", "半导体", "医疗", "消费", "军工", "光伏", "银行", "黄金",
		"创新药", "有色", "煤炭", "沪深300", "中证500", "科创50", "创业板"}
)

// name is the invented 证券名称 of a code, the same for a code every time.
func (in instrument) name() string {
	h := codeHash(in.code)
	pick := func(list []string) string {
		s := list[h%uint64(len(list))]
		h = mix(h)
		return s
	}
	switch in.board {
	case boardRepo:
		return repoName(in.code)
	case boardFund:
		return pick(fundThemes) + "ETF"
	case boardConvert:
		return pick(namePrefixes) + pick(namePrefixes) + "转债"
	}
	return pick(namePrefixes) + pick(namePrefixes) + pick(stockSuffixes)
}

// mix is the splitmix64 finaliser: a cheap, well-spread 64-bit hash step.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
