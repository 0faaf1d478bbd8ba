package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// process is a server the bench started: brokerd or the baseline. Its
// stderr (brokerd's log) goes to a file beside its configuration.
type process struct {
	name     string
	cmd      *exec.Cmd
	started  time.Time // just before the exec
	logPath  string
	url      chan string   // the URL it printed, once
	listened atomic.Int64  // when it printed it, unix nanoseconds
	exited   chan struct{} // closed when it has exited
	exitErr  error         // valid after exited is closed
}

var listeningLine = regexp.MustCompile(`listening on (http://\S+)`)

// launch starts argv and returns at once; waitListening waits for the
// "listening on http://ADDR" line on its stdout.
func launch(name string, argv []string, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, url: make(chan string, 1), exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				p.listened.CompareAndSwap(0, time.Now().UnixNano())
				select {
				case p.url <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout) //nolint:errcheck // draining a pipe
		p.exitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitListening returns the URL the process listens on.
func (p *process) waitListening(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case u := <-p.url:
		return u, nil
	case <-p.exited:
		return "", fmt.Errorf("%s exited before listening (%v): %s", p.name, p.exitErr, p.logTail())
	case <-t.C:
		p.kill()
		return "", fmt.Errorf("%s did not say it listens within %s: %s", p.name, timeout, p.logTail())
	case <-ctx.Done():
		p.kill()
		return "", ctx.Err()
	}
}

// listenedAt is when the process said it listens (zero before).
func (p *process) listenedAt() time.Time {
	if ns := p.listened.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the process to shut down gracefully and waits for it; after
// 30 s it is killed. A non-zero exit is an error quoting its log.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return p.exitError()
	default:
	}
	if err := terminate(p.cmd.Process); err != nil {
		p.kill()
	}
	select {
	case <-p.exited:
		return p.exitError()
	case <-time.After(30 * time.Second):
		p.kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within 30s of SIGTERM and was killed: %s", p.name, p.logTail())
	}
}

func (p *process) kill() {
	p.cmd.Process.Kill() //nolint:errcheck // it may have exited already
}

func (p *process) exitError() error {
	if p.exitErr == nil || runtime.GOOS == "windows" { // on Windows, terminate kills
		return nil
	}
	return fmt.Errorf("%s exited with %v: %s", p.name, p.exitErr, p.logTail())
}

// logTail is the end of the process's log, to explain a failure.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const keep = 1500
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return fmt.Sprintf("log %s ends with:\n%s", p.logPath, strings.TrimSpace(string(b)))
}
