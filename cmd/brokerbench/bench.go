package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// bench holds what the scenarios share: the options, a temporary
// directory for configurations, journals and logs, and the binaries.
type bench struct {
	opts   options
	dir    string
	out    io.Writer // the report
	errw   io.Writer // progress and notes
	runs   int       // numbers the servers' directories
	binary string    // brokerd, built on first use unless -brokerd
	self   string    // this program, started as the baseline
}

// target is a server under load: one the bench started, or one it was
// given with -url.
type target struct {
	name string
	api  api
	proc *process // nil when attached
	pid  int      // for /proc; 0 when unknown
	dir  string   // its configuration, journal and log
}

// usage is the server's memory and CPU: from /proc when its pid is known,
// else from its /metrics (the process collector, 10 ms CPU resolution).
func (t *target) usage() (procUsage, error) {
	if t.pid != 0 {
		return readProc(t.pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := t.api.metrics(ctx)
	if err != nil {
		return procUsage{}, err
	}
	return usageFromMetrics(m)
}

// stop shuts a started server down gracefully; an attached one is left.
func (t *target) stop() error {
	t.api.close()
	if t.proc == nil {
		return nil
	}
	return t.proc.stop()
}

// brokerdConfig is what the bench varies in the config.toml it writes.
type brokerdConfig struct {
	Port      int           // 0: any free port
	Store     string        // "": brokerd.db in the server's directory
	MaxSize   int           // [queue] max_size
	ResultTTL time.Duration // [queue] result_ttl; 0: the default (3h)
	Terminals int           // sim terminals (lanes): sim, sim2, sim3, …; 0 is 1
}

// terminalName is the name of the i-th (0-based) sim terminal.
func terminalName(i int) string {
	if i == 0 {
		return "sim"
	}
	return fmt.Sprintf("sim%d", i+1)
}

// toml is a configuration of one sim terminal that fills every buy of the
// bench: prices held at their quotes (volatility 0), no latency, and cash
// that one million buys do not exhaust.
func (c brokerdConfig) toml(o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by brokerbench\n[api]\nhost = \"127.0.0.1\"\nport = %d\n\n", c.Port)
	fmt.Fprintf(&b, "[queue]\nmax_size = %d\n", max(c.MaxSize, 1000))
	if c.ResultTTL > 0 {
		fmt.Fprintf(&b, "result_ttl = %q\n", c.ResultTTL.String())
	}
	fmt.Fprintf(&b, "\n[store]\npath = %q\n\n[log]\nlevel = %q\n\n", c.Store, o.logLevel)
	for i := range max(c.Terminals, 1) {
		fmt.Fprintf(&b, "[[terminals]]\nname = %q\ndriver = \"sim\"\n[terminals.options]\n", terminalName(i))
		fmt.Fprintf(&b, "initial_cash = 1000000000000\nlatency = \"0s\"\nvolatility = 0.0\nquotes = { %q = %.2f }\n\n", o.code, o.price)
	}
	return b.String()
}

// subdir makes a fresh directory for one server.
func (b *bench) subdir(name string) (string, error) {
	b.runs++
	dir := filepath.Join(b.dir, fmt.Sprintf("%02d-%s", b.runs, name))
	return dir, os.MkdirAll(dir, 0o750)
}

// brokerdBinary builds brokerd into the temporary directory, once.
func (b *bench) brokerdBinary(ctx context.Context) (string, error) {
	if b.binary != "" {
		return b.binary, nil
	}
	out := filepath.Join(b.dir, "brokerd")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	fmt.Fprintf(b.errw, "building brokerd into %s\n", out)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/brokerd/brokerd/cmd/brokerd")
	cmd.Stdout, cmd.Stderr = b.errw, b.errw
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build brokerd: %w (run the bench inside the brokerd repository, or give -brokerd PATH)", err)
	}
	b.binary = out
	return out, nil
}

// startBrokerd starts brokerd on cfg, or returns the attached server.
func (b *bench) startBrokerd(ctx context.Context, cfg brokerdConfig, clients int) (*target, error) {
	if b.opts.url != "" {
		return &target{name: "brokerd (attached)", api: newAPI(b.opts.url, clients), pid: b.opts.pid}, nil
	}
	p, dir, err := b.launchBrokerd(ctx, cfg)
	if err != nil {
		return nil, err
	}
	url, err := p.waitListening(ctx, time.Minute)
	if err != nil {
		return nil, err
	}
	return &target{name: "brokerd", api: newAPI(url, clients), proc: p, pid: p.pid(), dir: dir}, nil
}

// launchBrokerd writes cfg in a fresh directory and starts brokerd on it
// without waiting for it to listen.
func (b *bench) launchBrokerd(ctx context.Context, cfg brokerdConfig) (*process, string, error) {
	bin, err := b.brokerdBinary(ctx)
	if err != nil {
		return nil, "", err
	}
	dir, err := b.subdir("brokerd")
	if err != nil {
		return nil, "", err
	}
	if cfg.Store == "" {
		cfg.Store = filepath.Join(dir, "brokerd.db")
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg.toml(b.opts)), 0o600); err != nil {
		return nil, "", err
	}
	p, err := launch("brokerd", []string{bin, "-config", path}, filepath.Join(dir, "brokerd.log"))
	return p, dir, err
}

// startBaseline starts the bare Gin baseline as a process of its own.
func (b *bench) startBaseline(ctx context.Context, clients int) (*target, error) {
	dir, err := b.subdir("baseline")
	if err != nil {
		return nil, err
	}
	p, err := launch("baseline", []string{b.self, "baseline", "-addr", "127.0.0.1:0"}, filepath.Join(dir, "baseline.log"))
	if err != nil {
		return nil, err
	}
	url, err := p.waitListening(ctx, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &target{name: "bare Gin", api: newAPI(url, clients), proc: p, pid: p.pid(), dir: dir}, nil
}

// freePort is a loopback port free a moment ago, for a server whose URL
// must be known before it prints it (the restart scenario).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// measured is a load's outcome with the server's resources during it.
type measured struct {
	outcome
	Server    string
	CPU       time.Duration // server CPU time used during the load
	RSS, HWM  int64         // server memory at the end of the load
	procKnown bool
	Backlog   int64 // operations queued at the end (brokerd_queue_depth); -1 unknown
}

// CPUPerRequest is the server's CPU time per successful request.
func (m measured) CPUPerRequest() time.Duration {
	if m.Done == 0 || !m.procKnown {
		return 0
	}
	return m.CPU / time.Duration(m.Done)
}

// measure warms t up for a second (connections open, caches warm), then
// applies l and reads the server's CPU and memory around it.
func (b *bench) measure(ctx context.Context, t *target, l load) (measured, error) {
	warm := l
	warm.Name, warm.Duration, warm.Requests, warm.Progress = l.Name+" (warm-up)", b.opts.warmup, 0, nil
	if warm.Duration > 0 {
		if o := warm.run(ctx); o.Done == 0 && o.Errors > 0 {
			return measured{}, fmt.Errorf("%s: every warm-up request failed: %s", t.name, strings.Join(o.ErrorSamples, "; "))
		}
	}
	before, procErr := t.usage()
	l.Progress = b.errw
	o := l.run(ctx)
	if err := ctx.Err(); err != nil {
		return measured{}, err
	}
	m := measured{outcome: o, Server: t.name, Backlog: -1}
	if procErr == nil {
		if after, err := t.usage(); err == nil {
			m.CPU, m.RSS, m.HWM, m.procKnown = after.CPU-before.CPU, after.RSS, after.HWM, true
		}
	}
	if metrics, err := t.api.metrics(ctx); err == nil {
		if depth, ok := metrics["brokerd_queue_depth"]; ok {
			m.Backlog = int64(depth)
		}
	}
	if o.Errors > 0 {
		fmt.Fprintf(b.errw, "  %s: %d errors, such as: %s\n", l.Name, o.Errors, strings.Join(o.ErrorSamples, "; "))
	}
	return m, nil
}
