package plugins

import (
	"encoding/json"
	"github.com/shopspring/decimal"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// FuzzValidate proves that no input makes Validate panic, that a rejection
// always names its fields, and that accepted params are canonical: their
// JSON validates again, to the same JSON. `go test` runs the seed corpus;
// `go test -fuzz FuzzValidate ./plugins` explores.
func FuzzValidate(f *testing.F) {
	r := NewRegistry(StockSet(), ExchangeSet())
	names := r.Names()
	for i, name := range names {
		p, _ := r.Lookup(name)
		example, _ := json.Marshal(p.Example)
		f.Add(uint8(i), example)
	}
	for _, seed := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`, `{`, `{"a":}`, `{} {}`, `nul`,
		`{"stock_code":"600000","price":"10.50","quantity":"100"}`,
		`{"stock_code":600000,"price":"abc","quantity":100.5,"foo":1}`,
		`{"stock_code":"000001","price":1e400,"quantity":1e400}`,
		`{"stock_code":"113050","price":100.123,"quantity":15}`,
		`{"stock_code":"510300","price":-0,"quantity":-0}`,
		`{"stock_code":"600000","price":"-0.0","quantity":"0.0"}`,
		`{"stock_code":"600000","price":1e-7,"quantity":9007199254740993}`,
		`{"stock_code":"600000","price":10.5,"price":11,"quantity":100}`,
		`{"stock_code":null,"price":null,"quantity":null}`,
		`{"stock_code":"","return_type":"","time_range":""}`,
		`{"stock_code":"\u0000\u0000\u0000\u0000\u0000\u0000"}`,
		`{"stock_code":"６０００００"}`,
		`{"return_type":"\ud800"}`,
		`{"market":"上海","time_range":"7天期","amount":"1000.000"}`,
		`{"stop_loss_percent":"100","stop_profit_percent":100,"stock_code":"600000"}`,
		`{"expire_days":30.0000000000000001,"stock_code":"600000","target_price":0.001,"quantity":10}`,
		`{"contract_no":"` + strings.Repeat("9", 32) + `","cancel_type":"sell"}`,
		`{"stock_code":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"x":{"y":{"z":[1,2,{"w":null}]}}}`,
	} {
		for i := range names {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		name := names[int(which)%len(names)]
		params, errs, err := r.Validate(name, raw, nil)
		if err != nil {
			t.Fatalf("Validate(%s): error %v for a known operation", name, err)
		}
		if errs != nil {
			if params != nil {
				t.Fatalf("Validate(%s, %q): params %v with errors %v", name, raw, params, errs)
			}
			for _, e := range errs {
				if !strings.HasPrefix(e.Field, "params") || e.Reason == "" {
					t.Fatalf("Validate(%s, %q): unclear error %+v", name, raw, e)
				}
			}
			return
		}
		canonical := params.JSON()
		again, errs, _ := r.Validate(name, canonical, nil)
		if errs != nil {
			t.Fatalf("Validate(%s, %q) accepted, but its canonical form %s is refused: %v", name, raw, canonical, errs)
		}
		if string(again.JSON()) != string(canonical) {
			t.Fatalf("Validate(%s, %q): canonical %s validates to %s", name, raw, canonical, again.JSON())
		}
		// Every accepted value has its schema type.
		p, _ := r.Lookup(name)
		for k, v := range params {
			q, ok := p.param(k)
			if !ok {
				t.Fatalf("Validate(%s): params carry unknown %q", name, k)
			}
			var typed bool
			switch q.Type {
			case TypeString:
				_, typed = v.(string)
			case TypeInteger:
				_, typed = v.(int64)
			case TypeNumber:
				_, typed = v.(float64)
			case TypeBoolean:
				_, typed = v.(bool)
			case TypeDecimal:
				_, typed = v.(decimal.Decimal)
			}
			if !typed {
				t.Fatalf("Validate(%s): %s = %#v is not a %s", name, k, v, q.Type)
			}
		}
		if name == automation.OpBuy && lotError(params.str("stock_code"), params.int("quantity")) != "" {
			t.Fatalf("Validate(buy, %q) accepted a bad lot", raw)
		}
	})
}
