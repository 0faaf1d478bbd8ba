package plugins

import (
	"strings"
	"testing"
)

type row struct {
	Code  string  `json:"证券代码"`
	Price float64 `json:"价格"`
	Qty   int64   `json:"数量"`
	Note  string  `json:"备注,omitempty"`
	skip  string
	Gone  string `json:"-"`
}

func TestMarkdownTable(t *testing.T) {
	got := tableOf([]row{
		{Code: "600000", Price: 10.5, Qty: 100, Note: "a|b"},
		{Code: "000001", Price: 1.2345678, Qty: 200, Note: "line\nbreak"},
	}).markdown()
	want := "| 证券代码 | 价格 | 数量 | 备注 |\n" +
		"| --- | ---: | ---: | --- |\n" +
		"| 600000 | 10.50 | 100 | a\\|b |\n" +
		"| 000001 | 1.2346 | 200 | line break |\n"
	if got != want {
		t.Errorf("markdown =\n%s\nwant\n%s", got, want)
	}
}

func TestTextTable(t *testing.T) {
	got := tableOf([]row{
		{Code: "600000", Price: 10.5, Qty: 100},
		{Code: "平安", Price: 1234.5, Qty: 20000, Note: "已撤\t全部"},
	}).text()
	want := "" +
		"证券代码     价格   数量  备注\n" +
		"600000      10.50    100\n" +
		"平安      1234.50  20000  已撤 全部\n"
	if got != want {
		t.Errorf("text =\n%s\nwant\n%s", got, want)
	}
}

// A table has its columns even with no rows; JSON gives [] rather than null.
func TestEmptyRows(t *testing.T) {
	if got := shapeRows([]row(nil), ReturnMarkdown); got != "| 证券代码 | 价格 | 数量 | 备注 |\n| --- | ---: | ---: | --- |\n" {
		t.Errorf("markdown = %q", got)
	}
	if got := shapeRows([]row(nil), ReturnStr); got != "证券代码  价格  数量  备注\n" {
		t.Errorf("str = %q", got)
	}
	if got, ok := shapeRows([]row(nil), ReturnJSON).([]row); !ok || got == nil || len(got) != 0 {
		t.Errorf("json = %#v", got)
	}
}

func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "浦发银行": 8, "上海A股": 7, "盈亏比例(%)": 11, "ＡＢ": 4, "": 0} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestFormatCellNumber(t *testing.T) {
	for f, want := range map[float64]string{10: "10.00", 10.5: "10.50", 1.234: "1.234", 0.00012345: "0.0001", -40: "-40.00"} {
		if got := formatCellNumber(f); got != want {
			t.Errorf("formatCellNumber(%v) = %q, want %q", f, got, want)
		}
	}
	if strings.Contains(formatCellNumber(1e20), "e") {
		t.Error("no exponent in a table")
	}
}
