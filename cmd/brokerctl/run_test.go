package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerd/brokerd/internal/brokerdtest"
	"github.com/brokerd/brokerd/server"
)

// ctl runs brokerctl against url with the environment given.
func ctl(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	return code, squeeze(out.String()), errOut.String()
}

// squeeze collapses the tables' padding, so that tests read "status: success".
func squeeze(s string) string { return spaces.ReplaceAllString(s, " ") }

var spaces = regexp.MustCompile(`[ \t]+`)

var idPattern = regexp.MustCompile(`operation:\s+(\S+)`)

func TestCommands(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{Terminals: []string{"sim", "paper"}})
	env := map[string]string{"BROKERD_URL": b.URL}

	code, out, errOut := ctl(t, env, "buy", "600000", "10.50", "100", "--priority", "5", "--wait")
	if code != exitOK || !strings.Contains(out, "status: success") || !strings.Contains(out, "priority: 5") {
		t.Fatalf("buy --wait: exit %d\n%s%s", code, out, errOut)
	}
	buyID := idPattern.FindStringSubmatch(out)[1]

	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   []string // substrings
		stderr   []string
	}{
		{"status", []string{"status", buyID}, exitOK, []string{"status: success", "name: buy"}, nil},
		{"result", []string{"result", buyID}, exitOK, []string{"success:", "true"}, nil},
		{"invalid params named at the field", []string{"buy", "600000", "0", "150"}, exitFailed, nil,
			[]string{"params.price", "invalid_params", "HTTP 422"}},
		{"unknown id", []string{"status", "nope"}, exitFailed, nil, []string{"not_found"}},
		{"submit any operation", []string{"submit", "holding_query", "return_type=json", "--wait"}, exitOK,
			[]string{"name: holding_query", "600000"}, nil},
		{"submit typed from the schema", []string{"submit", "sell", "stock_code=600000", "price=10.60", "quantity=100", "--terminal", "paper", "--wait=20s"},
			exitOK, []string{"terminal: paper", "status: success"}, nil},
		{"a rejected order fails with exit 1", []string{"sell", "600000", "10.60", "5000", "--wait"}, exitFailed,
			[]string{"status: failed", "error_code: rejected"}, nil},
		{"submit an unknown operation", []string{"submit", "fly"}, exitUsage, nil, []string{"unknown operation"}},
		{"submit a bad key=value", []string{"submit", "buy", "stock_code"}, exitUsage, nil, []string{"want key=value"}},
		{"ops", []string{"ops"}, exitOK, []string{"OPERATION", "buy", "holding_query"}, nil},
		{"ops NAME", []string{"ops", "buy"}, exitOK, []string{"stock_code", "quantity", "REQUIRED"}, nil},
		{"history", []string{"history", "--name", "buy", "--limit", "5"}, exitOK, []string{buyID, "success"}, nil},
		{"history bad filter", []string{"history", "--status", "lost"}, exitFailed, nil, []string{"status: must be"}},
		{"history bad date", []string{"history", "--since", "yesterday"}, exitUsage, nil, []string{"--since"}},
		{"stats", []string{"stats"}, exitOK, []string{"TERMINAL", "sim", "paper", "idle"}, nil},
		{"health", []string{"health"}, exitOK, []string{"healthy", "ready"}, nil},
		{"no command", nil, exitUsage, nil, []string{"usage:"}},
		{"unknown command", []string{"fly"}, exitUsage, nil, []string{`unknown command "fly"`}},
		{"unknown flag", []string{"stats", "--bogus"}, exitUsage, nil, []string{"bogus"}},
		{"missing arguments", []string{"buy", "600000"}, exitUsage, nil, []string{"CODE PRICE QUANTITY"}},
		{"bad wait", []string{"buy", "600000", "10.5", "100", "--wait=soon"}, exitUsage, nil, []string{"--wait"}},
		{"help", []string{"help"}, exitOK, []string{"commands:"}, nil},
		{"completion without a shell", []string{"completion"}, exitUsage, nil, []string{"bash|zsh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := ctl(t, env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestPauseCancelResumeJSON(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	env := map[string]string{"BROKERD_URL": b.URL}

	if code, out, errOut := ctl(t, env, "pause", "--terminal", "sim"); code != exitOK || !strings.Contains(out, "paused: sim") {
		t.Fatalf("pause: %d %s %s", code, out, errOut)
	}
	code, out, errOut := ctl(t, env, "--json", "sell", "600000", "10.60", "100", "--key", "ctl-sell-1")
	if code != exitOK {
		t.Fatalf("sell: %d %s %s", code, out, errOut)
	}
	var sub struct {
		OperationID   string `json:"operation_id"`
		Status        string `json:"status"`
		QueuePosition *int   `json:"queue_position"`
	}
	if err := json.Unmarshal([]byte(out), &sub); err != nil || sub.Status != "queued" || sub.QueuePosition == nil {
		t.Fatalf("--json submit: %v\n%s", err, out)
	}
	code, out, _ = ctl(t, env, "sell", "600000", "10.60", "100", "--key", "ctl-sell-1")
	if code != exitOK || !strings.Contains(out, "duplicate:") || !strings.Contains(out, sub.OperationID) {
		t.Fatalf("replay: %d\n%s", code, out)
	}
	code, out, _ = ctl(t, env, "stats", "--json")
	var st struct {
		Terminals map[string]struct {
			Paused bool `json:"paused"`
			Queued int  `json:"queued_count"`
		} `json:"terminals"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != exitOK || !st.Terminals["sim"].Paused || st.Terminals["sim"].Queued != 1 {
		t.Fatalf("stats --json: %v %s", err, out)
	}
	if code, out, _ := ctl(t, env, "cancel", sub.OperationID); code != exitOK || !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel: %d %s", code, out)
	}
	if code, _, errOut := ctl(t, env, "cancel", sub.OperationID); code != exitFailed || !strings.Contains(errOut, "conflict") {
		t.Fatalf("cancel again: %d %s", code, errOut)
	}
	if code, _, _ := ctl(t, env, "result", sub.OperationID); code != exitFailed {
		t.Fatalf("result of a cancelled operation: exit %d, want 1", code)
	}
	if code, out, _ := ctl(t, env, "resume"); code != exitOK || !strings.Contains(out, "resumed: sim") {
		t.Fatalf("resume: %d %s", code, out)
	}
}

// lockedBuffer is written by run's goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEventsFollowsUntilInterrupted(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	env := map[string]string{"BROKERD_URL": b.URL}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"events", "--operation", "buy"}, func(k string) string { return env[k] }, &out, &errOut)
	}()
	// The stream may not be open yet when the first buy runs: buy until
	// one has been seen finishing.
	deadline := time.After(20 * time.Second)
	for !strings.Contains(out.String(), "operation success") {
		if code, o, e := ctl(t, env, "buy", "600000", "10.50", "100", "--wait"); code != exitOK {
			t.Fatalf("buy: %d %s %s", code, o, e)
		}
		select {
		case <-deadline:
			t.Fatalf("no success event seen:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "operation queued") || !strings.Contains(out.String(), "operation running") {
		t.Fatalf("events:\n%s", out.String())
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("events exited %d after the interrupt: %s", code, errOut.String())
	}
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{Keys: []server.APIKey{{Name: "k", Key: "ctl-key-0123456789abcdef"}}})
	if code, _, errOut := ctl(t, map[string]string{"BROKERD_URL": b.URL}, "stats"); code != exitFailed || !strings.Contains(errOut, "unauthorized") {
		t.Fatalf("without API_KEY: %d %s", code, errOut)
	}
	if code, out, errOut := ctl(t, map[string]string{"BROKERD_URL": b.URL, "API_KEY": "ctl-key-0123456789abcdef"}, "stats"); code != exitOK {
		t.Fatalf("with API_KEY: %d %s %s", code, out, errOut)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{{"stats"}, {"--url", "http://" + addr, "health"}, {"buy", "600000", "10.50", "100"}, {"events"}} {
		code, _, errOut := ctl(t, map[string]string{"BROKERD_URL": "http://" + addr}, args...)
		if code != exitUnreachable || !strings.Contains(errOut, "unreachable") {
			t.Errorf("%v: exit %d, want 3: %s", args, code, errOut)
		}
	}
	if code, _, _ := ctl(t, map[string]string{"BROKERD_URL": "not a url"}, "stats"); code != exitUsage {
		t.Errorf("bad BROKERD_URL: exit %d, want 2", code)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		code, out, _ := ctl(t, nil, "completion", shell)
		if code != exitOK || !strings.Contains(out, "complete -F _brokerctl brokerctl") || !strings.Contains(out, "--priority") {
			t.Fatalf("%s: %d\n%s", shell, code, out)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script")
	}
	_, script, _ := ctl(t, nil, "completion", "bash")
	// Complete "brokerctl bu" and "brokerctl buy 600000 --pri".
	probe := script + `
COMP_WORDS=(brokerctl bu); COMP_CWORD=1; _brokerctl; echo "${COMPREPLY[*]}"
COMP_WORDS=(brokerctl buy 600000 --pri); COMP_CWORD=3; _brokerctl; echo "${COMPREPLY[*]}"
`
	out, err := exec.Command(bash, "-c", probe).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); len(got) != 2 || got[0] != "buy" || got[1] != "--priority" {
		t.Fatalf("completions %q", got)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args     []string
		wantPos  []string
		priority int
		wait     string
	}{
		{[]string{"600000", "10.50", "100", "--priority", "5", "--wait"}, []string{"600000", "10.50", "100"}, 5, "true"},
		{[]string{"--priority=3", "600000", "--wait=5s", "-1.5"}, []string{"600000", "-1.5"}, 3, "5s"},
		{[]string{"a", "--", "--priority", "9"}, []string{"a", "--priority", "9"}, 0, ""},
	}
	for _, tt := range tests {
		var sf submitFlags
		fs := newFlagSet()
		sf.declare(fs)
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if strings.Join(pos, " ") != strings.Join(tt.wantPos, " ") || sf.priority != tt.priority || sf.wait.String() != tt.wait {
			t.Errorf("%v: positional %v priority %d wait %q", tt.args, pos, sf.priority, sf.wait.String())
		}
	}
}
