package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServiceFlags(t *testing.T) {
	exeDir := t.TempDir()
	s, err := parseServiceFlags("install", nil, exeDir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.config != filepath.Join(exeDir, "config.toml") || s.log != filepath.Join(exeDir, "brokerd.log") {
		t.Errorf("defaults %+v", s)
	}
	s, err = parseServiceFlags("install", []string{"-config", "conf/b.toml", "-log", "logs/b.log"}, exeDir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.config) || !filepath.IsAbs(s.log) || !strings.HasSuffix(s.config, filepath.Join("conf", "b.toml")) {
		t.Errorf("paths not made absolute: %+v", s)
	}
	if got := s.serviceArgs(); !slices.Equal(got, []string{"service", "-config", s.config, "-log", s.log}) {
		t.Errorf("service args %q", got)
	}
	if _, err := parseServiceFlags("install", []string{"extra"}, exeDir, io.Discard); err == nil {
		t.Error("a stray argument was accepted")
	}
}

func TestServiceCommandsOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the real service manager")
	}
	for _, cmd := range []string{"install", "uninstall", "start", "stop", "service"} {
		handled, err := manageService([]string{cmd}, io.Discard, io.Discard)
		if !handled || !errors.Is(err, errNotWindows) || !strings.Contains(err.Error(), "deploy/brokerd.service") {
			t.Errorf("%s: handled %v, %v", cmd, handled, err)
		}
	}
	if handled, _ := manageService([]string{"-config", "x.toml"}, io.Discard, io.Discard); handled {
		t.Error("an ordinary command line was taken for a service command")
	}
}

// TestSystemdUnit: the shipped unit runs brokerd on its config, stops it
// with SIGTERM (a graceful shutdown) and waits longer than brokerd drains.
func TestSystemdUnit(t *testing.T) {
	f, err := os.Open("../../deploy/brokerd.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	if !strings.Contains(keys["ExecStart"], "brokerd -config ") {
		t.Errorf("ExecStart %q", keys["ExecStart"])
	}
	if keys["KillSignal"] != "SIGTERM" || keys["Restart"] != "on-failure" || keys["WantedBy"] != "multi-user.target" {
		t.Errorf("%v", keys)
	}
	stop, err := strconv.Atoi(keys["TimeoutStopSec"])
	if err != nil || time.Duration(stop)*time.Second <= drainOperations+drainHTTP {
		t.Errorf("TimeoutStopSec %q must exceed brokerd's drain of %v", keys["TimeoutStopSec"], drainOperations+drainHTTP)
	}
}

func TestLicenseIsMIT(t *testing.T) {
	b, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "MIT License") || !strings.Contains(string(b), "WITHOUT WARRANTY OF ANY KIND") {
		t.Error("LICENSE is not the MIT license")
	}
}
