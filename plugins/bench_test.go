package plugins

import (
	"encoding/json"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// BenchmarkValidateBuy measures the submit-time check of the most common
// request; run with -benchmem.
func BenchmarkValidateBuy(b *testing.B) {
	r := NewRegistry(StockSet(), ExchangeSet())
	for _, bc := range []struct{ name, raw string }{
		{"valid", `{"stock_code":"600000","price":10.50,"quantity":100}`},
		{"strings", `{"stock_code":"600000","price":"10.50","quantity":"100"}`},
		{"invalid", `{"stock_code":600000,"price":"abc","quantity":150,"foo":1}`},
	} {
		raw := json.RawMessage(bc.raw)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.Validate(automation.OpBuy, raw, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValidateAndEncodeBuy adds the canonical JSON stored with the
// operation, which every submit also pays for.
func BenchmarkValidateAndEncodeBuy(b *testing.B) {
	r := NewRegistry(StockSet(), ExchangeSet())
	raw := json.RawMessage(`{"stock_code":"600000","price":10.50,"quantity":100}`)
	b.ReportAllocs()
	for b.Loop() {
		p, _, _ := r.Validate(automation.OpBuy, raw, nil)
		_ = p.JSON()
	}
}
