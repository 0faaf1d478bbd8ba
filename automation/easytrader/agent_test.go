package easytrader

import (
	"strings"
	"testing"
)

func TestParseAgentError(t *testing.T) {
	for body, want := range map[string][2]string{
		`{"error": "<class 'KeyError'>: 'user'"}`:                              {"KeyError", "'user'"},
		`{"error":"<class 'easytrader.exceptions.TradeError'>: 提示信息: 可用资金不足"}`: {"easytrader.exceptions.TradeError", "提示信息: 可用资金不足"},
		`{"error":"plain text"}`: {"", "plain text"},
		`<html>oops</html>`:      {"", "<html>oops</html>"},
	} {
		e := parseAgentError([]byte(body))
		if e.class != want[0] || e.message != want[1] {
			t.Errorf("%s: %q %q", body, e.class, e.message)
		}
	}
	if !parseAgentError([]byte(`{"error": "<class 'KeyError'>: 'user'"}`)).loggedOut() {
		t.Error("KeyError 'user' is the logged-out answer")
	}
}

// FuzzAgentAnswers: any body of a 400 or a buy is read without panic, and
// an entrust_no is only ever read from a body that has one.
func FuzzAgentAnswers(f *testing.F) {
	for _, s := range []string{`{"entrust_no":"123"}`, `{"entrust_no":123}`, `{"message":"success"}`,
		`{"error":"<class 'X'>: y"}`, `null`, `[]`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseAgentError(b)
		no, _ := entrustNo(b)
		if no != "" && !strings.Contains(string(b), "entrust_no") && !strings.Contains(string(b), "编号") && !strings.Contains(string(b), `\u`) {
			t.Fatalf("entrust_no %q from %s", no, b)
		}
	})
}
