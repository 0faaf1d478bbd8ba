package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// header prints the machine, so that a figure is never read without it.
func (b *bench) header() {
	fmt.Fprintf(b.out, "brokerbench %s — %s/%s, %d CPUs (%s), %s, load average %s\n",
		time.Now().Format(time.DateTime), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version(), loadAverage())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "CPU model unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "CPU model unknown"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3gs", d.Seconds())
	}
}

func fmtBytes(n int64) string {
	const mib = 1 << 20
	if n >= 10*mib {
		return fmt.Sprintf("%.0f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// verdict says whether a target is met.
func verdict(met bool) string {
	if met {
		return "MET"
	}
	return "MISSED"
}

// printLoads prints one row per measured load.
func printLoads(w io.Writer, ms []measured) {
	t := newTable(w)
	fmt.Fprintln(t, "load\tclients\trequests\terrors\treq/s\tp50\tp90\tp99\tmax\tserver CPU/req\tserver cores\tserver RSS\tqueued at end\t")
	for _, m := range ms {
		cpu, cores, rss, backlog := "-", "-", "-", "-"
		if m.Backlog >= 0 {
			backlog = fmt.Sprint(m.Backlog)
		}
		if m.procKnown {
			cpu = fmtDur(m.CPUPerRequest())
			cores = fmt.Sprintf("%.2f", m.CPU.Seconds()/m.Elapsed.Seconds())
			rss = fmtBytes(m.RSS)
		}
		fmt.Fprintf(t, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Name, m.Clients, m.Done, m.Errors, m.Throughput(),
			fmtDur(m.Latency.P50), fmtDur(m.Latency.P90), fmtDur(m.Latency.P99), fmtDur(m.Latency.Max), cpu, cores, rss, backlog)
	}
	t.Flush()
}
