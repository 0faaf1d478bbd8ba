package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// procUsage is a process's memory and CPU as Linux's /proc tells them.
type procUsage struct {
	RSS int64         // resident set size now, bytes (VmRSS)
	HWM int64         // peak resident set size, bytes (VmHWM)
	CPU time.Duration // user + system time since the process started
}

// userHZ is the unit of the CPU times in /proc/PID/stat. The kernel fixes
// it at 100 for user space on every architecture Go runs on (USER_HZ);
// reading it through sysconf(_SC_CLK_TCK) would need cgo.
const userHZ = 100

var errNoProc = errors.New("process figures need Linux's /proc")

// readProc reads pid's figures from /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procUsage, error) {
	if runtime.GOOS != "linux" {
		return procUsage{}, errNoProc
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procUsage{}, err
	}
	cpu, err := parseStatCPU(string(stat))
	if err != nil {
		return procUsage{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procUsage{}, err
	}
	u := procUsage{CPU: cpu}
	if u.RSS, err = statusKB(string(status), "VmRSS"); err != nil {
		return procUsage{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	if u.HWM, err = statusKB(string(status), "VmHWM"); err != nil {
		return procUsage{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return u, nil
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) is in parentheses and may hold spaces
// and parentheses itself, so fields are counted after its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(stat[end+1:]) // fields[0] is field 3 (state)
	if len(fields) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time %q: %w", f, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// statusKB reads a "Key:   123 kB" line of /proc/PID/status, in bytes.
func statusKB(status, key string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected %q", key, strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}
