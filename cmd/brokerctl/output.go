package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTable prints rows under headers, aligned.
func printTable(w io.Writer, headers []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// printPairs prints key: value lines, aligned.
func printPairs(w io.Writer, pairs [][2]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	tw.Flush()
}

// printData prints an operation's result data: rows as a table, an object
// as key: value lines, a string (a markdown table) as it is.
func printData(w io.Writer, raw json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var rows []map[string]any
	if json.Unmarshal(raw, &rows) == nil {
		if len(rows) == 0 {
			fmt.Fprintln(w, "(no rows)")
			return
		}
		var headers []string
		seen := map[string]bool{}
		for _, r := range rows {
			for k := range r {
				if !seen[k] {
					seen[k] = true
					headers = append(headers, k)
				}
			}
		}
		sort.Strings(headers)
		var cells [][]string
		for _, r := range rows {
			line := make([]string, len(headers))
			for i, h := range headers {
				line[i] = cell(r[h])
			}
			cells = append(cells, line)
		}
		printTable(w, headers, cells)
		return
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// A nested list of rows (holdings inside a result) prints as a
		// table after the plain values.
		var pairs [][2]string
		var nested []string
		for _, k := range keys {
			switch obj[k].(type) {
			case []any, map[string]any:
				nested = append(nested, k)
			default:
				pairs = append(pairs, [2]string{k, cell(obj[k])})
			}
		}
		printPairs(w, pairs)
		for _, k := range nested {
			b, _ := json.Marshal(obj[k])
			fmt.Fprintf(w, "%s:\n", k)
			printData(w, b)
		}
		return
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		fmt.Fprintln(w, s)
		return
	}
	fmt.Fprintln(w, string(raw))
}

// cell renders one value for a table.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func str(p *string) string {
	if p == nil || *p == "" {
		return "-"
	}
	return *p
}

func clock(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
