package ctpbee

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// answer is every ctpbee_backend answer: {"success": …, "msg": …, "data": …},
// served as text/html with \uXXXX escapes (Python's json.dumps).
type answer struct {
	Success bool            `json:"success"`
	Msg     string          `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

// The messages of the backend's auth check (app/auth.py): a refused token
// and a malformed Authorization header.
const (
	msgTokenError = "token error"
	msgBadHeader  = "请传递正确的验证头信息"
)

// tokenRefused reports whether the backend refused the request's token:
// nothing behind the auth check ran.
func (a answer) tokenRefused() bool {
	return !a.Success && (a.Msg == msgTokenError || a.Msg == msgBadHeader)
}

// errHTTPStatus is an answer that was not HTTP 200: Flask's HTML error
// pages (a 500 for a non-numeric volume, a 404, a 405) or a proxy's.
type errHTTPStatus struct {
	status int
	title  string
}

func (e *errHTTPStatus) Error() string {
	if e.title != "" {
		return fmt.Sprintf("ctpbee_backend answered HTTP %d (%s)", e.status, e.title)
	}
	return fmt.Sprintf("ctpbee_backend answered HTTP %d", e.status)
}

var titleRE = regexp.MustCompile(`(?is)<title>(.*?)</title>`)

// decodeAnswer reads one HTTP answer of the backend.
func decodeAnswer(status int, body []byte) (answer, error) {
	if status != 200 {
		e := &errHTTPStatus{status: status}
		if m := titleRE.FindSubmatch(body); m != nil {
			e.title = clip(html.UnescapeString(strings.TrimSpace(string(m[1]))), 80)
		}
		return answer{}, e
	}
	var raw struct {
		Success *bool           `json:"success"`
		Msg     json.RawMessage `json:"msg"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(nullNonFinite(bytes.TrimSpace(body)), &raw); err != nil {
		return answer{}, fmt.Errorf("ctpbee_backend answered something that is not its JSON envelope: %q", clip(string(body), 80))
	}
	if raw.Success == nil {
		return answer{}, fmt.Errorf("ctpbee_backend's answer has no success field: %q", clip(string(body), 80))
	}
	a := answer{Success: *raw.Success, Data: raw.Data}
	// msg is a string in every view; anything else is kept as its text.
	if len(raw.Msg) > 0 {
		if err := json.Unmarshal(raw.Msg, &a.Msg); err != nil {
			a.Msg = string(raw.Msg)
		}
	}
	return a, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// book is GET /order_solve's data: everything the backend's recorder
// holds for the trading day.
type book struct {
	Positions []wirePosition `json:"position_list"`
	Active    []wireOrder    `json:"active_order_list"`
	Trades    []wireTrade    `json:"trade_list"`
	Orders    []wireOrder    `json:"order_list"`
}

// wireOrder is ctpbee's OrderData._to_dict(): enum values in Chinese.
type wireOrder struct {
	OrderID     text   `json:"order_id"`
	Symbol      text   `json:"symbol"`
	Exchange    text   `json:"exchange"`
	LocalSymbol text   `json:"local_symbol"`
	Direction   text   `json:"direction"` // 多 | 空
	Offset      text   `json:"offset"`    // 开 | 平 | 平今 | 平昨
	Type        text   `json:"type"`      // 限价 | 市价 | FAK | FOK
	Status      text   `json:"status"`    // 提交中 | 未成交 | 部分成交 | 全部成交 | 已撤销 | 拒单
	Price       number `json:"price"`
	Volume      number `json:"volume"`
	Traded      number `json:"traded"`
	Time        text   `json:"time"`
}

// wireTrade is ctpbee's TradeData._to_dict().
type wireTrade struct {
	TradeID text   `json:"tradeid"`
	OrderID text   `json:"order_id"`
	Price   number `json:"price"`
	Volume  number `json:"volume"`
}

// wirePosition is one entry of the position manager's
// get_all_positions(): direction long/short, volume and yd_volume. Some
// ctpbee versions misspell the short side's local_symbol key
// ("locpositionsal_symbol"); the symbol and exchange are always there.
type wirePosition struct {
	Symbol      text   `json:"symbol"`
	Exchange    text   `json:"exchange"`
	LocalSymbol text   `json:"local_symbol"`
	Direction   text   `json:"direction"`
	Price       number `json:"price"`
	Volume      number `json:"volume"`
	YdVolume    number `json:"yd_volume"`
	Profit      number `json:"position_profit"`
}

func (p wirePosition) localSymbol() string {
	if p.LocalSymbol != "" {
		return string(p.LocalSymbol)
	}
	return string(p.Symbol) + "." + string(p.Exchange)
}

func (o wireOrder) localSymbol() string {
	if o.LocalSymbol != "" {
		return string(o.LocalSymbol)
	}
	return string(o.Symbol) + "." + string(o.Exchange)
}

// decodeBook reads GET /order_solve's data.
func decodeBook(data json.RawMessage) (book, error) {
	var b book
	if len(bytes.TrimSpace(data)) == 0 {
		return b, errors.New("ctpbee_backend's /order_solve answered no data")
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return book{}, fmt.Errorf("ctpbee_backend's /order_solve data: %v", err)
	}
	return b, nil
}

// text is a JSON string that may come as a number or null (ids and
// symbols are Python values of whatever type the gateway gave).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	case json.Valid(b) && len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*t = text(b)
		return nil
	}
	return fmt.Errorf("want a string, got %s", clip(string(b), 20))
}

// number is an exact decimal from a JSON number (Python's float repr,
// such as 3500.0) or a numeric string; null is zero.
type number struct{ decimal.Decimal }

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		n.Decimal = decimal.Zero
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("want a number, got %s", clip(string(b), 20))
	}
	n.Decimal = d
	return nil
}
