package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation/easyths/easythstest"
	"github.com/brokerd/brokerd/automation/easytrader/easytradertest"
)

const (
	agentsTHSUser     = "ths-user-4471"
	agentsTHSPassword = "ths-Password-9902"
	agentsEasyTHSKey  = "easyths-Key-31c0de"
)

// The same A-share script against the sim, an easytrader agent and an
// EasyTHS server, changing only "terminal"; then a buy whose answer is lost
// on each agent, settled and never sent twice.
func TestEndToEndAgents(t *testing.T) {
	agent := easytradertest.New(easytradertest.Options{Holdings: map[string]int64{"600000": 1000}, Quotes: map[string]float64{"600000": 10.50}})
	defer agent.Close()
	server := easythstest.New(easythstest.Options{APIKey: agentsEasyTHSKey, Holdings: map[string]int64{"600000": 1000}, Quotes: map[string]float64{"600000": 10.50}})
	defer server.Close()

	config := func(dir string) string {
		return e2eConfig(dir) + `
[[terminals]]
name = "ths"
driver = "easytrader"
[terminals.options]
url = "` + agent.URL + `"
prepare = true
broker = "universal_client"
user_env = "THS_USER"
password_env = "THS_PASSWORD"
exe_path = 'C:\同花顺\xiadan.exe'
request_timeout = "2s"
probe_every = "1h"

[[terminals]]
name = "easyths"
driver = "easyths"
[terminals.options]
url = "` + server.URL + `"
api_key_env = "EASYTHS_API_KEY"
request_timeout = "5s"
probe_every = "1h"
`
	}
	env := map[string]string{"THS_USER": agentsTHSUser, "THS_PASSWORD": agentsTHSPassword, "EASYTHS_API_KEY": agentsEasyTHSKey}
	base, logs, stop := startBrokerdEnv(t, config, func(k string) string { return env[k] })
	api := client{t: t, base: base, key: e2eKey}

	health := client{t: t, base: base}.do("GET", "/api/v1/system/health", nil)
	terms, _ := health.data()["components"].(map[string]any)["terminals"].(map[string]any)
	for _, name := range []string{"sim", "ths", "easyths"} {
		if terms[name] != "ready" {
			t.Fatalf("terminal %s is %v: %v", name, terms[name], health.body)
		}
	}

	for _, term := range []string{"sim", "ths", "easyths"} {
		t.Run(term, func(t *testing.T) {
			api := client{t: t, base: base, key: e2eKey}
			run := func(op string, params map[string]any) answer {
				t.Helper()
				a := api.do("POST", "/api/v1/operations/"+op+"?wait=20", map[string]any{"params": params, "terminal": term})
				if a.status != 200 || a.body["success"] != true {
					t.Fatalf("%s on %s: %d %v", op, term, a.status, a.body)
				}
				r, _ := a.data()["result"].(map[string]any)
				data, _ := r["data"].(map[string]any)
				return answer{status: a.status, body: data}
			}
			buy := run("buy", map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100})
			if no, _ := buy.body["contract_no"].(string); no == "" {
				t.Errorf("buy on %s has no contract number: %v", term, buy.body)
			}
			holdings := run("holding_query", map[string]any{"return_type": "json"})
			if !strings.Contains(mustJSON(t, holdings.body["holdings"]), `"证券代码":"600000"`) {
				t.Errorf("holdings on %s: %v", term, holdings.body)
			}
			funds := run("funds_query", map[string]any{})
			if _, ok := funds.body["资金余额"].(float64); !ok {
				t.Errorf("funds on %s: %v", term, funds.body)
			}
			low := run("buy", map[string]any{"stock_code": "600000", "price": 10.00, "quantity": 100})
			no, _ := low.body["contract_no"].(string)
			orders := run("order_query", map[string]any{"stock_code": "600000"})
			if !strings.Contains(mustJSON(t, orders.body["orders"]), `"合同编号":"`+no+`"`) {
				t.Errorf("orders on %s lack %s: %v", term, no, orders.body)
			}
			cancel := run("order_cancel", map[string]any{"contract_no": no})
			if cancel.body["cancelled_count"] != 1.0 {
				t.Errorf("cancel on %s: %v", term, cancel.body)
			}
			unsupported := api.do("POST", "/api/v1/operations/market_buy", map[string]any{
				"params": map[string]any{"stock_code": "600000", "quantity": 100}, "terminal": term})
			if term == "ths" && (unsupported.status != 422 || unsupported.body["error_code"] != "unsupported") {
				t.Errorf("market_buy on easytrader: %d %v", unsupported.status, unsupported.body)
			}
			if term != "ths" && unsupported.status != 200 {
				t.Errorf("market_buy on %s: %d %v", term, unsupported.status, unsupported.body)
			}
		})
	}

	// A buy whose answer is lost: the agent placed it and reset the
	// connection; brokerd settles it from today's entrusts.
	placed, received := agent.Placed(), agent.Received("/buy")
	agent.Inject(easytradertest.Fault{Path: "/buy", Kind: easytradertest.Reset, Carried: true})
	lost := api.do("POST", "/api/v1/operations/buy?wait=20", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.20, "quantity": 200}, "terminal": "ths"})
	if lost.status != 200 || lost.body["success"] != true {
		t.Fatalf("lost-answer buy on easytrader: %d %v", lost.status, lost.body)
	}
	if r, _ := lost.data()["result"].(map[string]any); !strings.Contains(mustJSON(t, r), `"contract_no":"`+agent.Contract(agent.Placed())+`"`) {
		t.Errorf("settled as %v, want contract %s", r, agent.Contract(agent.Placed()))
	}
	if p, r := agent.Placed()-placed, agent.Received("/buy")-received; p != 1 || r != 1 {
		t.Errorf("the lost-answer buy was placed %d times, sent %d times", p, r)
	}

	// The same at EasyTHS: its /result answer lost; settled by the id.
	submitted := server.Submitted("buy")
	server.Inject(easythstest.Fault{Route: "result", Kind: easythstest.Reset})
	lost = api.do("POST", "/api/v1/operations/buy?wait=20", map[string]any{
		"params": map[string]any{"stock_code": "600000", "price": 10.20, "quantity": 200}, "terminal": "easyths"})
	if lost.status != 200 || lost.body["success"] != true {
		t.Fatalf("lost-answer buy on easyths: %d %v", lost.status, lost.body)
	}
	if n := server.Submitted("buy") - submitted; n != 1 {
		t.Errorf("the lost-answer buy was submitted to EasyTHS %d times", n)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, secret := range []string{agentsTHSUser, agentsTHSPassword, agentsEasyTHSKey} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret (%s…) is in brokerd's log", secret[:4])
		}
	}
	if p := agent.Prepares(); len(p) == 0 || p[0].User != agentsTHSUser || p[0].Password != agentsTHSPassword || p[0].ExePath != `C:\同花顺\xiadan.exe` {
		t.Errorf("prepare: %+v", p)
	}
	if agent.Overlaps() != 0 {
		t.Errorf("%d calls overlapped at the easytrader agent", agent.Overlaps())
	}
}

// The README's tour, unchanged, with an easytrader agent or an EasyTHS
// server as the default terminal.
func TestReadmeTourOnAgents(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "grep", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the tour needs %s", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "## A short tour")
	if !ok {
		t.Fatal("README has no tour")
	}
	_, tour, _ = strings.Cut(tour, "```sh\n")
	tour, _, _ = strings.Cut(tour, "```")

	for _, driver := range []string{"easytrader", "easyths"} {
		t.Run(driver, func(t *testing.T) {
			var options string
			switch driver {
			case "easytrader":
				agent := easytradertest.New(easytradertest.Options{LoggedIn: true, Holdings: map[string]int64{"600000": 1000}})
				defer agent.Close()
				options = "url = \"" + agent.URL + "\"\nprepare = false\nprobe_every = \"1h\"\n"
			case "easyths":
				server := easythstest.New(easythstest.Options{Holdings: map[string]int64{"600000": 1000}, Quotes: map[string]float64{"600000": 10.50}})
				defer server.Close()
				options = "url = \"" + server.URL + "\"\nprobe_every = \"1h\"\n"
			}
			base, _, stop := startBrokerdEnv(t, func(dir string) string {
				return `
[api]
host = "127.0.0.1"
port = 0

[store]
path = "` + filepath.ToSlash(filepath.Join(dir, "brokerd.db")) + `"

[[terminals]]
name = "real"
driver = "` + driver + `"
[terminals.options]
` + options
			}, func(string) string { return "" })
			script := strings.Replace(tour, "http://127.0.0.1:7648", base, 1)
			out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("the tour failed: %v\n%s", err, out)
			}
			for _, want := range []string{
				`"message":"成功提交600000的买入委托"`, `"合同编号":"`, `"status":"success"`,
				`"holdings":[{"证券代码":"600000"`, `"field":"params.stock_code"`, `"error_code":"invalid_params"`,
				`"message":"operation cancelled"`, `"queued_count":0`,
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("the tour's output on %s lacks %s\n%s", driver, want, out)
				}
			}
			if err := stop(); err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
}
