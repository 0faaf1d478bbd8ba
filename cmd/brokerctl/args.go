package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// parseInterspersed parses fs's flags wherever they are among args
// ("buy 600000 10.50 100 --priority 5 --wait"), and returns the other
// arguments in order. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' || isNumber(a) {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if hasValue || f == nil || isBoolFlag(f) {
			continue // fs.Parse names an unknown flag
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return positional, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isNumber tells a negative number from a flag.
func isNumber(s string) bool {
	_, err := fmt.Sscanf(s, "%g", new(float64))
	return err == nil && strings.Trim(s, "-.0123456789eE+") == ""
}

// waitFlag is --wait (until the operation has finished) or --wait=30s (at
// most that long).
type waitFlag struct {
	set bool
	max time.Duration // 0: as long as it takes
}

func (w *waitFlag) IsBoolFlag() bool { return true }

func (w *waitFlag) String() string {
	if !w.set {
		return ""
	}
	if w.max == 0 {
		return "true"
	}
	return w.max.String()
}

func (w *waitFlag) Set(v string) error {
	switch v {
	case "true":
		w.set, w.max = true, 0
		return nil
	case "false":
		w.set = false
		return nil
	}
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("want --wait or --wait=DURATION such as 30s")
	}
	w.set, w.max = true, d
	return nil
}

// durationFlag takes Go durations (1m30s) or plain seconds (90, 0.5).
type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string {
	if f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(v string) error {
	d, err := parseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 30s or 1.5 (seconds)")
	}
	f.d = d
	return nil
}

func parseDuration(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	var secs float64
	if _, err := fmt.Sscanf(v, "%g", &secs); err != nil || strings.Trim(v, ".0123456789") != "" {
		return 0, fmt.Errorf("not a duration: %q", v)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// newFlagSet is a flag set that reports errors to its caller only.
func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("brokerctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
