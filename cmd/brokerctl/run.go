package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/brokerd/brokerd/client"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1 // the operation failed, or brokerd refused the request
	exitUsage       = 2
	exitUnreachable = 3
)

const defaultURL = "http://127.0.0.1:7648"

// env is what every command may use.
type env struct {
	client *client.Client
	json   bool
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	usage   string // arguments after the name
	summary string
	// flags declares the command's flags on fs; run is called with the
	// positional arguments once they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e env, args []string) error
}

// errUsage marks an error of how brokerctl was called (exit 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errOperationFailed is returned when the operation ran and failed, after
// its outcome was printed (exit 1).
var errOperationFailed = errors.New("the operation failed")

// run is brokerctl: it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("brokerctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	baseURL := global.String("url", "", "brokerd's URL (default $BROKERD_URL or "+defaultURL+")")
	asJSON := global.Bool("json", false, "print JSON instead of tables")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		fmt.Fprintln(stderr, "brokerctl:", err)
		printUsage(stderr)
		return exitUsage
	}
	args = global.Args()
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		printUsage(stdout)
		return exitOK
	case "completion":
		return completion(args, stdout, stderr)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "brokerctl: unknown command %q\n", name)
		printUsage(stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet("brokerctl "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(asJSON, "json", *asJSON, "print JSON instead of tables")
	fs.StringVar(baseURL, "url", *baseURL, "brokerd's URL")
	runCmd := cmd.flags(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(stdout, name, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "brokerctl %s: %v\n", name, err)
		printCommandUsage(stderr, name, cmd, fs)
		return exitUsage
	}

	u := *baseURL
	if u == "" {
		u = getenv("BROKERD_URL")
	}
	if u == "" {
		u = defaultURL
	}
	c, err := client.New(u, client.WithAPIKey(getenv("API_KEY")))
	if err != nil {
		fmt.Fprintln(stderr, "brokerctl:", err)
		return exitUsage
	}
	err = runCmd(ctx, env{client: c, json: *asJSON, stdout: stdout, stderr: stderr}, positional)
	return exitStatus(err, name, cmd, fs, stderr)
}

// exitStatus reports err (if any) and maps it to the exit status.
func exitStatus(err error, name string, cmd command, fs *flag.FlagSet, stderr io.Writer) int {
	var ue usageError
	var apiErr *client.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "brokerctl %s: %v\n", name, err)
		printCommandUsage(stderr, name, cmd, fs)
		return exitUsage
	case errors.Is(err, client.ErrUnreachable):
		fmt.Fprintln(stderr, "brokerctl:", err)
		return exitUnreachable
	case errors.Is(err, errOperationFailed):
		return exitFailed
	case errors.As(err, &apiErr):
		fmt.Fprintf(stderr, "brokerctl %s: %s\n", name, apiErr.Message)
		for _, f := range apiErr.Fields() {
			fmt.Fprintf(stderr, "  %s: %s\n", f.Field, f.Reason)
		}
		fmt.Fprintf(stderr, "  (HTTP %d, error_code %s)\n", apiErr.Status, apiErr.Code)
		return exitFailed
	case errors.Is(err, context.Canceled):
		return exitFailed
	default:
		fmt.Fprintf(stderr, "brokerctl %s: %v\n", name, err)
		return exitFailed
	}
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `brokerctl drives brokerd from a shell.

usage: brokerctl [--url URL] [--json] COMMAND [ARGS] [FLAGS]

commands:
`)
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `  completion bash|zsh: a shell completion script

BROKERD_URL (default `+defaultURL+`) and API_KEY come from the environment.
Exit status: 0 done, 1 the operation or request failed, 2 usage, 3 brokerd unreachable.
"brokerctl COMMAND -h" describes a command's flags.
`)
}

func printCommandUsage(w io.Writer, name string, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: brokerctl %s %s\n  %s\n", name, cmd.usage, cmd.summary)
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if b.Len() > 0 {
		fmt.Fprint(w, "flags:\n", b.String())
	}
}
