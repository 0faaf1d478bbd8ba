package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// FaultKind names a way a terminal can misbehave.
type FaultKind string

// The faults a sim can be told to show, so that the queue's timeout,
// health and reconciliation paths run against a real driver.
const (
	// FaultDisconnect drops the connection at once: State reports
	// disconnected and every action fails with not_connected until
	// Reconnect. It applies to the whole terminal (no operation, no count).
	FaultDisconnect FaultKind = "disconnect"
	// FaultHang makes an action block until its context is done, then
	// fail with code timeout (a deadline) or interrupted (a cancellation,
	// as brokerd shutting down). Nothing is carried out.
	FaultHang FaultKind = "hang"
	// FaultStall makes an action block for Duration whatever its context
	// says, like a frozen UI that comes back: a stuck lane. Afterwards the
	// action goes on as usual, so it fails (timeout or interrupted, as a
	// hang) when its context ended meanwhile and is carried out otherwise.
	FaultStall FaultKind = "stall"
	// FaultReject makes an action fail with code rejected, as a broker
	// refusing it; nothing is carried out.
	FaultReject FaultKind = "reject"
	// FaultPopup makes an action fail as a THS pop-up would
	// ("委托失败: 系统繁忙"), with code internal: the driver met a dialog it
	// cannot read as the broker's answer. Nothing is carried out.
	FaultPopup FaultKind = "popup"
	// FaultLostReply carries the action out (an order is recorded and
	// saved) but fails it with code outcome_unknown, as when the reply is
	// lost after sending: reconciliation must find the order.
	FaultLostReply FaultKind = "lost_reply"
)

var faultKinds = []FaultKind{FaultDisconnect, FaultHang, FaultStall, FaultReject, FaultPopup, FaultLostReply}

// Fault is an injected misbehaviour. In TOML and JSON:
// { kind = "reject", operation = "buy", count = 2, message = "…" }.
type Fault struct {
	Kind FaultKind `toml:"kind" json:"kind"`
	// Operation limits the fault to one operation (an automation.Op*
	// name: buy, funds_query, …); empty means every operation.
	Operation string `toml:"operation" json:"operation,omitempty"`
	// Count is how many actions the fault affects before it clears
	// itself; 0 means every matching action until ClearFaults.
	Count int `toml:"count" json:"count,omitempty"`
	// Duration is how long a stall blocks (stall only, required).
	Duration Duration `toml:"duration" json:"duration,omitempty"`
	// Message replaces the default text of a reject or a popup.
	Message string `toml:"message" json:"message,omitempty"`
}

// Validate reports what is wrong with a fault.
func (f Fault) Validate() error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("kind %q is not one of %v", f.Kind, faultKinds)
	}
	if f.Operation != "" && !slices.Contains(automation.StockOperations, f.Operation) {
		return fmt.Errorf("operation %q is not an operation name such as %q", f.Operation, automation.OpBuy)
	}
	if f.Count < 0 {
		return fmt.Errorf("count must be ≥ 0 (0 = until cleared), got %d", f.Count)
	}
	switch f.Kind {
	case FaultDisconnect:
		if f.Operation != "" || f.Count != 0 {
			return errors.New("a disconnect applies to the whole terminal until Reconnect: give no operation or count")
		}
	case FaultStall:
		if f.Duration <= 0 {
			return fmt.Errorf(`a stall needs a positive duration such as "5s", got %s`, f.Duration)
		}
	}
	if f.Duration != 0 && f.Kind != FaultStall {
		return fmt.Errorf("duration applies to a stall only, not to %s", f.Kind)
	}
	if f.Message != "" && f.Kind != FaultReject && f.Kind != FaultPopup {
		return fmt.Errorf("message applies to reject and popup only, not to %s", f.Kind)
	}
	return nil
}

// control is the terminal's connection state and its pending faults. It
// has its own lock so that State never waits behind an action.
type control struct {
	mu     sync.Mutex
	state  automation.State
	closed bool
	faults []*Fault // Count counts down; 0 = until cleared
}

func (c *control) get() automation.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// set changes the state of a terminal that is not closed.
func (c *control) set(s automation.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.state = s
	}
}

// reopen fails for a closed terminal: it cannot be reconnected.
func (c *control) reopen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("the terminal is closed")
	}
	return nil
}

func (c *control) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.state = automation.StateDisconnected
}

func (c *control) inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Kind == FaultDisconnect {
		if !c.closed {
			c.state = automation.StateDisconnected
		}
		return
	}
	c.faults = append(c.faults, &f)
}

func (c *control) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
}

func (c *control) pending() []Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Fault, len(c.faults))
	for i, f := range c.faults {
		out[i] = *f
	}
	return out
}

// connected fails when the terminal cannot take an action.
func (c *control) connected(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return automation.NotConnected("sim terminal %s is closed", name)
	}
	if c.state != automation.StateReady {
		return automation.NotConnected("sim terminal %s is %s: reconnect it (POST /api/v1/system/reconnect) before trading", name, c.state)
	}
	return nil
}

// take consumes the first pending fault that matches op, oldest first: one
// fault per action.
func (c *control) take(op string) (Fault, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if f.Operation != "" && f.Operation != op {
			continue
		}
		taken := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				c.faults = slices.Delete(c.faults, i, i+1)
			}
		}
		return taken, true
	}
	return Fault{}, false
}

// prepare is everything an action goes through before it touches the
// account: the connection, a blocking fault, the emulated latency, a
// failing fault. It returns the fault taken (if any) for the caller to
// finish: only lost_reply acts after the action.
func (t *Terminal) prepare(ctx context.Context, op string) (Fault, error) {
	if err := t.ctl.connected(t.name); err != nil {
		return Fault{}, err
	}
	f, faulty := t.ctl.take(op)
	if faulty {
		switch f.Kind {
		case FaultHang:
			<-ctx.Done()
			return f, notCarriedOut(ctx, "sim terminal %s hung on %s (injected fault)", t.name, op)
		case FaultStall:
			<-t.after(time.Duration(f.Duration))
		}
	}
	if err := t.wait(ctx, op); err != nil {
		return f, err
	}
	if err := t.ctl.connected(t.name); err != nil {
		return f, err // lost while waiting
	}
	if faulty {
		switch f.Kind {
		case FaultReject:
			return f, automation.Rejected("%s", cmp.Or(f.Message, "委托被拒绝: 交易所拒单 (模拟故障)"))
		case FaultPopup:
			return f, &automation.Error{Code: automation.CodeInternal, Message: cmp.Or(f.Message, "委托失败: 系统繁忙")}
		}
	}
	return f, nil
}

// wait emulates the terminal's latency, honouring ctx. A done ctx fails
// the action before it is carried out, even with no latency.
func (t *Terminal) wait(ctx context.Context, op string) error {
	if t.latency > 0 {
		select {
		case <-t.after(t.latency):
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		return notCarriedOut(ctx, "sim terminal %s: %s", t.name, op)
	}
	return nil
}

// notCarriedOut is the error for an action cut short by the end of its
// context before it changed anything: code timeout for a deadline, code
// interrupted for a cancellation (brokerd shutting down). Neither may be
// used once a change may have been recorded: that is outcome_unknown.
//
// The cause tells them apart, not ctx.Err: a deadline kept on the queue's
// own clock cancels the context with cause context.DeadlineExceeded.
func notCarriedOut(ctx context.Context, format string, args ...any) error {
	cause := context.Cause(ctx)
	code, why := automation.CodeInterrupted, "brokerd stopped it before it was carried out; nothing was done"
	if errors.Is(cause, context.DeadlineExceeded) {
		code, why = automation.CodeTimeout, "its deadline passed before it was carried out; nothing was done"
	}
	return &automation.Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + why, Err: cause}
}

// endedBy reports whether err is ctx's end, as a ledger that gave up
// reports it.
func endedBy(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, context.Cause(ctx)))
}
