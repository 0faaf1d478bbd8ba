package easyths

import (
	"testing"
)

func TestParseResultShapes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		final   bool
		success bool
		status  string
		msg     string
	}{
		{`{"success":true,"data":{"stock_code":"600000"},"message":null,"timestamp":"2025-12-26T10:30:00.123456"}`, true, true, "success", ""},
		{`{"success":false,"data":null,"message":"资金不足","timestamp":"x"}`, true, false, "failed", "资金不足"},
		{`{"success":true,"data":{"success":false,"message":"委托失败"},"message":null}`, true, false, "failed", "委托失败"},
		{`{"success":true,"message":"操作成功","data":{"operation_id":"a","result":{"success":true,"data":{},"message":null}}}`, true, true, "success", ""},
		{`{"success":true,"message":"操作成功","data":{"operation_id":"a","status":"completed","result":{"success":true,"data":{}}}}`, true, true, "success", ""},
		{`{"success":true,"message":"x","data":{"operation_id":"a","status":"failed","error_code":"client_rejected","result":{"success":false,"message":"废单"}}}`, true, false, "failed", "废单"},
		{`{"success":true,"message":"x","data":{"operation_id":"a","status":"running"}}`, false, false, "", ""},
	} {
		o, final := parseResult([]byte(tc.in))
		if final != tc.final || (final && (o.success != tc.success || o.status != tc.status || o.message != tc.msg)) {
			t.Errorf("%s: %+v final=%v", tc.in, o, final)
		}
	}
}

// FuzzParseResult: any /result or /status body is read without panic,
// and a success is never read from a body that says failed.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"data":{"a":1},"message":null}`,
		`{"success":true,"data":{"operation_id":"x","status":"failed","result":{"success":true}}}`,
		`{"detail":"操作超时"}`, `null`, `[]`, `{"data":"空数据"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, final := parseResult(b)
		if final && o.success && o.status != "success" {
			t.Fatalf("success with status %q from %s", o.status, b)
		}
		_, _ = rows(o.data, "holdings")
	})
}
