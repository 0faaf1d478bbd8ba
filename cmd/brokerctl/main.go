// Command brokerctl drives brokerd from a shell: place and follow orders,
// submit any operation, cancel, list the journal, read the queue's state,
// pause and resume lanes, follow the event stream.
//
//	export BROKERD_URL=http://127.0.0.1:7648 API_KEY=...
//	brokerctl buy 600000 10.50 100 --priority 5 --wait
//	brokerctl submit holding_query return_type=json --wait
//	brokerctl events
//
// Exit status: 0 done, 1 the operation or request failed, 2 usage, 3
// brokerd unreachable.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
