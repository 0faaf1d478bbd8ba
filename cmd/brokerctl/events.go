package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/brokerd/brokerd/client"
)

// reconnectPause is how long events waits before reopening a stream
// brokerd ended (a restart).
const reconnectPause = 2 * time.Second

func eventsCommand(fs *flag.FlagSet) func(context.Context, env, []string) error {
	var f client.EventFilter
	fs.StringVar(&f.Terminal, "terminal", "", "only this terminal's events")
	fs.StringVar(&f.Operation, "operation", "", "only this operation's events (an id, or a name such as buy)")
	return func(ctx context.Context, e env, args []string) error {
		if len(args) > 0 {
			return usagef("events takes only flags")
		}
		first := true
		for {
			events, err := e.client.Events(ctx, f)
			switch {
			case ctx.Err() != nil:
				return nil // interrupted: the normal end of following
			case err != nil && (first || client.Code(err) != ""):
				return err
			case err != nil:
				fmt.Fprintln(e.stderr, "brokerctl: reconnecting:", err)
			default:
				first = false
				for ev := range events {
					printEvent(e, ev)
				}
				if ctx.Err() != nil {
					return nil
				}
				fmt.Fprintln(e.stderr, "brokerctl: the event stream ended; reconnecting")
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(reconnectPause):
			}
		}
	}
}

func printEvent(e env, ev client.Event) {
	if e.json {
		line, _ := json.Marshal(map[string]any{"id": ev.ID, "event": ev.Type, "data": json.RawMessage(ev.Data)})
		fmt.Fprintln(e.stdout, string(line))
		return
	}
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	at := time.Now().Format("15:04:05.000")
	get := func(k string) string { return cell(d[k]) }
	switch ev.Type {
	case "operation":
		line := fmt.Sprintf("%s operation %-9s %s %s on %s", at, get("status"), get("operation_id"), get("name"), get("terminal"))
		if d["error_code"] != nil {
			line += " (" + get("error_code") + ": " + get("error") + ")"
		}
		fmt.Fprintln(e.stdout, line)
	case "lane", "terminal":
		fmt.Fprintf(e.stdout, "%s %-9s %s is %s\n", at, ev.Type, get("terminal"), get("state"))
	default:
		fmt.Fprintf(e.stdout, "%s %-9s %s\n", at, ev.Type, string(ev.Data))
	}
}
