package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadmeTour runs the README's tour, as written, against a brokerd
// started from the shipped config.toml (on a free port, with a fresh
// journal), so the first thing a user tries keeps working.
func TestReadmeTour(t *testing.T) {
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

	shipped, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	base, _, stop := startBrokerdWith(t, func(dir string) string {
		cfg := strings.Replace(string(shipped), "port = 7648", "port = 0", 1)
		return strings.Replace(cfg, `path = "brokerd.db"`, `path = "`+filepath.ToSlash(filepath.Join(dir, "brokerd.db"))+`"`, 1)
	})
	script := strings.Replace(tour, "http://127.0.0.1:7648", base, 1)
	if script == tour {
		t.Fatal("the tour no longer sets BASE to http://127.0.0.1:7648")
	}
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"data":{"status":"pong"}`,
		`"message":"成功提交600000的买入委托"`,  // the buy's result
		`"合同编号":"`,                     // …with its order number
		`"status":"success"`,           // its status
		`"holdings":[{"证券代码":"600000"`, // the holding it made
		`"field":"params.stock_code"`,  // the 422 names each field…
		`"field":"params.price"`,
		`"error_code":"invalid_params"`,
		`"message":"operation cancelled"`, // the queued sell, cancelled
		`"queued_count":0`,
		`"cancelled_count":1`,
		`"client_order_id":"tour-order-1"`, // the paper order, by its key…
		`"status":"FILLED"`,                // …filled at the quote
		`"quantity":"0.01"`,                // …with exact decimals as strings
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the tour's output lacks %s\n%s", want, out)
		}
	}
	// Every answer is an envelope on its own line; only the deliberate 422
	// may fail.
	var failed []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var env struct {
			Success   *bool   `json:"success"`
			ErrorCode *string `json:"error_code"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil || env.Success == nil {
			t.Errorf("not an envelope: %s", line)
			continue
		}
		if !*env.Success {
			failed = append(failed, *env.ErrorCode)
		}
	}
	if !slices.Equal(failed, []string{"invalid_params"}) {
		t.Errorf("failed answers %v; only the deliberate invalid_params should fail\n%s", failed, out)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
}
