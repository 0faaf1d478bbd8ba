package easytradertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
)

// Flask's jsonify writes compact JSON with sorted keys and ensure_ascii:
// every non-ASCII character as \uXXXX (a surrogate pair above U+FFFF), and
// Python floats keep their ".0". pyJSON writes the same bytes.
func pyJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python leaves < > & alone
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("easytradertest: cannot encode %T: %v", v, err))
	}
	out := bytes.NewBuffer(make([]byte, 0, buf.Len()+64))
	for _, r := range buf.String() {
		if r < 0x80 {
			out.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(out, `\u%04x`, u)
		}
	}
	return out.Bytes() // Encode's "\n" is Flask's too
}

// pyFloat is a Python float: 100.0, 10.5.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("NaN"), nil
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".e") {
		s += ".0"
	}
	return []byte(s), nil
}

// round2 rounds to cents, as the client shows amounts.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
