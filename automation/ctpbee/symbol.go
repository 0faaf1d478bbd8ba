package ctpbee

import (
	"fmt"
	"strings"
)

// contract is a local symbol split: ctpbee names a contract
// "<code>.<exchange>", such as rb2501.SHFE.
type contract struct {
	code     string // rb2501, the bare code /close_position takes
	exchange string // SHFE
}

func (c contract) local() string { return c.code + "." + c.exchange }

// futuresExchanges are the exchanges a CTP account trades.
var futuresExchanges = map[string]bool{
	"SHFE": true, "INE": true, "DCE": true, "CZCE": true, "CFFEX": true, "GFEX": true,
}

// closeTodayDistinct reports whether the exchange tells closing today's
// position from yesterday's (平今 / 平昨): SHFE and INE. Elsewhere a close
// is a close.
func closeTodayDistinct(exchange string) bool { return exchange == "SHFE" || exchange == "INE" }

// parseSymbol reads a local symbol such as rb2501.SHFE.
func parseSymbol(s string) (contract, error) {
	code, exchange, ok := strings.Cut(s, ".")
	if !ok || code == "" || strings.Contains(exchange, ".") {
		return contract{}, fmt.Errorf("symbol %q is not a ctpbee local symbol such as rb2501.SHFE (code.EXCHANGE)", s)
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return contract{}, fmt.Errorf("symbol %q: the contract code %q has a character CTP codes do not", s, code)
		}
	}
	if !futuresExchanges[exchange] {
		if futuresExchanges[strings.ToUpper(exchange)] {
			return contract{}, fmt.Errorf("symbol %q: write the exchange in capitals (%s)", s, strings.ToUpper(exchange))
		}
		return contract{}, fmt.Errorf("symbol %q: %q is not a futures exchange (SHFE, INE, DCE, CZCE, CFFEX, GFEX)", s, exchange)
	}
	return contract{code: code, exchange: exchange}, nil
}
