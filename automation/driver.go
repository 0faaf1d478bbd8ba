package automation

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Opener opens one configured terminal of a driver: each driver package
// exports one (sim.Open, binance.Open, …) and cmd/brokerd lists them in its
// opener table, by driver name. It must honour ctx: a terminal that cannot
// connect in time is returned anyway in a not-ready state where the driver
// can go on trying in the background, or an error when its options are bad.
type Opener func(ctx context.Context, name string, opts Options, env Env) (Terminal, error)

// Options are a terminal's [terminals.options] table. Decode fills a
// driver's options struct strictly: an unknown key, or a value of the
// wrong type, is an error naming the key.
type Options interface {
	Decode(into any) error
}

// Env is everything a driver may use from outside the process. Nothing
// else reaches it: no global, no os.Getenv.
type Env struct {
	// Getenv reads the environment, for the *_env options that name the
	// variable holding a secret. Secrets never go to Logger.
	Getenv func(string) string
	// Logger is the terminal's logger (already carrying its name).
	Logger *slog.Logger
	// Ledger keeps the state of drivers that persist (the sim's paper
	// account); nil keeps it in memory.
	Ledger Ledger
	// Publish sends what the venue reports on its own (order updates,
	// fills) to /events; it must not block. Nil drops them.
	Publish func(VenueEvent)
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
}

// Secret reads the environment variable an *_env option names. An empty
// option means the secret is not configured (""); a named variable that is
// unset or empty is an error naming the option and the variable, never
// the value.
func (e Env) Secret(option, variable string) (string, error) {
	if variable == "" {
		return "", nil
	}
	if e.Getenv == nil {
		return "", fmt.Errorf("options.%s: the environment is not available to read %s", option, variable)
	}
	v := e.Getenv(variable)
	if v == "" {
		return "", fmt.Errorf("options.%s: environment variable %s is not set", option, variable)
	}
	return v, nil
}

// Log is e.Logger, or a logger that discards.
func (e Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// Clock is e.Now, or time.Now.
func (e Env) Clock() func() time.Time {
	if e.Now == nil {
		return time.Now
	}
	return e.Now
}

// Emit publishes ev if a publisher is set.
func (e Env) Emit(ev VenueEvent) {
	if e.Publish != nil {
		e.Publish(ev)
	}
}

// VenueEvent is something a venue reported by itself: an order update, a
// fill, a position or balance change. It reaches /events as type "venue".
// Data must hold no secret (no key, signature or listen key).
type VenueEvent struct {
	Terminal string    `json:"terminal"`
	Kind     string    `json:"kind"` // order, fill, position, asset, …
	Data     any       `json:"data"`
	At       time.Time `json:"at"`
}
