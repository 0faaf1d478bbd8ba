package queue_test

import (
	"testing"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

// TestNotConnectedFreesTheKey: an operation that failed not_connected sent
// nothing, so its idempotency key may be used again for a new attempt;
// any other failure keeps it (a retry must never be a second order).
func TestNotConnectedFreesTheKey(t *testing.T) {
	for _, journal := range []string{"in memory", "from the journal"} {
		t.Run(journal, func(t *testing.T) {
			store := queuetest.NewMemStore()
			h := newHarnessWithStore(t, Config{}, store)
			h.q.Start()
			offline := params(map[string]string{"fail": "terminal offline", "fail_code": CodeNotConnected})
			first := h.submit(Request{Name: "buy", Params: offline, SideEffect: true, IdempotencyKey: "k"})
			if op := h.wait(first.Operation.ID); op.Status != StatusFailed || op.ErrorCode != CodeNotConnected {
				t.Fatalf("first attempt: %s %s", op.Status, op.ErrorCode)
			}
			if journal == "from the journal" { // a restart: only the journal knows the key
				h = newHarnessWithStore(t, Config{}, store)
				h.q.Start()
			}

			// Same payload: a new attempt, not the old failure.
			again := h.submit(Request{Name: "buy", Params: offline, SideEffect: true, IdempotencyKey: "k"})
			if again.Duplicate || again.Operation.ID == first.Operation.ID {
				t.Fatalf("a retry after not_connected answered the old operation: %+v", again)
			}
			h.wait(again.Operation.ID)
			// Another payload after the reconnect: also a new attempt.
			fixed := h.submit(Request{Name: "buy", Params: params(map[string]string{}), SideEffect: true, IdempotencyKey: "k"})
			if fixed.Duplicate || fixed.Operation.ID == again.Operation.ID {
				t.Fatalf("%+v", fixed)
			}
			if op := h.wait(fixed.Operation.ID); op.Status != StatusSuccess {
				t.Fatalf("%s", op.Status)
			}
			// Once it ran, the key is taken for good.
			if s := h.submit(Request{Name: "buy", Params: params(map[string]string{}), SideEffect: true, IdempotencyKey: "k"}); !s.Duplicate || s.Operation.ID != fixed.Operation.ID {
				t.Errorf("after a success the key answered %+v", s)
			}
		})
	}
}

// TestOtherFailuresKeepTheKey: a rejection or an outcome_unknown answers
// the old operation to a retry.
func TestOtherFailuresKeepTheKey(t *testing.T) {
	for _, code := range []string{"rejected", "outcome_unknown", "timeout", ""} {
		t.Run(code, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.q.Start()
			p := params(map[string]string{"fail": "no", "fail_code": code})
			first := h.submit(Request{Name: "buy", Params: p, SideEffect: true, IdempotencyKey: "k"})
			h.wait(first.Operation.ID)
			if s := h.submit(Request{Name: "buy", Params: p, SideEffect: true, IdempotencyKey: "k"}); !s.Duplicate || s.Operation.ID != first.Operation.ID {
				t.Errorf("a retry after %q was not the old operation: %+v", code, s)
			}
		})
	}
}
