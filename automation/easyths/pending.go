package easyths

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// pendingOp is an EasyTHS operation submitted and not yet settled, as the
// ledger keeps it across a crash.
type pendingOp struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Params      json.RawMessage `json:"params"`
	SubmittedAt time.Time       `json:"submitted_at"`
}

// report logs and publishes an operation's end found after its call.
func (t *Terminal) report(p pendingOp, o outcome) {
	t.log.Warn("EasyTHS operation settled after its call ended", "easyths_operation_id", p.ID, "operation", p.Name,
		"status", o.status, "message", o.message)
	var data any
	if len(o.data) > 0 {
		data = o.data
	}
	t.emit(automation.VenueEvent{Terminal: t.name, Kind: "operation", At: t.now(), Data: map[string]any{
		"easyths_operation_id": p.ID, "operation": p.Name, "status": o.status, "success": o.success,
		"message": o.message, "data": data, "submitted_at": p.SubmittedAt,
	}})
}

// settleLater asks EasyTHS for p's end until it has one, EasyTHS forgets
// it, or the terminal closes.
func (t *Terminal) settleLater(p pendingOp) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		ctx, cancel := t.untilClose()
		defer cancel()
		for {
			o, status, err := t.status(ctx, p.ID)
			switch {
			case errors.Is(err, errForgotten):
				t.log.Error("EasyTHS forgot an unsettled operation: check the account", "easyths_operation_id", p.ID, "operation", p.Name)
				t.untrack(p.ID)
				return
			case err == nil && isFinal(status):
				t.report(p, o)
				t.untrack(p.ID)
				return
			}
			select {
			case <-ctx.Done():
				return // still journaled: the next start asks again
			case <-time.After(t.pollEvery):
			}
		}
	}()
}

// track keeps p (and journals it, with a ledger) until untrack.
func (t *Terminal) track(ctx context.Context, p pendingOp) {
	t.mu.Lock()
	t.pending[p.ID] = p
	state := t.ledgerState()
	t.mu.Unlock()
	t.save(ctx, state)
}

func (t *Terminal) untrack(id string) {
	t.mu.Lock()
	if _, ok := t.pending[id]; !ok {
		t.mu.Unlock()
		return
	}
	delete(t.pending, id)
	state := t.ledgerState()
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	t.save(ctx, state)
}

// ledgerState encodes the pending operations, sorted by id; t.mu held.
func (t *Terminal) ledgerState() []byte {
	list := make([]pendingOp, 0, len(t.pending))
	for _, p := range t.pending {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b pendingOp) int { return strings.Compare(a.ID, b.ID) })
	b, _ := json.Marshal(struct {
		Pending []pendingOp `json:"pending"`
	}{list})
	return b
}

func (t *Terminal) save(ctx context.Context, state []byte) {
	if t.ledger == nil {
		return
	}
	if err := t.ledger.SaveLedger(ctx, t.name, state); err != nil {
		t.log.Error("cannot journal EasyTHS's pending operation ids (they are in this log)", "error", err)
	}
}

// recover settles, in the background, the operations a previous run left
// unsettled (a crash between the submit and the result).
func (t *Terminal) recover(ctx context.Context) {
	if t.ledger == nil {
		return
	}
	raw, err := t.ledger.LoadLedger(ctx, t.name)
	if err != nil || raw == nil {
		if err != nil {
			t.log.Error("cannot read the journaled EasyTHS operation ids", "error", err)
		}
		return
	}
	var st struct {
		Pending []pendingOp `json:"pending"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.log.Error("the journaled EasyTHS operation ids are unreadable", "error", err)
		return
	}
	for _, p := range st.Pending {
		t.log.Warn("EasyTHS operation left unsettled by the last run: asking EasyTHS for it", "easyths_operation_id", p.ID, "operation", p.Name)
		t.mu.Lock()
		t.pending[p.ID] = p
		t.mu.Unlock()
		t.settleLater(p)
	}
}
