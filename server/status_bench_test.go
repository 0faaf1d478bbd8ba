package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// BenchmarkEncodeStatus is the answer of GET /operations/{id}/status: the
// StatusView built from the queue's snapshot and encoded in its envelope,
// as reply does. A queued operation has no result; a finished buy carries
// the order the broker recorded.
func BenchmarkEncodeStatus(b *testing.B) {
	submitted := time.Date(2026, 1, 2, 10, 30, 0, 123456000, time.Local)
	queued := queue.Operation{
		ID: "0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69", Name: "buy", Terminal: "sim", Priority: 5,
		Params:      json.RawMessage(`{"stock_code":"600000","price":10.5,"quantity":100}`),
		Status:      queue.StatusQueued,
		SubmittedAt: submitted, SideEffect: true, Seq: 42,
	}
	result, err := json.Marshal(plugins.OrderResult{
		StockCode: "600000", Price: "10.50", Quantity: 100, Operation: "buy", Success: true, Message: "委托成功",
		ContractNo: "1000042", Order: automation.Order{ContractNo: "1000042", Code: "600000", Name: "浦发银行",
			Side: automation.Buy, Kind: "限价", Price: 10.5, Quantity: 100, Filled: 100, AvgPrice: 10.5,
			Status: automation.OrderFilled, Date: "20260102", Time: "10:30:00", Market: "上海A股"},
	})
	if err != nil {
		b.Fatal(err)
	}
	finished := queued
	finished.Status, finished.Result, finished.Message = queue.StatusSuccess, result, "委托成功"
	finished.StartedAt, finished.FinishedAt = submitted.Add(2*time.Millisecond), submitted.Add(3*time.Millisecond)

	now := submitted.Add(time.Second)
	for _, bc := range []struct {
		name string
		op   queue.Operation
	}{{"queued", queued}, {"finished buy", finished}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				env := Envelope{Success: true, Data: newStatusView(bc.op, now), Timestamp: formatTime(now)}
				out, err := json.Marshal(env)
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}
