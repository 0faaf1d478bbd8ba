package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/brokerd/brokerd/queue"
	"github.com/brokerd/brokerd/queue/queuetest"
)

func TestRunOrder(t *testing.T) {
	type sub struct {
		name     string
		priority int
	}
	tests := []struct {
		name string
		subs []sub
		want []string
	}{
		{"fifo within a priority", []sub{{"a", 0}, {"b", 0}, {"c", 0}}, []string{"a", "b", "c"}},
		{"higher priority first", []sub{{"low", 0}, {"high", 10}, {"mid", 5}}, []string{"high", "mid", "low"}},
		{"mixed", []sub{{"a0", 0}, {"b5", 5}, {"c0", 0}, {"d5", 5}, {"e10", 10}, {"f0", 0}},
			[]string{"e10", "b5", "d5", "a0", "c0", "f0"}},
		{"bounds", []sub{{"min", MinPriority}, {"max", MaxPriority}}, []string{"max", "min"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.q.Start()
			if err := h.q.Pause(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
			var last string
			for _, s := range tt.subs {
				last = h.submit(Request{Name: s.name, Priority: s.priority}).Operation.ID
			}
			if err := h.q.Resume(context.Background(), "sim"); err != nil {
				t.Fatal(err)
			}
			_ = last
			for range tt.subs {
				h.started("sim")
			}
			if got := h.script["sim"].callOrder(); !slices.Equal(got, tt.want) {
				t.Errorf("ran %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueuePosition(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	h.q.Pause(context.Background(), "")
	tests := []struct {
		priority int
		want     int
	}{
		{0, 0},  // alone
		{0, 1},  // behind the first
		{5, 0},  // jumps both
		{5, 1},  // behind the other 5
		{10, 0}, // first
		{0, 5},  // last
	}
	for i, tt := range tests {
		s := h.submit(Request{Name: fmt.Sprint("op", i), Priority: tt.priority})
		if s.Position != tt.want {
			t.Errorf("submit %d (priority %d): position %d, want %d", i, tt.priority, s.Position, tt.want)
		}
	}
}

func TestLifecycleSuccess(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	s := h.submit(Request{Name: "buy", Params: params(map[string]any{"result_text": "ok"}), Priority: 3})
	if s.Operation.Status != StatusQueued || s.Operation.Terminal != "sim" || s.Operation.ID == "" {
		t.Fatalf("submitted %+v", s.Operation)
	}
	op := h.wait(s.Operation.ID)
	if op.Status != StatusSuccess || op.ErrorCode != "" || op.Error != "" {
		t.Fatalf("final %+v", op)
	}
	var data map[string]string
	if err := json.Unmarshal(op.Result, &data); err != nil || data["text"] != "ok" || op.Message != "done buy" {
		t.Errorf("result %s, message %q", op.Result, op.Message)
	}
	if op.StartedAt.IsZero() || op.FinishedAt.IsZero() || op.SubmittedAt.IsZero() {
		t.Errorf("times not set: %+v", op)
	}
	if got := h.obs.statuses(op.ID); !slices.Equal(got, []Status{StatusQueued, StatusRunning, StatusSuccess}) {
		t.Errorf("observer saw %v", got)
	}
	stored, err := h.store.Get(context.Background(), op.ID)
	if err != nil || stored.Status != StatusSuccess || string(stored.Result) != string(op.Result) {
		t.Errorf("journal has %+v, %v", stored, err)
	}
	got, err := h.q.Get(context.Background(), op.ID)
	if err != nil || got.Status != StatusSuccess {
		t.Errorf("Get = %+v, %v", got, err)
	}
}

func TestExecutorFailures(t *testing.T) {
	tests := []struct {
		name     string
		params   scriptParams
		wantCode string
		wantErr  string
	}{
		{"coded error", scriptParams{Fail: "insufficient cash", FailCode: "rejected"}, "rejected", "insufficient cash"},
		{"uncoded error", scriptParams{Fail: "boom"}, CodeInternal, "boom"},
		{"panic", scriptParams{Panic: "nil map"}, CodeInternal, "internal error: nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.q.Start()
			op := h.wait(h.submit(Request{Name: "x", Params: params(tt.params)}).Operation.ID)
			if op.Status != StatusFailed || op.ErrorCode != tt.wantCode || op.Error != tt.wantErr {
				t.Errorf("got %s/%s/%q, want failed/%s/%q", op.Status, op.ErrorCode, op.Error, tt.wantCode, tt.wantErr)
			}
			// The lane goes on after a failure or a panic.
			if next := h.wait(h.submit(Request{Name: "next"}).Operation.ID); next.Status != StatusSuccess {
				t.Errorf("next op: %+v", next)
			}
		})
	}
}

func TestSubmitErrors(t *testing.T) {
	h := newHarness(t, Config{MaxSize: 2}, "a", "b")
	h.q.Start()
	h.q.Pause(context.Background(), "a")
	h.submit(Request{Name: "1", Terminal: "a"})
	h.submit(Request{Name: "2", Terminal: "a"})
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"priority too high", Request{Name: "x", Priority: 11}, ErrInvalidPriority},
		{"priority negative", Request{Name: "x", Priority: -1}, ErrInvalidPriority},
		{"unknown terminal", Request{Name: "x", Terminal: "nope"}, ErrUnknownTerminal},
		{"lane full", Request{Name: "3", Terminal: "a"}, ErrQueueFull},
		{"default lane is the first", Request{Name: "3"}, ErrQueueFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.q.Submit(context.Background(), tt.req)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Another lane is not affected by a full one.
	if op := h.wait(h.submit(Request{Name: "other", Terminal: "b"}).Operation.ID); op.Status != StatusSuccess {
		t.Errorf("lane b: %+v", op)
	}
	if st := h.q.Stats(); st.Queued != 2 {
		t.Errorf("queued = %d, want 2: a refused submit must queue nothing", st.Queued)
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	ctx := context.Background()

	running := h.submit(Request{Name: "running", Params: params(scriptParams{Block: true})}).Operation
	h.started("sim")
	queued := h.submit(Request{Name: "queued"}).Operation
	after := h.submit(Request{Name: "after"}).Operation

	waited := make(chan Operation)
	go func() { op, _ := h.q.Wait(ctx, queued.ID); waited <- op }()

	op, err := h.q.Cancel(ctx, queued.ID)
	if err != nil || op.Status != StatusCancelled || op.ErrorCode != CodeCancelled {
		t.Fatalf("cancel queued: %+v, %v", op, err)
	}
	if w := <-waited; w.Status != StatusCancelled {
		t.Errorf("waiter got %+v", w)
	}
	if _, err := h.q.Cancel(ctx, queued.ID); !errors.Is(err, ErrNotCancellable) {
		t.Errorf("second cancel: %v", err)
	}
	if _, err := h.q.Cancel(ctx, running.ID); !errors.Is(err, ErrNotCancellable) {
		t.Errorf("cancel running: %v", err)
	}
	if _, err := h.q.Cancel(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel unknown: %v", err)
	}
	if st := h.q.Stats(); st.Queued != 1 || st.Cancelled != 1 {
		t.Errorf("stats after cancel: %+v", st.Counts)
	}
	close(h.script["sim"].gate("running"))
	h.wait(running.ID)
	if op := h.wait(after.ID); op.Status != StatusSuccess {
		t.Errorf("after: %+v", op)
	}
	if _, err := h.q.Cancel(ctx, after.ID); !errors.Is(err, ErrNotCancellable) {
		t.Errorf("cancel finished: %v", err)
	}
	if calls := h.script["sim"].callOrder(); slices.Contains(calls, "queued") {
		t.Errorf("a cancelled operation ran: %v", calls)
	}
	stored, _ := h.store.Get(ctx, queued.ID)
	if stored.Status != StatusCancelled {
		t.Errorf("journal says %s", stored.Status)
	}
}

func TestCancelNotJournaledStaysQueued(t *testing.T) {
	fs := &failingStore{Store: queuetest.NewMemStore()}
	h := newHarnessWithStore(t, Config{}, fs)
	h.q.Start()
	h.q.Pause(context.Background(), "")
	op := h.submit(Request{Name: "x"}).Operation
	fs.failFinish = true
	if _, err := h.q.Cancel(context.Background(), op.ID); !errors.Is(err, errDisk) {
		t.Fatalf("cancel with a failing journal: %v", err)
	}
	fs.failFinish = false
	if got, _ := h.q.Get(context.Background(), op.ID); got.Status != StatusQueued {
		t.Fatalf("status %s, want queued (the cancel did not happen)", got.Status)
	}
	h.q.Resume(context.Background(), "")
	if got := h.wait(op.ID); got.Status != StatusSuccess {
		t.Errorf("final %+v", got)
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name       string
		params     scriptParams
		sideEffect bool
		wantCode   string
		stuck      bool
	}{
		{"driver honours the deadline", scriptParams{HonourCtx: true}, false, CodeTimeout, false},
		{"order honours the deadline", scriptParams{HonourCtx: true}, true, CodeOutcomeUnknown, false},
		{"driver hangs", scriptParams{Block: true}, false, CodeTimeout, true},
		{"order hangs", scriptParams{Block: true}, true, CodeOutcomeUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{DefaultTimeout: 10 * time.Second})
			h.q.Start()
			slow := h.submit(Request{Name: "slow", Params: params(tt.params), SideEffect: tt.sideEffect}).Operation
			next := h.submit(Request{Name: "next"}).Operation
			h.started("sim")
			h.clock.Advance(9 * time.Second)
			if op, _ := h.q.Get(context.Background(), slow.ID); op.Status != StatusRunning {
				t.Fatalf("before the deadline: %s", op.Status)
			}
			h.clock.Advance(time.Second)
			op := h.wait(slow.ID)
			if op.Status != StatusFailed || op.ErrorCode != tt.wantCode {
				t.Fatalf("got %s/%s (%s), want failed/%s", op.Status, op.ErrorCode, op.Error, tt.wantCode)
			}
			if tt.stuck {
				h.waitLaneState("sim", LaneStuck)
				if st := h.q.Stats().Lanes[0]; st.StuckOn == "" || st.Running != 0 {
					t.Errorf("stuck lane stats %+v", st)
				}
				// Nothing overlaps: next has not started while the driver hangs.
				if got, _ := h.q.Get(context.Background(), next.ID); got.Status != StatusQueued {
					t.Fatalf("next is %s while the driver still runs", got.Status)
				}
				close(h.script["sim"].gate("slow"))
			}
			if got := h.wait(next.ID); got.Status != StatusSuccess {
				t.Errorf("next: %+v", got)
			}
			h.waitLaneState("sim", LaneIdle)
		})
	}
}

func TestPerOperationTimeout(t *testing.T) {
	h := newHarness(t, Config{DefaultTimeout: time.Hour})
	h.q.Start()
	op := h.submit(Request{Name: "x", Params: params(scriptParams{HonourCtx: true}), Timeout: 2 * time.Second}).Operation
	h.started("sim")
	h.clock.Advance(2 * time.Second)
	if got := h.wait(op.ID); got.ErrorCode != CodeTimeout {
		t.Errorf("got %+v", got)
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	h.q.Pause(context.Background(), "")
	exp := h.submit(Request{Name: "expiring", ExpireAfter: 5 * time.Second}).Operation
	keep := h.submit(Request{Name: "kept"}).Operation
	h.clock.Advance(4 * time.Second)
	if got, _ := h.q.Get(context.Background(), exp.ID); got.Status != StatusQueued {
		t.Fatalf("before expiry: %s", got.Status)
	}
	h.clock.Advance(time.Second)
	got := h.wait(exp.ID)
	if got.Status != StatusCancelled || got.ErrorCode != CodeExpired {
		t.Fatalf("expired op: %+v", got)
	}
	h.q.Resume(context.Background(), "")
	if got := h.wait(keep.ID); got.Status != StatusSuccess {
		t.Errorf("kept op: %+v", got)
	}
	if slices.Contains(h.script["sim"].callOrder(), "expiring") {
		t.Error("an expired operation ran")
	}
}

func TestExpiryAfterStartDoesNotCancel(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	op := h.submit(Request{Name: "x", Params: params(scriptParams{Block: true}), ExpireAfter: time.Second}).Operation
	h.started("sim")
	h.clock.Advance(2 * time.Second)
	close(h.script["sim"].gate("x"))
	if got := h.wait(op.ID); got.Status != StatusSuccess {
		t.Errorf("expire_after only applies before the start: %+v", got)
	}
}

func TestIdempotency(t *testing.T) {
	h := newHarness(t, Config{ResultTTL: time.Minute}, "a", "b")
	h.q.Start()
	ctx := context.Background()
	p := params(map[string]any{"stock_code": "600000"})
	first := h.submit(Request{Name: "buy", Terminal: "a", Params: p, IdempotencyKey: "k1"})
	if first.Duplicate {
		t.Fatal("first submit marked duplicate")
	}
	h.wait(first.Operation.ID)

	again := h.submit(Request{Name: "buy", Terminal: "a", Params: p, IdempotencyKey: "k1"})
	if !again.Duplicate || again.Operation.ID != first.Operation.ID || again.Operation.Status != StatusSuccess {
		t.Errorf("replay: %+v", again)
	}
	if _, err := h.q.Submit(ctx, Request{Name: "buy", Terminal: "a", Params: params(map[string]any{"stock_code": "000001"}), IdempotencyKey: "k1"}); !errors.Is(err, ErrKeyConflict) {
		t.Errorf("other payload, same key: %v", err)
	}
	other := h.submit(Request{Name: "buy", Terminal: "b", Params: p, IdempotencyKey: "k1"})
	if other.Duplicate || other.Operation.ID == first.Operation.ID {
		t.Errorf("keys are scoped per terminal: %+v", other)
	}

	// Evicted from memory, the key is still answered from the journal.
	h.clock.Advance(2 * time.Minute)
	if held, _ := h.q.Held(); held[first.Operation.ID] {
		t.Fatal("finished op not evicted after result_ttl")
	}
	late := h.submit(Request{Name: "buy", Terminal: "a", Params: p, IdempotencyKey: "k1"})
	if !late.Duplicate || late.Operation.ID != first.Operation.ID {
		t.Errorf("replay after eviction: %+v", late)
	}
	// After the key's lifetime it is a new operation.
	h.clock.Advance(25 * time.Hour)
	fresh := h.submit(Request{Name: "buy", Terminal: "a", Params: p, IdempotencyKey: "k1"})
	if fresh.Duplicate {
		t.Errorf("key older than 24h replayed: %+v", fresh)
	}
	h.wait(fresh.Operation.ID)
	if n := len(h.script["a"].callOrder()); n != 2 {
		t.Errorf("lane a executed %d times, want 2 (first and fresh)", n)
	}
}

func TestConcurrentSameKeyRunsOnce(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	const n = 50
	ids := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := h.q.Submit(context.Background(), Request{Name: "buy", IdempotencyKey: "same"})
			errs <- err
			ids <- s.Operation.ID
		}()
	}
	var first string
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		id := <-ids
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("two operations for one key: %s and %s", first, id)
		}
	}
	h.wait(first)
	if calls := h.script["sim"].callOrder(); len(calls) != 1 {
		t.Errorf("executed %d times", len(calls))
	}
}

func TestEvictionKeepsAnswersInJournal(t *testing.T) {
	h := newHarness(t, Config{ResultTTL: 10 * time.Minute})
	h.q.Start()
	var ids []string
	for i := range 20 {
		ids = append(ids, h.wait(h.submit(Request{Name: fmt.Sprint(i)}).Operation.ID).ID)
	}
	h.clock.Advance(11 * time.Minute) // the sweep runs
	held, finished := h.q.Held()
	inMemory := len(held)
	if inMemory != 0 || finished != 0 {
		t.Errorf("after result_ttl: %d ops, %d finished in memory; want 0", inMemory, finished)
	}
	for _, id := range ids {
		op, err := h.q.Get(context.Background(), id)
		if err != nil || op.Status != StatusSuccess {
			t.Fatalf("Get %s after eviction: %+v, %v", id, op, err)
		}
		if w, err := h.q.Wait(context.Background(), id); err != nil || w.Status != StatusSuccess {
			t.Fatalf("Wait %s after eviction: %+v, %v", id, w, err)
		}
	}
	if _, err := h.q.Get(context.Background(), "unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestMaxFinishedBoundsMemory(t *testing.T) {
	h := newHarness(t, Config{ResultTTL: time.Hour, MaxFinished: 5})
	h.q.Start()
	var ids []string
	for i := range 12 {
		ids = append(ids, h.wait(h.submit(Request{Name: fmt.Sprint(i)}).Operation.ID).ID)
	}
	held, _ := h.q.Held()
	inMemory, oldest, newest := len(held), held[ids[0]], held[ids[11]]
	if inMemory != 5 || oldest || !newest {
		t.Errorf("in memory: %d ops (oldest %v, newest %v); want the newest 5", inMemory, oldest, newest)
	}
	if op, err := h.q.Get(context.Background(), ids[0]); err != nil || op.Status != StatusSuccess {
		t.Errorf("evicted op from the journal: %+v, %v", op, err)
	}
}

func TestJournalFailures(t *testing.T) {
	t.Run("append fails: nothing queued", func(t *testing.T) {
		fs := &failingStore{Store: queuetest.NewMemStore(), failAppend: true}
		h := newHarnessWithStore(t, Config{}, fs)
		h.q.Start()
		if _, err := h.q.Submit(context.Background(), Request{Name: "buy", IdempotencyKey: "k"}); !errors.Is(err, errDisk) || !errors.Is(err, ErrJournal) {
			t.Fatalf("err = %v, want the store's error as ErrJournal", err)
		}
		if st := h.q.Stats(); st.Queued != 0 {
			t.Errorf("queued %d", st.Queued)
		}
		fs.failAppend = false
		s := h.submit(Request{Name: "buy", IdempotencyKey: "k"})
		if s.Duplicate {
			t.Error("a failed submit's key must not make a later one a duplicate")
		}
		h.wait(s.Operation.ID)
	})
	t.Run("running not journaled: not executed, still queued, lane blocked", func(t *testing.T) {
		fs := &failingStore{Store: queuetest.NewMemStore(), failRunning: true}
		h := newHarnessWithStore(t, Config{}, fs)
		h.q.Start()
		// Submitted to a paused lane, it is queued (an idle lane would
		// journal it running with its submit, see startnow_test.go).
		if err := h.q.Pause(context.Background(), "sim"); err != nil {
			t.Fatal(err)
		}
		op := h.submit(Request{Name: "buy", SideEffect: true}).Operation
		if err := h.q.Resume(context.Background(), "sim"); err != nil {
			t.Fatal(err)
		}
		h.waitLaneState("sim", LaneBlocked)
		if got, _ := h.q.Get(context.Background(), op.ID); got.Status != StatusQueued {
			t.Errorf("status %s, want queued: the journal says queued and nothing ran", got.Status)
		}
		if st := h.q.Stats().Lanes[0]; !st.Paused || !strings.Contains(st.Blocked, op.ID) {
			t.Errorf("lane %+v: want paused and blocked naming the operation", st)
		}
		if calls := h.script["sim"].callOrder(); len(calls) != 0 {
			t.Errorf("executor called: %v", calls)
		}
		// The operator fixes the journal and resumes: it runs, once.
		fs.failRunning = false
		h.q.Resume(context.Background(), "sim")
		if got := h.wait(op.ID); got.Status != StatusSuccess {
			t.Errorf("after resume: %+v", got)
		}
		if calls := h.script["sim"].callOrder(); len(calls) != 1 {
			t.Errorf("executed %d times", len(calls))
		}
	})
	t.Run("outcome not journaled: kept in memory, lane blocked", func(t *testing.T) {
		fs := &failingStore{Store: queuetest.NewMemStore()}
		h := newHarnessWithStore(t, Config{ResultTTL: time.Minute}, fs)
		h.q.Start()
		h.q.Pause(context.Background(), "")
		first := h.submit(Request{Name: "first"}).Operation
		second := h.submit(Request{Name: "second"}).Operation
		fs.failFinish = true
		h.q.Resume(context.Background(), "")
		if got := h.wait(first.ID); got.Status != StatusSuccess {
			t.Fatalf("first: %+v", got)
		}
		h.waitLaneState("sim", LaneBlocked)
		if got, _ := h.q.Get(context.Background(), second.ID); got.Status != StatusQueued {
			t.Errorf("second is %s: a lane whose journal fails must not run more", got.Status)
		}
		// Past result_ttl, memory still answers: the journal's record is stale.
		h.clock.Advance(2 * time.Minute)
		if got, err := h.q.Get(context.Background(), first.ID); err != nil || got.Status != StatusSuccess {
			t.Errorf("first after result_ttl: %+v, %v", got, err)
		}
	})
}

func TestStatsAndPause(t *testing.T) {
	h := newHarness(t, Config{}, "a", "b")
	h.q.Start()
	h.q.Pause(context.Background(), "a")
	h.waitLaneState("a", LanePaused)
	q1 := h.submit(Request{Name: "q1", Terminal: "a"}).Operation.ID
	q2 := h.submit(Request{Name: "q2", Terminal: "a"}).Operation.ID
	h.wait(h.submit(Request{Name: "ok", Terminal: "b"}).Operation.ID)
	h.wait(h.submit(Request{Name: "bad", Terminal: "b", Params: params(scriptParams{Fail: "no"})}).Operation.ID)

	st := h.q.Stats()
	if st.Queued != 2 || st.Success != 1 || st.Failed != 1 || st.Running != 0 {
		t.Errorf("overall %+v", st.Counts)
	}
	if len(st.Lanes) != 2 || st.Lanes[0].Terminal != "a" || !st.Lanes[0].Paused || st.Lanes[0].Queued != 2 {
		t.Errorf("lane a %+v", st.Lanes[0])
	}
	if st.Lanes[1].Success != 1 || st.Lanes[1].Failed != 1 || st.Lanes[1].Paused {
		t.Errorf("lane b %+v", st.Lanes[1])
	}
	if err := h.q.Pause(context.Background(), "zzz"); !errors.Is(err, ErrUnknownTerminal) {
		t.Errorf("pause unknown: %v", err)
	}
	h.q.Resume(context.Background(), "")
	h.wait(q1)
	h.wait(q2)
	if st := h.q.Stats(); st.Queued != 0 || st.Success != 3 {
		t.Errorf("after resume %+v", st.Counts)
	}
}

func TestRecover(t *testing.T) {
	store := queuetest.NewMemStore()
	clock := newFakeClock()
	now := clock.Now()
	ctx := context.Background()
	seed := []Operation{
		{ID: "r1", Name: "buy", Terminal: "sim", Status: StatusRunning, SubmittedAt: now.Add(-time.Minute), Seq: 1},
		{ID: "q2", Name: "second", Terminal: "sim", Status: StatusQueued, SubmittedAt: now.Add(-time.Minute), Seq: 2},
		{ID: "q3", Name: "third", Terminal: "sim", Status: StatusQueued, SubmittedAt: now.Add(-time.Minute), Seq: 3, Priority: 0},
		{ID: "old", Name: "old", Terminal: "sim", Status: StatusQueued, SubmittedAt: now.Add(-time.Hour), Seq: 4},
		{ID: "exp", Name: "exp", Terminal: "sim", Status: StatusQueued, SubmittedAt: now.Add(-time.Minute), ExpireAt: now.Add(-time.Second), Seq: 5},
		{ID: "gone", Name: "gone", Terminal: "removed", Status: StatusQueued, SubmittedAt: now, Seq: 6},
		{ID: "done", Name: "done", Terminal: "sim", Status: StatusSuccess, SubmittedAt: now, Seq: 7},
	}
	for _, op := range seed {
		store.Append(ctx, op)
	}
	s := newScript()
	q, err := New(Config{}, []Lane{{Terminal: "sim", Execute: s.execute}}, Deps{Clock: clock, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Shutdown(ctx)
	rec, err := q.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rec != (Recovery{Resumed: 2, Expired: 2, Interrupted: 1, Cancelled: 1}) {
		t.Errorf("recovery %+v", rec)
	}
	q.Start()
	for _, id := range []string{"q2", "q3"} {
		if op, err := q.Wait(ctx, id); err != nil || op.Status != StatusSuccess {
			t.Errorf("%s: %+v %v", id, op, err)
		}
	}
	if got := s.callOrder(); !slices.Equal(got, []string{"second", "third"}) {
		t.Errorf("executed %v: the running one must never run again, the queued ones in order", got)
	}
	want := map[string][2]string{
		"r1": {"failed", CodeInterrupted}, "old": {"cancelled", CodeExpired},
		"exp": {"cancelled", CodeExpired}, "gone": {"cancelled", CodeCancelled},
	}
	for id, w := range want {
		op, _ := store.Get(ctx, id)
		if string(op.Status) != w[0] || op.ErrorCode != w[1] {
			t.Errorf("%s: %s/%s, want %s/%s", id, op.Status, op.ErrorCode, w[0], w[1])
		}
	}
	// New submits come after the recovered ones.
	n, _ := q.Submit(ctx, Request{Name: "new"})
	if n.Operation.Seq != 8 {
		t.Errorf("seq %d does not follow the journal's", n.Operation.Seq)
	}
}

func TestShutdown(t *testing.T) {
	store := queuetest.NewMemStore()
	s := newScript()
	q, _ := New(Config{}, []Lane{{Terminal: "sim", Execute: s.execute}}, Deps{Clock: newFakeClock(), Store: store})
	q.Start()
	ctx := context.Background()
	running, _ := q.Submit(ctx, Request{Name: "running", Params: params(scriptParams{Block: true})})
	<-s.started
	queued, _ := q.Submit(ctx, Request{Name: "queued"})

	waitErr := make(chan error)
	go func() { _, err := q.Wait(ctx, queued.Operation.ID); waitErr <- err }()

	done := make(chan error)
	go func() { done <- q.Shutdown(ctx) }()
	if err := <-waitErr; !errors.Is(err, ErrClosed) {
		t.Errorf("waiter of a queued op: %v, want ErrClosed", err)
	}
	if _, err := q.Submit(ctx, Request{Name: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("submit during shutdown: %v", err)
	}
	close(s.gate("running"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if op, _ := store.Get(ctx, running.Operation.ID); op.Status != StatusSuccess {
		t.Errorf("the running op must finish: %+v", op)
	}
	if op, _ := store.Get(ctx, queued.Operation.ID); op.Status != StatusQueued {
		t.Errorf("the queued op stays queued in the journal: %+v", op)
	}
}

func TestShutdownDeadlineCancelsRunning(t *testing.T) {
	store := queuetest.NewMemStore()
	s := newScript()
	q, _ := New(Config{}, []Lane{{Terminal: "sim", Execute: s.execute}}, Deps{Clock: newFakeClock(), Store: store})
	q.Start()
	op, _ := q.Submit(context.Background(), Request{Name: "x", Params: params(scriptParams{HonourCtx: true}), SideEffect: true})
	<-s.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Shutdown(ctx); err == nil {
		t.Fatal("shutdown with an expired context must say the running op did not finish")
	}
	q.WaitWorkers()
	got, _ := store.Get(context.Background(), op.Operation.ID)
	if got.Status != StatusFailed || got.ErrorCode != CodeOutcomeUnknown {
		t.Errorf("an order cut short by shutdown: %s/%s, want failed/outcome_unknown", got.Status, got.ErrorCode)
	}
}

func TestNewRejectsBadLanes(t *testing.T) {
	exec := func(context.Context, Operation) (Result, error) { return Result{}, nil }
	deps := Deps{Clock: RealClock{}, Store: queuetest.NewMemStore()}
	for name, lanes := range map[string][]Lane{
		"none":      nil,
		"no name":   {{Execute: exec}},
		"no exec":   {{Terminal: "a"}},
		"duplicate": {{Terminal: "a", Execute: exec}, {Terminal: "a", Execute: exec}},
	} {
		if _, err := New(Config{}, lanes, deps); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{}, []Lane{{Terminal: "a", Execute: exec}}, Deps{}); err == nil {
		t.Error("missing deps accepted")
	}
}

func TestExclusiveNeverOverlapsAnOperation(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	ctx := context.Background()
	running := h.submit(Request{Name: "running", Params: params(scriptParams{Block: true})}).Operation
	h.started("sim")

	// While an operation runs, an exclusive action waits (here: gives up).
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := h.q.Exclusive(short, "sim", func(context.Context) error { t.Error("ran during an operation"); return nil })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "running") {
		t.Errorf("exclusive while running: %v", err)
	}
	close(h.script["sim"].gate("running"))
	h.wait(running.ID)

	// While an exclusive action runs, no operation starts.
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- h.q.Exclusive(ctx, "sim", func(context.Context) error {
			close(inside)
			<-release
			return errors.New("reconnect failed")
		})
	}()
	<-inside
	// The queue stays a queue meanwhile: cancellable, pausable.
	doomed := h.submit(Request{Name: "doomed"}).Operation
	if _, err := h.q.Cancel(ctx, doomed.ID); err != nil {
		t.Errorf("cancel during an exclusive action: %v", err)
	}
	next := h.submit(Request{Name: "next"}).Operation
	select {
	case op := <-h.script["sim"].started:
		t.Fatalf("%s started during an exclusive action", op.Name)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-done; err == nil || err.Error() != "reconnect failed" {
		t.Errorf("exclusive returns fn's error: %v", err)
	}
	if op := h.wait(next.ID); op.Status != StatusSuccess {
		t.Errorf("next: %+v", op)
	}
	if err := h.q.Exclusive(ctx, "nope", func(context.Context) error { return nil }); !errors.Is(err, ErrUnknownTerminal) {
		t.Errorf("unknown terminal: %v", err)
	}
}

func TestWaitOnAFinishedOperationIgnoresAnEndedContext(t *testing.T) {
	h := newHarness(t, Config{})
	h.q.Start()
	id := h.wait(h.submit(Request{Name: "x"}).Operation.ID).ID
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		if op, err := h.q.Wait(ended, id); err != nil || op.Status != StatusSuccess {
			t.Fatalf("Wait with an ended context on a finished op: %s, %v", op.Status, err)
		}
	}
}

func TestRecoverWithNegativeResumeMaxAgeResumesNothing(t *testing.T) {
	store := queuetest.NewMemStore()
	clock := newFakeClock()
	store.Append(context.Background(), Operation{ID: "q", Name: "buy", Terminal: "sim", Status: StatusQueued, SubmittedAt: clock.Now(), Seq: 1})
	q, _ := New(Config{ResumeMaxAge: -1}, []Lane{{Terminal: "sim", Execute: newScript().execute}}, Deps{Clock: clock, Store: store})
	rec, err := q.Recover(context.Background())
	if err != nil || rec.Resumed != 0 || rec.Expired != 1 {
		t.Errorf("recovery %+v, %v; want the queued op expired", rec, err)
	}
}

func TestPauseOutlivesARestart(t *testing.T) {
	store := queuetest.NewMemStore()
	ctx := context.Background()
	s1 := newScript()
	q1, _ := New(Config{}, []Lane{{Terminal: "a", Execute: s1.execute}, {Terminal: "b", Execute: s1.execute}}, Deps{Clock: newFakeClock(), Store: store})
	q1.Start()
	if err := q1.Pause(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	held, _ := q1.Submit(ctx, Request{Name: "held", Terminal: "a"})
	q1.Shutdown(ctx)

	s2 := newScript()
	q2, _ := New(Config{}, []Lane{{Terminal: "a", Execute: s2.execute}, {Terminal: "b", Execute: s2.execute}}, Deps{Clock: newFakeClock(), Store: store})
	defer q2.Shutdown(ctx)
	if _, err := q2.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	q2.Start()
	st := q2.Stats()
	if !st.Lanes[0].Paused || st.Lanes[1].Paused {
		t.Fatalf("after restart: a paused %v, b paused %v; want only a", st.Lanes[0].Paused, st.Lanes[1].Paused)
	}
	if op, _ := q2.Get(ctx, held.Operation.ID); op.Status != StatusQueued {
		t.Errorf("the held op is %s in a lane that is still paused", op.Status)
	}
	if err := q2.Resume(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if op, err := q2.Wait(ctx, held.Operation.ID); err != nil || op.Status != StatusSuccess {
		t.Errorf("after resume: %+v, %v", op, err)
	}
	if names, _ := store.PausedLanes(ctx); len(names) != 0 {
		t.Errorf("paused lanes after resume: %v", names)
	}
}

// TestQueriesSkipTheRunningRecord: an operation without side effects is not
// journaled as running (found queued after a crash, it just runs again);
// one with side effects always is, before its executor is called.
func TestQueriesSkipTheRunningRecord(t *testing.T) {
	fs := &failingStore{Store: queuetest.NewMemStore(), failRunning: true}
	h := newHarnessWithStore(t, Config{}, fs)
	h.q.Start()
	query := h.wait(h.submit(Request{Name: "funds_query"}).Operation.ID)
	if query.Status != StatusSuccess || query.StartedAt.IsZero() {
		t.Fatalf("a query needs no running record: %+v", query)
	}
	if stored, _ := fs.Get(context.Background(), query.ID); stored.Status != StatusSuccess || stored.StartedAt.IsZero() {
		t.Errorf("journal: %s, started %v; want success with its start time", stored.Status, stored.StartedAt)
	}
	if err := h.q.Pause(context.Background(), "sim"); err != nil { // queued, not started at once
		t.Fatal(err)
	}
	h.submit(Request{Name: "buy", SideEffect: true})
	if err := h.q.Resume(context.Background(), "sim"); err != nil {
		t.Fatal(err)
	}
	h.waitLaneState("sim", LaneBlocked)
	if calls := h.script["sim"].callOrder(); slices.Contains(calls, "buy") {
		t.Errorf("an order ran without its running record: %v", calls)
	}
}
