package automation

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// A real terminal (an easytrader agent over a broker's client) shows
// columns the domain types have no field for, and which ones depends on the
// broker. They are kept, not dropped: Order and Position carry them in
// Extra as a JSON object, and their JSON writes them inline after the fixed
// fields, so a script sees the terminal's row as it was. Without extras
// (the sim) the JSON is exactly the struct's own. Decoding ignores them
// (nothing reads these rows back into the types).

// MarshalJSON writes o with its extra columns inline.
func (o Order) MarshalJSON() ([]byte, error) {
	type plain Order
	return spliceExtra(plain(o), o.Extra)
}

// MarshalJSON writes p with its extra columns inline.
func (p Position) MarshalJSON() ([]byte, error) {
	type plain Position
	return spliceExtra(plain(p), p.Extra)
}

// OrderExtra encodes the columns of an order row that have no field on
// Order, for Order.Extra: sorted, and without any key a field is written
// under. It returns "" when none is left.
func OrderExtra(columns map[string]any) string { return encodeExtra(columns, orderKeys) }

// PositionExtra is OrderExtra for Position.
func PositionExtra(columns map[string]any) string { return encodeExtra(columns, positionKeys) }

var (
	orderKeys    = jsonKeys(reflect.TypeFor[Order]())
	positionKeys = jsonKeys(reflect.TypeFor[Position]())
)

// jsonKeys are the keys a struct's fields are written under.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := make(map[string]bool)
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	return keys
}

func encodeExtra(columns map[string]any, fixed map[string]bool) string {
	kept := make(map[string]any, len(columns))
	for k, v := range columns {
		if !fixed[k] {
			kept[k] = v
		}
	}
	if len(kept) == 0 {
		return ""
	}
	b, err := json.Marshal(kept) // maps encode with sorted keys
	if err != nil {
		return ""
	}
	return string(b)
}

// spliceExtra writes v, then the members of the JSON object extra inside
// the same object. An extra that is not a non-empty object is left out.
func spliceExtra(v any, extra string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) < 3 || extra[0] != '{' || !json.Valid([]byte(extra)) {
		return b, err
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(extra))
	buf.Write(b[:len(b)-1])
	if len(b) > 2 {
		buf.WriteByte(',')
	}
	buf.WriteString(extra[1:])
	return buf.Bytes(), nil
}
