package plugins

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Query results honour return_type the way EasyTHS does, in the same key
// of the data: json and dict both give the list of rows (each row keyed by
// the THS column names); str gives a plain-text table with aligned columns,
// markdown a GitHub table, both as one string. A table shows every column
// of the row type, in its declared order, even the ones a JSON row omits
// when empty, so that its shape never depends on the data.

// shapeRows returns rows in the form return_type asks for.
func shapeRows[T any](rows []T, returnType string) any {
	switch returnType {
	case ReturnStr:
		return tableOf(rows).text()
	case ReturnMarkdown:
		return tableOf(rows).markdown()
	}
	if rows == nil {
		return []T{} // [] rather than null: a script can always iterate
	}
	return rows
}

type table struct {
	header  []string
	numeric []bool // right-aligned columns
	cells   [][]string
}

// tableOf lays rows of a struct type out by the type's JSON names.
func tableOf[T any](rows []T) table {
	typ := reflect.TypeFor[T]()
	var t table
	var fields []int
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, i)
		t.header = append(t.header, name)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64, reflect.Float32:
			t.numeric = append(t.numeric, true)
		default:
			t.numeric = append(t.numeric, false)
		}
	}
	for _, row := range rows {
		v := reflect.ValueOf(row)
		line := make([]string, len(fields))
		for j, i := range fields {
			line[j] = cell(v.Field(i))
		}
		t.cells = append(t.cells, line)
	}
	return t
}

func cell(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return formatCellNumber(v.Float())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return ""
}

// formatCellNumber shows money and prices with at least 2 decimals (10.50)
// and at most 4 (a rate or a fund price keeps its precision).
func formatCellNumber(f float64) string {
	switch d := decimalsOf(f); {
	case d < 2:
		return strconv.FormatFloat(f, 'f', 2, 64)
	case d > 4:
		return strconv.FormatFloat(f, 'f', 4, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// markdown renders a GitHub table; numeric columns are right-aligned.
func (t table) markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" ")
			b.WriteString(markdownEscape(c))
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	rule := make([]string, len(t.header))
	for i, n := range t.numeric {
		rule[i] = "---"
		if n {
			rule[i] = "---:"
		}
	}
	b.WriteString("|")
	for _, r := range rule {
		b.WriteString(" " + r + " |")
	}
	b.WriteString("\n")
	for _, row := range t.cells {
		line(row)
	}
	return b.String()
}

func markdownEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// text renders a plain table with columns aligned for a terminal or a
// monospace font, where a Chinese character takes two columns; numbers are
// right-aligned.
func (t table) text() string {
	rows := make([][]string, len(t.cells))
	for i, row := range t.cells {
		rows[i] = flatten(row)
	}
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = displayWidth(h)
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		var l strings.Builder
		for i, c := range cells {
			if i > 0 {
				l.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if t.numeric[i] {
				l.WriteString(pad + c)
			} else {
				l.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteString("\n")
	}
	line(t.header)
	for _, row := range rows {
		line(row)
	}
	return b.String()
}

func flatten(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(c)
	}
	return out
}

// displayWidth counts terminal columns: East Asian wide and full-width
// characters take two.
func displayWidth(s string) int {
	w := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if isWide(r) {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func isWide(r rune) bool {
	return r >= 0x1100 && r <= 0x115F || // Hangul Jamo
		r >= 0x2E80 && r <= 0xA4CF && r != 0x303F || // CJK radicals … Yi
		r >= 0xAC00 && r <= 0xD7A3 || // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF || // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F || // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60 || // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6 ||
		r >= 0x20000 && r <= 0x3FFFD
}
