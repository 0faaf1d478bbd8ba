package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance"
	"github.com/brokerd/brokerd/automation/ctpbee"
	"github.com/brokerd/brokerd/automation/easyths"
	"github.com/brokerd/brokerd/automation/easytrader"
	"github.com/brokerd/brokerd/automation/gateway"
	"github.com/brokerd/brokerd/automation/paper"
	"github.com/brokerd/brokerd/automation/sim"
)

// openers is the table of drivers this build knows: a driver is one
// package under automation/ and one line here.
var openers = map[string]automation.Opener{
	"sim":        sim.Open,
	"paper":      paper.Open,
	"easytrader": easytrader.Open,
	"easyths":    easyths.Open,
	"binance":    binance.Open,
	"gateway":    gateway.Open,
	"ctpbee":     ctpbee.Open,
}

// driverNames lists the known drivers, sorted, for error messages.
func driverNames() string {
	names := slices.Sorted(maps.Keys(openers))
	return strings.Join(names, ", ")
}

// terminalEnv is what every driver may use from outside (automation.Env):
// the environment for *_env secrets, a logger per terminal, the journal's
// ledger and the venue-event sink.
type terminalEnv struct {
	getenv  func(string) string
	log     *slog.Logger
	ledger  automation.Ledger
	publish func(automation.VenueEvent)
}

// openTerminals builds every configured terminal, in order.
func openTerminals(ctx context.Context, cfgs []TerminalConfig, env terminalEnv) ([]automation.Terminal, error) {
	var out []automation.Terminal
	fail := func(err error) ([]automation.Terminal, error) {
		for _, t := range out {
			t.Close()
		}
		return nil, err
	}
	for i, c := range cfgs {
		open, ok := openers[c.Driver]
		switch {
		case c.Driver == "":
			return fail(fmt.Errorf("terminals[%d] (%s): driver is empty; use one of %s", i, c.Name, driverNames()))
		case !ok:
			return fail(fmt.Errorf("terminals[%d] (%s): unknown driver %q; use one of %s", i, c.Name, c.Driver, driverNames()))
		}
		t, err := open(ctx, c.Name, tomlOptions(c.Options), automation.Env{
			Getenv:  env.getenv,
			Logger:  env.log.With("terminal", c.Name, "driver", c.Driver),
			Ledger:  env.ledger,
			Publish: env.publish,
		})
		if err != nil {
			return fail(fmt.Errorf("terminals[%d] (%s): %w", i, c.Name, err))
		}
		out = append(out, t)
	}
	return out, nil
}

// tomlOptions are a [terminals.options] table, decoded as strictly as the
// rest of the file.
type tomlOptions map[string]any

func (o tomlOptions) Decode(into any) error { return decodeOptions(o, into) }

// decodeOptions decodes a [terminals.options] table into a driver's options
// as strictly as the rest of the file: an unknown key is named.
func decodeOptions(raw map[string]any, into any) error {
	if len(raw) == 0 {
		return nil
	}
	b, err := toml.Marshal(raw)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		if strict, ok := err.(*toml.StrictMissingError); ok {
			var keys []string
			for _, e := range strict.Errors {
				keys = append(keys, "options."+strings.Join(e.Key(), "."))
			}
			sort.Strings(keys)
			return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
		}
		if de, ok := err.(*toml.DecodeError); ok {
			return fmt.Errorf("options.%s: %s", strings.Join(de.Key(), "."), de.Error())
		}
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// marshalResult encodes a plugin's result data for the journal and the API.
func marshalResult(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the result: %w", err)
	}
	return b, nil
}
