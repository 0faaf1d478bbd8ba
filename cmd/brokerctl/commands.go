package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/brokerd/brokerd/client"
)

var commands = map[string]command{
	"buy":     {usage: "CODE PRICE QUANTITY [flags]", summary: "buy at a limit price (the buy operation)", flags: orderCommand("buy")},
	"sell":    {usage: "CODE PRICE QUANTITY [flags]", summary: "sell at a limit price (the sell operation)", flags: orderCommand("sell")},
	"submit":  {usage: "OPERATION [key=value ...] [flags]", summary: "submit any operation with its parameters (see ops)", flags: submitCommand},
	"status":  {usage: "ID", summary: "where an operation is", flags: statusCommand},
	"result":  {usage: "ID [--timeout D]", summary: "wait for an operation's result", flags: resultCommand},
	"cancel":  {usage: "ID", summary: "cancel a queued operation", flags: cancelCommand},
	"ops":     {usage: "[OPERATION]", summary: "list the operations, or one operation's parameters", flags: opsCommand},
	"history": {usage: "[flags]", summary: "the journal, newest first", flags: historyCommand},
	"stats":   {usage: "", summary: "each lane's state and counts", flags: statsCommand},
	"pause":   {usage: "[--terminal T]", summary: "hold a lane (every lane without --terminal)", flags: pauseCommand(true)},
	"resume":  {usage: "[--terminal T]", summary: "release a lane (every lane without --terminal)", flags: pauseCommand(false)},
	"events":  {usage: "[--terminal T] [--operation ID|NAME]", summary: "follow the event stream until interrupted", flags: eventsCommand},
	"health":  {usage: "", summary: "whether brokerd can take operations (exit 1 when unhealthy)", flags: healthCommand},
}

// submitFlags are the options every submit takes.
type submitFlags struct {
	priority    int
	terminal    string
	key         string
	timeout     durationFlag
	expireAfter durationFlag
	wait        waitFlag
}

func (s *submitFlags) declare(fs *flag.FlagSet) {
	fs.IntVar(&s.priority, "priority", 0, "0-10, higher runs first")
	fs.StringVar(&s.terminal, "terminal", "", "terminal to run on (default: brokerd's first)")
	fs.StringVar(&s.key, "key", "", "idempotency key: the same key answers the same operation, so a retry is safe")
	fs.Var(&s.timeout, "timeout", "execution deadline, such as 30s")
	fs.Var(&s.expireAfter, "expire", "cancel it if it has not started by then, such as 1m")
	fs.Var(&s.wait, "wait", "wait for the result (--wait=30s: at most that long)")
}

func (s *submitFlags) options() client.SubmitOptions {
	return client.SubmitOptions{Terminal: s.terminal, Priority: s.priority, Timeout: s.timeout.d,
		ExpireAfter: s.expireAfter.d, IdempotencyKey: s.key}
}

func orderCommand(name string) func(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(fs *flag.FlagSet) func(context.Context, env, []string) error {
		var sf submitFlags
		sf.declare(fs)
		return func(ctx context.Context, e env, args []string) error {
			if len(args) != 3 {
				return usagef("want CODE PRICE QUANTITY, such as 600000 10.50 100")
			}
			params := map[string]any{"stock_code": args[0], "price": number(args[1]), "quantity": number(args[2])}
			return submitAndReport(ctx, e, name, params, sf)
		}
	}
}

func submitCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	var sf submitFlags
	sf.declare(fs)
	return func(ctx context.Context, e env, args []string) error {
		if len(args) < 1 {
			return usagef("want the operation's name (brokerctl ops lists them)")
		}
		name := args[0]
		ops, err := e.client.Operations(ctx)
		if err != nil {
			return err
		}
		info, ok := ops.Operations[name]
		if !ok {
			return usagef("unknown operation %q: one of %s", name, strings.Join(ops.Names, ", "))
		}
		params := map[string]any{}
		for _, kv := range args[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return usagef("parameter %q: want key=value", kv)
			}
			params[k] = typed(info.Parameters[k].Type, v)
		}
		return submitAndReport(ctx, e, name, params, sf)
	}
}

// typed gives a key=value's value the type the schema declares; brokerd
// validates it (a number that is not one is named there).
func typed(kind, v string) any {
	switch kind {
	case "integer", "number":
		return number(v)
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

// number keeps a decimal's exact text ("10.50") as a JSON number; what is
// not a number is sent as the string it is, for brokerd to name.
func number(v string) any {
	if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
		return json.Number(v)
	}
	return v
}

func submitAndReport(ctx context.Context, e env, name string, params map[string]any, sf submitFlags) error {
	opts := sf.options()
	if sf.wait.set {
		// brokerd holds the answer until the result or this slice; the
		// rest of a long wait is /result's.
		opts.Wait = 30 * time.Second
		if sf.wait.max > 0 {
			opts.Wait = min(opts.Wait, sf.wait.max)
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, sf.wait.max)
			defer cancel()
		}
	}
	sub, err := e.client.Submit(ctx, name, params, opts)
	if err != nil {
		return err
	}
	if !sf.wait.set {
		if e.json {
			return printJSON(e.stdout, sub)
		}
		pairs := [][2]string{{"operation", sub.OperationID}, {"status", sub.Status}, {"terminal", sub.Terminal}}
		if sub.QueuePosition != nil {
			pairs = append(pairs, [2]string{"queue position", strconv.Itoa(*sub.QueuePosition)})
		}
		if sub.Duplicate {
			pairs = append(pairs, [2]string{"duplicate", "true (this key was used before: this is that operation)"})
		}
		printPairs(e.stdout, pairs)
		return nil
	}
	if sub.Result == nil {
		if _, err := e.client.Wait(ctx, sub.OperationID); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(e.stderr, "brokerctl: operation %s not finished within the wait; brokerctl result %s waits for it\n", sub.OperationID, sub.OperationID)
				return errOperationFailed
			}
			return err
		}
	}
	op, err := e.client.Status(context.WithoutCancel(ctx), sub.OperationID)
	if err != nil {
		return err
	}
	return reportOperation(e, op)
}

// reportOperation prints an operation and fails when it did not succeed.
func reportOperation(e env, op *client.Operation) error {
	if e.json {
		if err := printJSON(e.stdout, op); err != nil {
			return err
		}
	} else {
		pairs := [][2]string{
			{"operation", op.ID}, {"name", op.Name}, {"terminal", op.Terminal}, {"status", op.Status},
			{"priority", strconv.Itoa(op.Priority)}, {"submitted", clock(op.SubmittedAt)},
			{"started", clock(op.StartedAt)}, {"finished", clock(op.FinishedAt)},
		}
		if op.ErrorCode != nil {
			pairs = append(pairs, [2]string{"error_code", *op.ErrorCode}, [2]string{"error", str(op.Error)})
		}
		if op.Result != nil && op.Result.Message != nil {
			pairs = append(pairs, [2]string{"message", *op.Result.Message})
		}
		printPairs(e.stdout, pairs)
		if op.Result != nil {
			printData(e.stdout, op.Result.Data)
		}
	}
	if client.Final(op.Status) && op.Status != client.StatusSuccess {
		return errOperationFailed
	}
	return nil
}

func oneID(args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", usagef("want one operation id")
	}
	return args[0], nil
}

func statusCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		op, err := e.client.Status(ctx, id)
		if err != nil {
			return err
		}
		return reportOperation(e, op)
	}
}

func resultCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	var timeout durationFlag
	fs.Var(&timeout, "timeout", "wait at most this long (default: until it has finished)")
	return func(ctx context.Context, e env, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		var res *client.Result
		if timeout.d > 0 {
			res, err = e.client.Result(ctx, id, timeout.d)
		} else {
			res, err = e.client.Wait(ctx, id)
		}
		if err != nil {
			return err
		}
		if e.json {
			if err := printJSON(e.stdout, map[string]any{"success": res.Success, "message": res.Message,
				"error_code": nilIfEmpty(res.ErrorCode), "data": res.Data}); err != nil {
				return err
			}
		} else {
			pairs := [][2]string{{"success", strconv.FormatBool(res.Success)}, {"message", res.Message}}
			if res.ErrorCode != "" {
				pairs = append(pairs, [2]string{"error_code", res.ErrorCode})
			}
			printPairs(e.stdout, pairs)
			printData(e.stdout, res.Data)
		}
		if !res.Success {
			return errOperationFailed
		}
		return nil
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func cancelCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		op, err := e.client.Cancel(ctx, id)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, op)
		}
		printPairs(e.stdout, [][2]string{{"operation", op.ID}, {"status", op.Status}})
		return nil
	}
}

func opsCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		if len(args) > 1 {
			return usagef("want at most one operation name")
		}
		ops, err := e.client.Operations(ctx)
		if err != nil {
			return err
		}
		if len(args) == 1 {
			info, ok := ops.Operations[args[0]]
			if !ok {
				return usagef("unknown operation %q: one of %s", args[0], strings.Join(ops.Names, ", "))
			}
			if e.json {
				return printJSON(e.stdout, info)
			}
			fmt.Fprintf(e.stdout, "%s: %s\n", args[0], info.DescriptionEn)
			var rows [][]string
			for _, p := range info.ParameterOrder {
				q := info.Parameters[p]
				def := "-"
				if q.Default != nil {
					def = cell(q.Default)
				}
				rows = append(rows, []string{p, q.Type, strconv.FormatBool(q.Required), def, q.DescriptionEn})
			}
			printTable(e.stdout, []string{"PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"}, rows)
			return nil
		}
		if e.json {
			return printJSON(e.stdout, ops)
		}
		var rows [][]string
		for _, n := range ops.Names {
			info := ops.Operations[n]
			rows = append(rows, []string{n, strconv.FormatBool(info.SideEffect), strings.Join(info.Terminals, ","), info.DescriptionEn})
		}
		printTable(e.stdout, []string{"OPERATION", "ORDER", "TERMINALS", "DESCRIPTION"}, rows)
		return nil
	}
}

func historyCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	var f client.HistoryFilter
	var since, until string
	fs.StringVar(&f.Status, "status", "", "queued, running, success, failed or cancelled")
	fs.StringVar(&f.Name, "name", "", "operation name")
	fs.StringVar(&f.Terminal, "terminal", "", "terminal")
	fs.StringVar(&since, "since", "", "submitted at or after: 2026-01-02 or an RFC 3339 time")
	fs.StringVar(&until, "until", "", "submitted before")
	fs.IntVar(&f.Limit, "limit", 20, "1-1000")
	fs.IntVar(&f.Offset, "offset", 0, "operations to skip")
	return func(ctx context.Context, e env, args []string) error {
		if len(args) > 0 {
			return usagef("history takes flags only")
		}
		var err error
		if f.Since, err = parseWhen(since); err != nil {
			return usagef("--since: %v", err)
		}
		if f.Until, err = parseWhen(until); err != nil {
			return usagef("--until: %v", err)
		}
		h, err := e.client.History(ctx, f)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, h)
		}
		var rows [][]string
		for _, op := range h.Operations {
			rows = append(rows, []string{clock(op.SubmittedAt), op.ID, op.Name, op.Terminal, op.Status, str(op.ErrorCode), string(op.Params)})
		}
		printTable(e.stdout, []string{"SUBMITTED", "ID", "NAME", "TERMINAL", "STATUS", "ERROR", "PARAMS"}, rows)
		fmt.Fprintf(e.stdout, "%d of %d\n", len(h.Operations), h.Total)
		return nil
	}
}

func parseWhen(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
	if err != nil {
		return time.Time{}, errors.New("want 2026-01-02 or 2026-01-02T09:30:00+08:00")
	}
	return t, nil
}

func statsCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		if len(args) > 0 {
			return usagef("stats takes no arguments")
		}
		st, err := e.client.Stats(ctx)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, st)
		}
		var rows [][]string
		for _, name := range sortedKeys(st.Terminals) {
			l := st.Terminals[name]
			why := str(l.StuckOn)
			if l.Blocked != nil {
				why = *l.Blocked
			}
			rows = append(rows, []string{name, l.State, strconv.FormatBool(l.Paused), strconv.Itoa(l.Queued), strconv.Itoa(l.Running),
				strconv.FormatInt(l.Success, 10), strconv.FormatInt(l.Failed, 10), strconv.FormatInt(l.Cancelled, 10),
				str(l.CurrentOperation), why})
		}
		printTable(e.stdout, []string{"TERMINAL", "STATE", "PAUSED", "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCELLED", "CURRENT", "STUCK/BLOCKED"}, rows)
		return nil
	}
}

func pauseCommand(pause bool) func(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(fs *flag.FlagSet) func(context.Context, env, []string) error {
		terminal := fs.String("terminal", "", "the terminal (default: every terminal)")
		return func(ctx context.Context, e env, args []string) error {
			if len(args) > 0 {
				return usagef("takes only --terminal")
			}
			set, verb := e.client.Resume, "resumed"
			if pause {
				set, verb = e.client.Pause, "paused"
			}
			names, err := set(ctx, *terminal)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, map[string]any{"paused": pause, "terminals": names})
			}
			fmt.Fprintf(e.stdout, "%s: %s\n", verb, strings.Join(names, ", "))
			return nil
		}
	}
}

func healthCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		if len(args) > 0 {
			return usagef("health takes no arguments")
		}
		h, err := e.client.Health(ctx)
		if err != nil {
			return err
		}
		if e.json {
			if err := printJSON(e.stdout, h); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(e.stdout, h.Status)
			var rows [][]string
			for _, name := range sortedKeys(h.Components.Terminals) {
				rows = append(rows, []string{name, h.Components.Terminals[name], h.Components.Lanes[name]})
			}
			printTable(e.stdout, []string{"TERMINAL", "STATE", "LANE"}, rows)
			for _, p := range h.Problems {
				fmt.Fprintln(e.stdout, "problem:", p)
			}
		}
		if !h.Healthy() {
			return errOperationFailed
		}
		return nil
	}
}
