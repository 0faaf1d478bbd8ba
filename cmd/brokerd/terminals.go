package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/store"
)

// drivers lists the drivers this build knows, for the error message.
var drivers = []string{"sim"}

// openTerminals builds every configured terminal, in order.
func openTerminals(cfgs []TerminalConfig, st *store.Store) ([]automation.Terminal, error) {
	var out []automation.Terminal
	fail := func(err error) ([]automation.Terminal, error) {
		for _, t := range out {
			t.Close()
		}
		return nil, err
	}
	for i, c := range cfgs {
		switch c.Driver {
		case "sim":
			opts := sim.DefaultOptions()
			if err := decodeOptions(c.Options, &opts); err != nil {
				return fail(fmt.Errorf("terminals[%d] (%s): %w", i, c.Name, err))
			}
			t, err := sim.New(c.Name, opts, sim.Deps{Ledger: st})
			if err != nil {
				return fail(fmt.Errorf("terminals[%d] (%s): %w", i, c.Name, err))
			}
			out = append(out, t)
		case "":
			return fail(fmt.Errorf("terminals[%d] (%s): driver is empty; use one of %s", i, c.Name, strings.Join(drivers, ", ")))
		default:
			return fail(fmt.Errorf("terminals[%d] (%s): unknown driver %q; use one of %s", i, c.Name, c.Driver, strings.Join(drivers, ", ")))
		}
	}
	return out, nil
}

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
