package easytradertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The answers as server.py writes them, byte for byte.
func TestAnswersByteForByte(t *testing.T) {
	s := New(Options{Holdings: map[string]int64{"000001": 100}})
	defer s.Close()
	do := func(method, path, body string) (int, string, string) {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/balance", "", 400, `{"error":"<class 'KeyError'>: 'user'"}` + "\n"},
		{"POST", "/prepare", `{"broker":"universal_client","user":"u","password":"p"}`, 201, `{"msg":"login success"}` + "\n"},
		{"GET", "/balance", "", 200, `{"\u53ef\u53d6\u91d1\u989d":1000000.0,"\u53ef\u7528\u91d1\u989d":1000000.0,"\u603b\u8d44\u4ea7":1001000.0,"\u80a1\u7968\u5e02\u503c":1000.0,"\u8d44\u91d1\u4f59\u989d":1000000.0}` + "\n"},
		{"POST", "/buy", `{"security":"000001","price":10.5,"amount":100,"x":1}`, 400, `{"error":"<class 'TypeError'>: buy() got an unexpected keyword argument 'x'"}` + "\n"},
		{"POST", "/buy", `{"security":"000001","price":10.5,"amount":100}`, 201, `{"entrust_no":"1"}` + "\n"},
		{"POST", "/cancel_entrust", `{"entrust_no":"9"}`, 201, `{"message":"\u59d4\u6258\u5355\u72b6\u6001\u9519\u8bef\u4e0d\u80fd\u64a4\u5355, \u8be5\u59d4\u6258\u5355\u53ef\u80fd\u5df2\u7ecf\u6210\u4ea4\u6216\u8005\u5df2\u64a4"}` + "\n"},
		{"GET", "/exit", "", 200, `{"msg":"exit success"}` + "\n"},
	} {
		status, ctype, body := do(tc.method, tc.path, tc.body)
		if status != tc.status || body != tc.want || ctype != "application/json" {
			t.Errorf("%s %s: %d %s %q\nwant %d %q", tc.method, tc.path, status, ctype, body, tc.status, tc.want)
		}
	}
	if s.Placed() != 1 || s.Received("/buy") != 2 {
		t.Errorf("placed %d, received %d", s.Placed(), s.Received("/buy"))
	}
}
