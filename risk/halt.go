package risk

import (
	"context"
	"errors"
	"fmt"

	"github.com/brokerd/brokerd/automation"

	"github.com/brokerd/brokerd/queue"
)

// CodeHalted is the error code of the queued orders a halt cancels.
const CodeHalted = string(automation.CodeHalted)

// Canceller cancels a terminal's queued operations (*queue.Queue).
type Canceller interface {
	CancelQueued(ctx context.Context, terminal string, match func(queue.Operation) bool, code, msg string) ([]queue.Operation, error)
}

// ErrUnknownTerminal is returned for a halt of a terminal not configured.
var ErrUnknownTerminal = errors.New("unknown terminal")

// HaltResult tells what a halt did on one terminal.
type HaltResult struct {
	Terminal  string   `json:"terminal"`
	Halted    bool     `json:"halted"`
	Cancelled []string `json:"cancelled"` // ids of the queued orders cancelled
}

// Halt pulls the kill switch on terminal (every terminal when ""): from
// now on its new orders are refused (cancels still pass), its queued
// orders are cancelled, and the halt is journaled so that it outlives a
// restart. The refusal starts before the journal write, so nothing slips
// in meanwhile; when the write fails the halt holds all the same until a
// restart, and the error says so.
func (c *Checker) Halt(ctx context.Context, terminal, reason string) ([]HaltResult, error) {
	j, q := c.journal, c.queue
	if j == nil || q == nil {
		return nil, errors.New("risk: the checker has no journal or queue (Config.Journal, Attach)")
	}
	names, err := c.terminals(terminal)
	if err != nil {
		return nil, err
	}
	now := c.now()
	c.mu.Lock()
	for _, name := range names {
		c.halts[name] = Halt{Terminal: name, Reason: reason, At: now}
	}
	c.mu.Unlock()
	var errs []error
	out := make([]HaltResult, 0, len(names))
	for _, name := range names {
		if err := j.SetHalt(ctx, name, true, reason, now); err != nil {
			errs = append(errs, fmt.Errorf("the halt of %s holds now but the journal could not record it, so a restart will not remember it: %w", name, err))
		}
		res, err := c.cancelQueued(ctx, q, name)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// Enforce cancels the queued orders of every halted terminal: at start,
// after the queue's Recover, for the orders the journal gave back.
func (c *Checker) Enforce(ctx context.Context) ([]HaltResult, error) {
	q := c.queue
	c.mu.Lock()
	var names []string
	for _, name := range c.order {
		if _, ok := c.halts[name]; ok {
			names = append(names, name)
		}
	}
	c.mu.Unlock()
	var out []HaltResult
	var errs []error
	for _, name := range names {
		res, err := c.cancelQueued(ctx, q, name)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

func (c *Checker) cancelQueued(ctx context.Context, q Canceller, terminal string) (HaltResult, error) {
	res := HaltResult{Terminal: terminal, Halted: true, Cancelled: []string{}}
	ops, err := q.CancelQueued(ctx, terminal, c.IsOrder, CodeHalted,
		"cancelled while queued: the terminal was halted by the kill switch (POST /api/v1/risk/halt)")
	for _, op := range ops {
		res.Cancelled = append(res.Cancelled, op.ID)
	}
	return res, err
}

// Resume lifts the kill switch on terminal (every terminal when "").
func (c *Checker) Resume(ctx context.Context, terminal string) ([]HaltResult, error) {
	j := c.journal
	if j == nil {
		return nil, errors.New("risk: the checker has no journal (Config.Journal)")
	}
	names, err := c.terminals(terminal)
	if err != nil {
		return nil, err
	}
	var errs []error
	out := make([]HaltResult, 0, len(names))
	for _, name := range names {
		// The journal first: a resume that is not recorded would come
		// back as a halt after a restart, which is the safe way to fail.
		if err := j.SetHalt(ctx, name, false, "", c.now()); err != nil {
			errs = append(errs, fmt.Errorf("terminal %s stays halted: the journal could not record the resume: %w", name, err))
			out = append(out, HaltResult{Terminal: name, Halted: true, Cancelled: []string{}})
			continue
		}
		c.mu.Lock()
		delete(c.halts, name)
		c.mu.Unlock()
		out = append(out, HaltResult{Terminal: name, Halted: false, Cancelled: []string{}})
	}
	return out, errors.Join(errs...)
}

// Attach gives the checker the queue whose queued orders a halt cancels.
// The queue is built with the checker as its Admission, so it comes after.
func (c *Checker) Attach(q Canceller) { c.queue = q }

// Halted returns terminal's halt, if it is halted.
func (c *Checker) Halted(terminal string) (Halt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.halts[terminal]
	return h, ok
}

func (c *Checker) terminals(terminal string) ([]string, error) {
	if terminal == "" {
		return c.order, nil
	}
	for _, name := range c.order {
		if name == terminal {
			return []string{name}, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownTerminal, terminal)
}
