package sim

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// Open is the sim's automation.Opener: [terminals.options] decode onto
// DefaultOptions, and the account is kept in env.Ledger (the journal).
func Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := DefaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	return New(ctx, name, opts, Deps{Ledger: env.Ledger, Now: env.Now, Publish: env.Publish})
}
