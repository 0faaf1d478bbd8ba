// Command mergespec rewrites swag's swagger.json as brokerd serves it at
// /docs/doc.json: with one path per operation, their parameters and
// examples (server.MergeSpec). scripts/swag.sh runs it, so that the
// committed docs/swagger.json is the served spec.
//
//	go run ./scripts/mergespec docs/swagger.json
package main

import (
	"fmt"
	"os"

	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/server"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mergespec SWAGGER.JSON")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err == nil {
		raw, err = server.MergeSpec(raw, plugins.NewRegistry(plugins.StockSet(), plugins.ExchangeSet()))
	}
	if err == nil {
		err = os.WriteFile(os.Args[1], raw, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mergespec:", err)
		os.Exit(1)
	}
}
