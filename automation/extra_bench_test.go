package automation

import (
	"encoding/json"
	"testing"
)

func BenchmarkOrderJSON(b *testing.B) {
	type alias Order
	o := Order{ContractNo: "1001", Code: "600000", Name: "浦发银行", Side: Buy, Kind: "限价", Price: 10.5, Quantity: 100, Status: OrderPending, Date: "20260102", Time: "09:31:05", Market: "上海A股"}
	b.Run("with MarshalJSON", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(o)
		}
	})
	b.Run("plain struct", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(alias(o))
		}
	})
}
