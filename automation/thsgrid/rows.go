package thsgrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Row is one row of a table, by column name. Numbers are json.Number.
type Row map[string]any

// ErrNoTable is returned for an answer that is null: a failed copy of the
// client's grid (a captcha, a pop-up), not an empty table.
var ErrNoTable = errors.New("the agent returned no table (null): the client's grid could not be copied")

// Decode reads a table from an agent's JSON: a list of rows; an empty
// table as [], {} or a string such as "空数据" or ""; a single row as a
// dict; a JSON string holding any of these (return_type str of some
// versions); a dict of rows keyed by index ({"0": {…}, "1": {…}}, pandas'
// to_dict). null is ErrNoTable.
func Decode(raw []byte) ([]Row, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the table is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("the table is followed by more JSON")
	}
	return fromValue(v, 0)
}

func fromValue(v any, depth int) ([]Row, error) {
	switch t := v.(type) {
	case nil:
		return nil, ErrNoTable
	case []any:
		rows := make([]Row, 0, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("row %d of the table is not an object", i)
			}
			rows = append(rows, Row(m))
		}
		return rows, nil
	case map[string]any:
		if len(t) == 0 {
			return []Row{}, nil
		}
		if rows, ok := indexedRows(t); ok {
			return rows, nil
		}
		return []Row{Row(t)}, nil
	case string:
		s := strings.TrimSpace(t)
		if s == "" || strings.Contains(s, "空数据") || strings.Contains(s, "无数据") || strings.Contains(s, "没有") {
			return []Row{}, nil
		}
		if depth == 0 && (s[0] == '[' || s[0] == '{') {
			rows, err := Decode([]byte(s))
			if err == nil {
				return rows, nil
			}
		}
		return nil, fmt.Errorf("the table is text, not rows: %.40q", s)
	}
	return nil, fmt.Errorf("the table is a %T, not rows", v)
}

// indexedRows reads {"0": {...}, "1": {...}}: every key a number and every
// value an object.
func indexedRows(m map[string]any) ([]Row, bool) {
	rows := make([]Row, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		obj, isObj := v.(map[string]any)
		if err != nil || i < 0 || i >= len(m) || !isObj || rows[i] != nil {
			return nil, false
		}
		rows[i] = Row(obj)
	}
	return rows, true
}

// take reads the first of names the row has, marking it used.
func (r Row) take(used map[string]bool, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := r[n]; ok {
			used[n] = true
			return v, true
		}
	}
	return nil, false
}

// leftover is what no field took, with numbers JSON can carry.
func (r Row) leftover(used map[string]bool) map[string]any {
	out := make(map[string]any)
	for k, v := range r {
		if !used[k] {
			out[k] = portable(v)
		}
	}
	return out
}

// portable keeps a number that no float64 holds (1e700) as its text, so
// that the row's JSON reads back anywhere.
func portable(v any) any {
	switch t := v.(type) {
	case json.Number:
		if f, err := t.Float64(); err != nil || math.IsInf(f, 0) {
			return t.String()
		}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = portable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = portable(e)
		}
		return out
	}
	return v
}

// text is a cell as text: numbers as written, null as "".
func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// number is a cell as a number: "1,234.50", "12.3%", " 5 " and "--" (0)
// are read; what is not a number at all is an error.
func number(v any) (float64, error) {
	var s string
	switch t := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		s = t.String()
	case float64:
		return t, nil
	case string:
		s = t
	case bool:
		return 0, fmt.Errorf("%v is not a number", t)
	default:
		return 0, fmt.Errorf("%T is not a number", v)
	}
	s = strings.TrimSpace(strings.NewReplacer(",", "", "%", "", "¥", "", "元", "", "股", "").Replace(s))
	if s == "" || strings.Trim(s, "-") == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// count is a cell as a whole number of shares.
func count(v any) (int64, error) {
	f, err := number(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, fmt.Errorf("%v is not a whole number of shares", text(v))
	}
	return int64(f), nil
}

// Code normalizes a stock code: digits are left-padded with zeros to 6
// ("1" and 1 → "000001"); a code with a market prefix or suffix (SH600000,
// 600000.SH) is reduced to its digits when they are 6 or fewer; anything
// else is kept as written.
func Code(v any) string {
	s := text(v)
	if s == "" {
		return ""
	}
	if f, ok := v.(json.Number); ok {
		// 600000.0 from a float column
		if i, err := strconv.ParseFloat(f.String(), 64); err == nil && i == math.Trunc(i) && i >= 0 && i < 1e6 {
			s = strconv.FormatInt(int64(i), 10)
		}
	}
	digits := strings.TrimFunc(strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), ".SH"), ".SZ"), func(r rune) bool { return !unicode.IsDigit(r) })
	if strings.HasSuffix(strings.ToUpper(s), ".BJ") {
		digits = strings.TrimFunc(s[:len(s)-3], func(r rune) bool { return !unicode.IsDigit(r) })
	}
	if digits == "" || len(digits) > 6 || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return s
	}
	return strings.Repeat("0", 6-len(digits)) + digits
}

// fieldError names the column a value could not be read from.
type fieldError struct {
	columns []string
	err     error
}

func (e *fieldError) Error() string { return fmt.Sprintf("column %s: %v", e.columns[0], e.err) }

// reader reads a row's fields, remembering the first error.
type reader struct {
	row  Row
	used map[string]bool
	err  error
}

func newReader(r Row) *reader { return &reader{row: r, used: make(map[string]bool)} }

func (rd *reader) str(names ...string) string {
	v, _ := rd.row.take(rd.used, names...)
	return text(v)
}

func (rd *reader) code(names ...string) string {
	v, _ := rd.row.take(rd.used, names...)
	return Code(v)
}

func (rd *reader) num(names ...string) float64 {
	v, ok := rd.row.take(rd.used, names...)
	if !ok {
		return 0
	}
	f, err := number(v)
	if err != nil && rd.err == nil {
		rd.err = &fieldError{names, err}
	}
	return f
}

func (rd *reader) count(names ...string) int64 {
	v, ok := rd.row.take(rd.used, names...)
	if !ok {
		return 0
	}
	n, err := count(v)
	if err != nil && rd.err == nil {
		rd.err = &fieldError{names, err}
	}
	return n
}

func (rd *reader) has(names ...string) bool {
	for _, n := range names {
		if _, ok := rd.row[n]; ok {
			return true
		}
	}
	return false
}
