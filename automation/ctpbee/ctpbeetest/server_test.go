package ctpbeetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func post(t *testing.T, s *Server, path, contentType, body, auth string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const form = "application/x-www-form-urlencoded"

func login(t *testing.T, s *Server) string {
	t.Helper()
	_, _, body := post(t, s, "/login", form, url.Values{"authorization": {"000000"}, "userid": {"u"}, "password": {"p"}}.Encode(), "")
	var a struct {
		Success bool
		Data    string
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil || !a.Success {
		t.Fatalf("login: %s", body)
	}
	return a.Data
}

// The answers as Python's json.dumps writes them, as text/html.
func TestAnswersAsTheBackendWritesThem(t *testing.T) {
	s := New(Config{UserID: "u", Password: "p"})
	defer s.Close()
	status, h, body := post(t, s, "/login", form, "authorization=1", "")
	if status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || body != `{"success": false, "msg": "\u6388\u6743\u7801\u9519\u8bef", "data": ""}` {
		t.Fatalf("%d %s %s", status, h.Get("Content-Type"), body)
	}
	token := login(t, s)
	tests := []struct {
		name, contentType, body, auth, want string
		status                              int
	}{
		{"no header", form, "", "", `"msg": "token error"`, 200},
		{"two spaces", form, "", "JWT  " + token, `"msg": "\u8bf7\u4f20\u9012\u6b63\u786e\u7684\u9a8c\u8bc1\u5934\u4fe1\u606f"`, 200},
		{"Bearer", form, "", "Bearer " + token, `\u8bf7\u4f20\u9012`, 200},
		{"a forged token", form, "", "JWT " + token + "x", `"msg": "token error"`, 200},
		{"a JSON body is ignored", "application/json", `{"local_symbol": "rb2501.SHFE"}`, "JWT " + token, `"msg": "\u53c2\u6570\u542b\u7a7a"`, 200},
		{"a non-numeric volume", form, "local_symbol=rb2501.SHFE&direction=long&offset=open&type=limit&price=1&volume=x&exchange=SHFE", "JWT " + token, "500 Internal Server Error", 500},
		{"an unknown direction", form, "local_symbol=rb2501.SHFE&direction=buy&offset=open&type=limit&price=1&volume=1&exchange=SHFE", "JWT " + token, `\u4e0b\u5355\u5931\u8d25`, 200},
		{"a placed order", form, "local_symbol=rb2501.SHFE&direction=LONG&offset=Open&type=limit&price=3500&volume=1&exchange=SHFE", "JWT " + token, `{"success": true, "msg": "\u6210\u529f\u4e0b\u5355", "data": ""}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := post(t, s, "/order_solve", tt.contentType, tt.body, tt.auth)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s, want %d with %s", status, body, tt.status, tt.want)
			}
		})
	}
	if s.OrdersReceived() != 1 {
		t.Errorf("%d orders received", s.OrdersReceived())
	}
	req, _ := http.NewRequest("GET", s.URL+"/order_solve", nil)
	req.Header.Set("Authorization", "JWT "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`"active_order_list": [{"direction": "\u591a", "exchange": "SHFE", "gateway_name": "ctp", "iterable_count": 0, "local_order_id": "ctp.1_-1139861502_1", "local_symbol": "rb2501.SHFE", "offset": "\u5f00", "order_id": "1_-1139861502_1", "price": 3500.0, "status": "\u672a\u6210\u4ea4"`,
		`"type": "\u9650\u4ef7", "volume": 1}]`,
		`"log_history": []`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GET /order_solve lacks %s:\n%s", want, b)
		}
	}
	// A newer login replaces the token.
	login(t, s)
	if _, _, body := post(t, s, "/order_solve", form, "", "JWT "+token); !strings.Contains(body, "token error") {
		t.Errorf("an old token: %s", body)
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{3500: "3500.0", 3500.5: "3500.5", 0.1: "0.1", 1e16: "1e+16", 1e-5: "1e-05", -2: "-2.0", 0: "0.0"} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := string(dumps("a\"\u00e9😀\n")); got != `"a\"\u00e9\ud83d\ude00\n"` {
		t.Errorf("dumps: %s", got)
	}
}

// /close_position answers 平仓请求发送成功 also when it sends nothing: an
// unknown direction, no holding, a full symbol; without a last price it
// is Flask's 500.
func TestClosePositionAsTheBackendDoes(t *testing.T) {
	s := New(Config{UserID: "u", Password: "p"})
	defer s.Close()
	s.SetPosition("rb2501.SHFE", "long", 1, 1, 3400)
	auth := "JWT " + login(t, s)
	closeWith := func(v url.Values) (int, string) {
		status, _, body := post(t, s, "/close_position", form, v.Encode(), auth)
		return status, body
	}
	base := url.Values{"local_symbol": {"rb2501.SHFE"}, "volume": {"1"}, "direction": {"short"}, "exchange": {"SHFE"}, "symbol": {"rb2501"}}
	if status, _ := closeWith(base); status != 500 {
		t.Fatalf("no last price: %d", status)
	}
	s.SetPrice("rb2501.SHFE", 3500)
	edit := func(k, v string) url.Values {
		c := url.Values{}
		for key, vals := range base {
			c[key] = vals
		}
		c.Set(k, v)
		return c
	}
	for _, v := range []url.Values{edit("direction", "sell"), edit("symbol", "rb2501.SHFE"), edit("direction", "long")} {
		if status, body := closeWith(v); status != 200 || !strings.Contains(body, `"success": true`) {
			t.Fatalf("%v: %d %s", v, status, body)
		}
	}
	if len(s.Orders()) != 0 {
		t.Fatalf("sent %v", s.Orders())
	}
	// Two lots, today's first: 平今 then 平昨.
	closeWith(edit("volume", "5"))
	orders := s.Orders()
	if len(orders) != 2 || orders[0].Offset != "closetoday" || orders[1].Offset != "closeyesterday" || s.PositionOf("rb2501.SHFE", "long") != (Position{}) {
		t.Fatalf("orders %v, left %v", orders, s.PositionOf("rb2501.SHFE", "long"))
	}
}
