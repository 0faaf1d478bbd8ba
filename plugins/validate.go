package plugins

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// How values are read, decided once for every operation:
//
//   - params is a JSON object; empty input or null means no params. A key
//     given twice is an error (which one would a person have meant?), and
//     so is a key the schema does not know.
//   - null, and "" for an optional string, mean "not given": the default
//     applies. Scripts send None for "all stocks".
//   - Numbers may come as JSON numbers or as strings of plain decimal
//     notation ("10.50", "-3", "100.0"), because EasyTHS scripts send
//     prices formatted as strings. Anything else in a string ("abc",
//     "1e3", "NaN", " 10", "0x10") is an error naming the field.
//   - An integer may be written with a zero fraction (100.0); 100.5 is an
//     error. Integers beyond ±2^53 are refused (they would not survive a
//     round trip through a float, nor through most JSON clients).
//   - Strings must be JSON strings: a number is refused, never converted.
//     For a stock code that is the only safe choice: 000001 sent as a
//     number arrives as 1, and accepting the numbers that happen to have
//     six digits would make the same script work for 600000 and fail for
//     000001.
//   - Strings are not trimmed: " 600000" is refused with the value quoted.

// plainDecimal is the notation accepted for numbers sent as strings.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// maxSafeInteger is the largest integer a float64 (and so a JSON client)
// carries exactly.
const maxSafeInteger = 1 << 53

// maxNumericString bounds numbers sent as strings: no price or quantity
// needs more digits, and the bound keeps the parse cheap.
const maxNumericString = 40

// Validate checks raw params against p's schema and rules. It returns the
// normalized params, defaults filled in, or the list of every bad field.
func (p *Plugin) Validate(raw json.RawMessage) (Params, []FieldError) {
	fields, errs, ok := splitObject(raw)
	if !ok {
		return nil, errs
	}
	// A repeated unknown key is reported as unknown only.
	errs = slices.DeleteFunc(errs, func(e FieldError) bool {
		_, known := p.param(strings.TrimPrefix(e.Field, "params."))
		return !known
	})

	out := make(Params, len(p.Params))
	for i := range p.Params {
		q := &p.Params[i]
		value, given := fields[q.Name]
		if given && value == nil {
			continue // given more than once: already reported
		}
		v, present, reason := q.read(value, given)
		switch {
		case reason != "":
			errs = append(errs, fieldError(q.Name, reason))
			out[q.Name] = badValue{} // given, but bad: see Params.given
		case present:
			out[q.Name] = v
		}
	}
	errs = append(errs, p.unknownFields(fields)...)
	if p.Defaults != nil && len(errs) == 0 {
		p.Defaults(out)
	}
	if p.Check != nil {
		errs = append(errs, p.Check(out)...)
	}
	if len(errs) > 0 {
		p.sortErrors(errs)
		return nil, errs
	}
	return out, nil
}

// badValue stands, in the params Check sees, for a parameter that was
// given but failed on its own: has is false for it, given true.
type badValue struct{}

// ValidateFor is Validate followed by the rules against terminal t (Fits):
// a price off the symbol's tick, an offset a terminal does not take. With
// t nil only the schema and Check apply.
func (p *Plugin) ValidateFor(raw json.RawMessage, t automation.Terminal) (Params, []FieldError) {
	params, errs := p.Validate(raw)
	if len(errs) > 0 || p.Fits == nil || t == nil {
		return params, errs
	}
	if errs := p.Fits(params, t); len(errs) > 0 {
		p.sortErrors(errs)
		return nil, errs
	}
	return params, nil
}

// sortErrors puts errors in schema order, whichever stage found them;
// errors on unknown fields and on params as a whole come last.
func (p *Plugin) sortErrors(errs []FieldError) {
	rank := func(e FieldError) int {
		name, ok := strings.CutPrefix(e.Field, "params.")
		if !ok {
			return len(p.Params) + 1
		}
		for i, q := range p.Params {
			if q.Name == name {
				return i
			}
		}
		return len(p.Params)
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return rank(a) - rank(b) })
}

func fieldError(name, reason string) FieldError {
	return FieldError{Field: "params." + name, Reason: reason}
}

// unknownFields names, in sorted order, the keys the schema does not know.
func (p *Plugin) unknownFields(fields map[string]json.RawMessage) []FieldError {
	var unknown []string
	for k := range fields {
		if _, ok := p.param(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	var accepts string
	if len(p.Params) == 0 {
		accepts = p.Name + " takes no parameters"
	} else {
		accepts = p.Name + " accepts " + strings.Join(p.paramNames(), ", ")
	}
	errs := make([]FieldError, 0, len(unknown))
	reason := "unknown parameter; " + accepts // one string shared by every error
	for _, k := range unknown {
		errs = append(errs, FieldError{Field: "params." + clip(k), Reason: reason})
	}
	return errs
}

// splitObject reads a JSON object into its members without interpreting
// them; the members are sub-slices of raw. ok is false for input that is
// no object at all (bad JSON, an array, …), reported on "params". A key
// given more than once is reported and left in fields with a nil value, so
// that the other fields are still checked.
func splitObject(raw json.RawMessage) (fields map[string]json.RawMessage, errs []FieldError, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, true
	}
	if raw[0] != '{' {
		return nil, []FieldError{{Field: "params", Reason: "must be a JSON object such as {\"stock_code\": \"600000\"}, not " + jsonKind(raw)}}, false
	}
	if !json.Valid(raw) {
		return nil, []FieldError{{Field: "params", Reason: "is not valid JSON"}}, false
	}
	// raw is one valid object from here on, which keeps the walk simple.
	fields = make(map[string]json.RawMessage, 4)
	for i := 1; ; {
		i = skipSpace(raw, i)
		switch raw[i] {
		case '}':
			return fields, errs, true
		case ',':
			i++
			continue
		}
		end := stringEnd(raw, i)
		key := decodeString(raw[i:end])
		i = skipSpace(raw, end) + 1 // past the colon
		i = skipSpace(raw, i)
		end = valueEnd(raw, i)
		if v, dup := fields[key]; dup {
			if v != nil { // reported once however often it repeats
				errs = append(errs, FieldError{Field: "params." + clip(key), Reason: "is given more than once; give each parameter once"})
			}
			fields[key] = nil
		} else {
			fields[key] = json.RawMessage(raw[i:end])
		}
		i = end
	}
}

// ObjectMembers reads raw, a valid JSON object, into its members (sub-slices
// of raw, the last one when a key repeats) and names the keys given more
// than once, each once, in the order they repeat. It is the same linear walk
// that reads params, without allocating per member beyond the map.
func ObjectMembers(raw json.RawMessage) (map[string]json.RawMessage, []string) {
	raw = bytes.TrimSpace(raw)
	fields := make(map[string]json.RawMessage, 8)
	var repeated []string
	for i := 1; ; {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == '}' { // the end (or input that broke the precondition)
			return fields, repeated
		}
		if raw[i] == ',' {
			i++
			continue
		}
		end := stringEnd(raw, i)
		key := decodeString(raw[i:min(end, len(raw))])
		i = skipSpace(raw, skipSpace(raw, end)+1) // past the colon
		if i >= len(raw) {
			return fields, repeated
		}
		end = valueEnd(raw, i)
		if _, dup := fields[key]; dup && !slices.Contains(repeated, key) {
			repeated = append(repeated, key)
		}
		fields[key] = json.RawMessage(raw[i:end])
		i = end
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	for j := i; j < len(b); j++ { // a number, true, false or null
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
	}
	return len(b)
}

// decodeString reads a valid JSON string literal. Most are plain ASCII or
// UTF-8 without escapes and are copied as they are; the rest go through
// encoding/json, which also turns invalid UTF-8 into U+FFFD.
func decodeString(lit []byte) string {
	inner := lit[1 : len(lit)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(lit, &s) // lit is valid JSON
	return s
}

// read interprets one member. present is false for a parameter that is
// absent and has no default; reason is non-empty for a bad value.
func (q *Param) read(value json.RawMessage, given bool) (v any, present bool, reason string) {
	if given && !q.means(value) {
		given = false
	}
	if !given {
		switch {
		case q.Required:
			return nil, false, "is required: " + q.DescriptionEn
		case q.Default != nil:
			return q.Default, true, ""
		default:
			return nil, false, ""
		}
	}
	switch q.Type {
	case TypeString:
		v, reason = q.readString(value)
	case TypeInteger:
		v, reason = q.readInteger(value)
	case TypeNumber:
		v, reason = q.readNumber(value)
	case TypeBoolean:
		v, reason = readBoolean(value)
	case TypeDecimal:
		v, reason = q.readDecimal(value)
	default:
		reason = "has an unknown schema type " + q.Type
	}
	if reason == "" {
		reason = q.checkEnum(v)
	}
	if reason != "" {
		return nil, false, reason
	}
	return v, true, ""
}

// means reports whether a member carries a value: null does not, nor ""
// for an optional string.
func (q *Param) means(value json.RawMessage) bool {
	if string(value) == "null" {
		return false
	}
	return q.Required || q.Type != TypeString || string(value) != `""`
}

func (q *Param) readString(value json.RawMessage) (any, string) {
	if value[0] != '"' {
		if q.NumberHint != "" && (value[0] == '-' || value[0] >= '0' && value[0] <= '9') {
			return nil, q.NumberHint
		}
		return nil, "must be a string" + q.exampleHint() + ", not " + jsonKind(value)
	}
	s := decodeString(value)
	if q.pattern != nil && !q.pattern.MatchString(s) {
		return nil, fmt.Sprintf("must be %s, got %q", q.patternMeaning(), clip(s))
	}
	return s, ""
}

func (q *Param) readInteger(value json.RawMessage) (any, string) {
	text, reason := q.numberText(value)
	if reason != "" {
		return nil, reason
	}
	var n int64
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		n = i
	} else {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > maxSafeInteger {
			return nil, fmt.Sprintf("is out of range, got %s", clip(text))
		}
		if f != math.Trunc(f) {
			return nil, fmt.Sprintf("must be a whole number, got %s", clip(text))
		}
		n = int64(f)
	}
	if n > maxSafeInteger || n < -maxSafeInteger {
		return nil, fmt.Sprintf("is out of range, got %s", clip(text))
	}
	if reason := q.checkBounds(float64(n)); reason != "" {
		return nil, reason
	}
	if m := int64(q.MultipleOf); m > 0 && n%m != 0 {
		return nil, fmt.Sprintf("must be a multiple of %s, got %d", formatPlain(q.MultipleOf), n)
	}
	return n, ""
}

func (q *Param) readNumber(value json.RawMessage) (any, string) {
	text, reason := q.numberText(value)
	if reason != "" {
		return nil, reason
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Sprintf("is out of range, got %s", clip(text))
	}
	if reason := q.checkBounds(f); reason != "" {
		return nil, reason
	}
	if q.MultipleOf > 0 {
		if r := math.Mod(f, q.MultipleOf); r != 0 {
			return nil, fmt.Sprintf("must be a multiple of %s, got %s", formatPlain(q.MultipleOf), formatPlain(f))
		}
	}
	return f, ""
}

// readDecimal reads an exact decimal from a JSON number or a string of
// plain decimal notation: "0.010" stays 0.010, never a float64.
func (q *Param) readDecimal(value json.RawMessage) (any, string) {
	text, reason := q.numberText(value)
	if reason != "" {
		return nil, reason
	}
	if !plainDecimal.MatchString(text) {
		// A JSON number in exponent form (1e3): exact, but not plain.
		return nil, fmt.Sprintf("must be a decimal in plain notation%s, got %s", q.exampleHint(), clip(text))
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return nil, fmt.Sprintf("is not a decimal, got %s", clip(text))
	}
	if q.Minimum != nil {
		lo := decimal.NewFromFloat(*q.Minimum)
		if q.ExclusiveMinimum && !d.GreaterThan(lo) {
			return nil, fmt.Sprintf("must be greater than %s, got %s", lo, text)
		}
		if d.LessThan(lo) {
			return nil, fmt.Sprintf("must be at least %s, got %s", lo, text)
		}
	}
	if q.Maximum != nil && d.GreaterThan(decimal.NewFromFloat(*q.Maximum)) {
		return nil, fmt.Sprintf("must be at most %s, got %s", formatPlain(*q.Maximum), text)
	}
	return d, ""
}

// numberText returns the text of a number given as a JSON number or as a
// string of plain decimal notation.
func (q *Param) numberText(value json.RawMessage) (string, string) {
	what := "a number"
	if q.Type == TypeInteger {
		what = "a whole number"
	}
	switch c := value[0]; {
	case c == '-' || c >= '0' && c <= '9':
		return string(value), ""
	case c == '"':
		s := decodeString(value)
		if len(s) > maxNumericString || !plainDecimal.MatchString(s) {
			return "", fmt.Sprintf("must be %s%s, got the string %q", what, q.exampleHint(), clip(s))
		}
		return s, ""
	default:
		return "", fmt.Sprintf("must be %s%s, not %s", what, q.exampleHint(), jsonKind(value))
	}
}

func readBoolean(value json.RawMessage) (any, string) {
	switch string(value) {
	case "true":
		return true, ""
	case "false":
		return false, ""
	}
	return nil, "must be true or false, not " + jsonKind(value)
}

func (q *Param) checkBounds(f float64) string {
	if q.Minimum != nil {
		lo := *q.Minimum
		if q.ExclusiveMinimum && f <= lo {
			return fmt.Sprintf("must be greater than %s, got %s", formatPlain(lo), formatPlain(f))
		}
		if f < lo {
			return fmt.Sprintf("must be at least %s, got %s", formatPlain(lo), formatPlain(f))
		}
	}
	if q.Maximum != nil && f > *q.Maximum {
		return fmt.Sprintf("must be at most %s, got %s", formatPlain(*q.Maximum), formatPlain(f))
	}
	return ""
}

func (q *Param) checkEnum(v any) string {
	if len(q.Enum) == 0 {
		return ""
	}
	for _, e := range q.Enum {
		if sameValue(e, v) {
			return ""
		}
	}
	allowed := make([]string, len(q.Enum))
	for i, e := range q.Enum {
		allowed[i] = fmt.Sprint(e)
	}
	got := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		got = strconv.Quote(clip(s))
	}
	return fmt.Sprintf("must be one of %s, got %s", strings.Join(allowed, ", "), got)
}

// sameValue compares an enum entry with a read value, whatever integer
// type the schema author wrote the entry in.
func sameValue(e, v any) bool {
	switch e := e.(type) {
	case int:
		n, ok := v.(int64)
		return ok && n == int64(e)
	case int64:
		n, ok := v.(int64)
		return ok && n == e
	default:
		return e == v
	}
}

func (q *Param) exampleHint() string {
	if q.Example == nil {
		return ""
	}
	b, err := json.Marshal(q.Example)
	if err != nil {
		return ""
	}
	return " such as " + string(b)
}

func (q *Param) patternMeaning() string {
	if m, ok := patternMeanings[q.Pattern]; ok {
		return m
	}
	return "text matching " + q.Pattern
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(value []byte) string {
	if len(value) == 0 {
		return "nothing"
	}
	switch c := value[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return "invalid JSON"
}

// clip shortens text quoted in a message, so that a megabyte of garbage
// does not come back in the answer.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// formatPlain writes a number without exponent and without needless
// zeros: 100, 10.5, 0.001.
func formatPlain(f float64) string {
	if math.Abs(f) >= 1e21 || (f != 0 && math.Abs(f) < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
