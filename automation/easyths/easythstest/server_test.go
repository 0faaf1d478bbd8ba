package easythstest

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var idPattern = regexp.MustCompile(`"operation_id":"([0-9a-f-]{36})"`)

// The shapes of each version, as seed 003 and REFERENCE.md give them.
func TestShapes(t *testing.T) {
	for _, tc := range []struct {
		v                     Version
		submit, result, state string
		bad                   string
	}{
		{V2, `{"success":true,"message":"操作已添加到队列","data":{"operation_id":"ID","status":"queued","queue_position":`,
			`{"success":true,"message":"操作成功","data":{"operation_id":"ID","result":{"success":true,"data":{`,
			`"status":"success"`, `"error_code":"invalid_params"`},
		{V17, `{"success":true,"message":"操作已添加到队列","data":{"operation_id":"ID","status":"queued","queue_position":`,
			`{"success":true,"data":{`, `"status":"completed"`, `"status":"queued"`},
	} {
		s := New(Options{Version: tc.v, Quotes: map[string]float64{"600000": 10.5}})
		status, body := get(t, "POST", s.URL+"/api/v1/operations/buy", `{"params":{"stock_code":"600000","price":10.5,"quantity":100},"priority":0}`)
		m := idPattern.FindStringSubmatch(body)
		if status != 200 || m == nil || !strings.HasPrefix(body, strings.ReplaceAll(tc.submit, "ID", m[1])) {
			t.Fatalf("%s submit: %d %s", tc.v, status, body)
		}
		_, body = get(t, "GET", s.URL+"/api/v1/operations/"+m[1]+"/result?timeout=5", "")
		if !strings.HasPrefix(body, strings.ReplaceAll(tc.result, "ID", m[1])) {
			t.Errorf("%s result: %s", tc.v, body)
		}
		if tc.v == V17 && strings.Contains(body, "contract_no") {
			t.Errorf("v1.7's buy names its order: %s", body)
		}
		_, body = get(t, "GET", s.URL+"/api/v1/operations/"+m[1]+"/status", "")
		if !strings.Contains(body, tc.state) {
			t.Errorf("%s status: %s", tc.v, body)
		}
		_, body = get(t, "POST", s.URL+"/api/v1/operations/buy", `{"params":{"stock_code":"600000","price":10.5,"quantity":150}}`)
		if !strings.Contains(body, tc.bad) {
			t.Errorf("%s invalid: %s", tc.v, body)
		}
		status, body = get(t, "GET", s.URL+"/api/v1/operations/nope/status", "")
		if status != 404 || (tc.v == V17) != strings.HasPrefix(body, `{"detail":`) {
			t.Errorf("%s unknown id: %d %s", tc.v, status, body)
		}
		s.Close()
	}
}
