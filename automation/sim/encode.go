package sim

import (
	"bytes"
	"encoding/json"
)

// encodeCache keeps the JSON of records that can no longer change —
// trades, and orders once they are filled, cancelled or rejected — so that
// saving the ledger after each action copies the history instead of
// encoding it again. It is derived, kept under the terminal's lock, and
// emptied whenever the state is replaced or records are retired from it.
type encodeCache struct {
	orders map[*order][]byte
	trades map[*trade][]byte
}

func (c *encodeCache) reset() {
	c.orders = make(map[*order][]byte)
	c.trades = make(map[*trade][]byte)
}

// encodeState is json.Marshal(st), byte for byte (a test holds it to
// that), with finished records taken from the cache.
func (t *Terminal) encodeState() ([]byte, error) {
	st := t.st
	b := bytes.NewBuffer(make([]byte, 0, len(t.saved)+1024))
	fields := []struct {
		name string
		v    any
	}{
		{"genesis", st.Genesis},
		{"today", st.Today},
		{"cash_cents", st.Cash},
		{"positions", st.Positions},
		{"orders", nil},
		{"trades", nil},
		{"condition_orders", st.Conditions},
		{"repo_loans", st.Loans},
		{"quotes", st.Quotes},
		{"last_contract_no", st.LastContractNo},
		{"last_condition_id", st.LastConditionID},
		{"last_archive_seq", st.LastArchiveSeq},
	}
	for i, f := range fields {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f.name + `":`)
		var err error
		switch f.name {
		case "orders":
			err = encodeList(b, st.Orders, t.enc.orders, func(o *order) bool { return !o.open() })
		case "trades":
			err = encodeList(b, st.Trades, t.enc.trades, func(*trade) bool { return true })
		default:
			var js []byte
			if js, err = json.Marshal(f.v); err == nil {
				b.Write(js)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeList writes a JSON array of records, reusing the cached encoding
// of those final says will not change again. A nil list is null, as
// json.Marshal writes it.
func encodeList[T any](b *bytes.Buffer, list []*T, cache map[*T][]byte, final func(*T) bool) error {
	if list == nil {
		b.WriteString("null")
		return nil
	}
	b.WriteByte('[')
	for i, r := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		js, ok := cache[r]
		if !ok {
			var err error
			if js, err = json.Marshal(r); err != nil {
				return err
			}
			if final(r) {
				cache[r] = js
			}
		}
		b.Write(js)
	}
	b.WriteByte(']')
	return nil
}
