package easyths

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/easyths/easythstest"
)

var buy = automation.OrderRequest{Code: "000001", Side: automation.Buy, Kind: automation.Limit, Price: 12.0, Quantity: 100}

// The A-share flow against both shapes of EasyTHS.
func TestFlowBothVersions(t *testing.T) {
	for _, v := range []easythstest.Version{easythstest.V2, easythstest.V17} {
		t.Run(string(v), func(t *testing.T) {
			f := open(t, easythstest.Options{Version: v, Holdings: map[string]int64{"000001": 1000}, Quotes: map[string]float64{"000001": 12.5}}, nil, nil)
			ctx := testCtx(t)
			if s := f.term.State(); s != automation.StateReady {
				t.Fatalf("state %s", s)
			}
			for _, op := range automation.StockOperations {
				if !f.term.Supports(op) {
					t.Errorf("%s not supported", op)
				}
			}
			o, err := f.term.PlaceOrder(ctx, buy)
			if err != nil || o.Code != "000001" || o.Quantity != 100 {
				t.Fatalf("buy %+v %v", o, err)
			}
			if o.ContractNo == "" {
				t.Errorf("no contract number from %s (v1.7's found in order_query)", v)
			}
			if b, _ := json.Marshal(o); !bytes.Contains(b, []byte(`"easyths_operation_id":"`)) {
				t.Errorf("the order does not carry EasyTHS's id: %s", b)
			}
			ps, err := f.term.Positions(ctx)
			if err != nil || len(ps) != 1 || ps[0].Code != "000001" || ps[0].Quantity != 1000 {
				t.Fatalf("positions %+v %v", ps, err)
			}
			funds, err := f.term.Funds(ctx)
			if err != nil || funds.TotalAssets < 1_000_000 || funds.Available >= 1_000_000 {
				t.Fatalf("funds %+v %v", funds, err)
			}
			orders, err := f.term.Orders(ctx, "000001")
			if err != nil || len(orders) != 1 || orders[0].Side != automation.Buy || !orders[0].Open() {
				t.Fatalf("orders %+v %v", orders, err)
			}
			if v == easythstest.V2 {
				got, err := f.term.CancelOrders(ctx, automation.CancelRequest{ContractNo: o.ContractNo})
				if err != nil || len(got) != 1 || got[0].ContractNo != o.ContractNo {
					t.Fatalf("cancel by number: %+v %v", got, err)
				}
			} else {
				if _, err := f.term.CancelOrders(ctx, automation.CancelRequest{ContractNo: "1"}); automation.CodeOf(err) != automation.CodeRejected {
					t.Errorf("v1.7 cancel by number: %v", err)
				}
				got, err := f.term.CancelOrders(ctx, automation.CancelRequest{Code: "000001", Side: automation.Buy})
				if err != nil || len(got) != 1 || got[0].Status != automation.OrderCancelled {
					t.Fatalf("cancel buys: %+v %v", got, err)
				}
			}
			if _, err := f.term.RepoRates(ctx); err != nil {
				t.Errorf("repo rates: %v", err)
			}
			if n := f.peer.Submitted("buy"); n != 1 {
				t.Errorf("buy submitted %d times", n)
			}
			for _, a := range f.peer.Authorizations() {
				if a != "Bearer "+testKey {
					t.Fatalf("authorization %q", a)
				}
			}
		})
	}
}

func TestSupportsWhatIsListed(t *testing.T) {
	f := open(t, easythstest.Options{Operations: []string{"buy", "holding_query"}}, nil, nil)
	if !f.term.Supports("buy") || f.term.Supports("sell") || f.term.Supports("funds_query") {
		t.Error("Supports does not follow the listing")
	}
	if _, err := f.term.Funds(testCtx(t)); err != automation.ErrUnsupported {
		t.Errorf("funds: %v", err)
	}
}

// Lost answers after the submit are settled by the id, never resubmitted.
func TestLostResultSettledByID(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault easythstest.Fault
	}{
		{"result reset", easythstest.Fault{Route: "result", Kind: easythstest.Reset}},
		{"result 500", easythstest.Fault{Route: "result", Kind: easythstest.Error500}},
		{"result slow", easythstest.Fault{Route: "result", Kind: easythstest.Slow}},
	} {
		for _, v := range []easythstest.Version{easythstest.V2, easythstest.V17} {
			t.Run(tc.name+"/"+string(v), func(t *testing.T) {
				f := open(t, easythstest.Options{Version: v}, map[string]any{"request_timeout": "1s"}, nil)
				f.peer.Inject(tc.fault)
				o, err := f.term.PlaceOrder(testCtx(t), buy)
				if err != nil || o.Code != "000001" {
					t.Fatalf("%+v %v", o, err)
				}
				if s, e := f.peer.Submitted("buy"), f.peer.Executed("buy"); s != 1 || e != 1 {
					t.Errorf("submitted %d, executed %d", s, e)
				}
			})
		}
	}
}

// A submit whose answer is lost after EasyTHS queued it is settled from
// order_query (FIFO behind it), never resubmitted.
func TestLostSubmitSettled(t *testing.T) {
	for _, v := range []easythstest.Version{easythstest.V2, easythstest.V17} {
		for _, kind := range []easythstest.FaultKind{easythstest.Reset, easythstest.Error500} {
			t.Run(string(v)+"/"+string(kind), func(t *testing.T) {
				f := open(t, easythstest.Options{Version: v}, nil, nil)
				f.peer.Inject(easythstest.Fault{Route: "submit:buy", Kind: kind, Carried: true})
				o, err := f.term.PlaceOrder(testCtx(t), buy)
				if err != nil || o.ContractNo == "" || o.Quantity != 100 {
					t.Fatalf("%+v %v", o, err)
				}
				if s, e := f.peer.Submitted("buy"), f.peer.Executed("buy"); s != 1 || e != 1 {
					t.Errorf("submitted %d, executed %d", s, e)
				}
			})
		}
	}
}

func TestSubmitFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version easythstest.Version
		fault   easythstest.Fault
		req     automation.OrderRequest
		want    automation.Code
		text    string
		queued  bool
	}{
		{"queue full v2", easythstest.V2, easythstest.Fault{Route: "submit", Kind: easythstest.QueueFull}, buy, automation.CodeNotConnected, "queue is full", false},
		{"queue full v1.7", easythstest.V17, easythstest.Fault{Route: "submit", Kind: easythstest.QueueFull}, buy, automation.CodeNotConnected, "queue is full", false},
		{"invalid v2", easythstest.V2, easythstest.Fault{}, automation.OrderRequest{Code: "000001", Side: automation.Buy, Price: 12.5, Quantity: 150}, automation.CodeRejected, "params.quantity", false},
		{"invalid v1.7 (in the worker)", easythstest.V17, easythstest.Fault{}, automation.OrderRequest{Code: "000001", Side: automation.Buy, Price: 12.5, Quantity: 150}, automation.CodeRejected, "参数错误", true},
		{"submit reset, not queued", easythstest.V2, easythstest.Fault{Route: "submit", Kind: easythstest.Reset}, buy, automation.CodeRejected, "not placed", false},
		{"submit 500", easythstest.V17, easythstest.Fault{Route: "submit", Kind: easythstest.Error500}, buy, automation.CodeRejected, "not placed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, easythstest.Options{Version: tc.version}, nil, nil)
			if tc.fault.Kind != "" {
				f.peer.Inject(tc.fault)
			}
			_, err := f.term.PlaceOrder(testCtx(t), tc.req)
			if automation.CodeOf(err) != tc.want || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("%v (%s), want %s naming %q", err, automation.CodeOf(err), tc.want, tc.text)
			}
			if n := f.peer.Submitted("buy"); n != 1 {
				t.Errorf("submitted %d times", n)
			}
		})
	}
}

// An operation still queued at EasyTHS at the deadline is deleted there:
// it never runs after brokerd gave up.
func TestQueuedAtDeadlineIsCancelledThere(t *testing.T) {
	f := open(t, easythstest.Options{}, nil, nil)
	f.peer.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := f.term.PlaceOrder(ctx, buy)
	if automation.CodeOf(err) != automation.CodeTimeout || !strings.Contains(err.Error(), "cancelled there") {
		t.Fatalf("%v (%s)", err, automation.CodeOf(err))
	}
	f.peer.Release()
	if _, err := f.term.Positions(testCtx(t)); err != nil { // the worker ran past where the buy was
		t.Fatal(err)
	}
	if n := f.peer.Executed("buy"); n != 0 {
		t.Errorf("the buy ran %d times after the deadline", n)
	}
}

// EasyTHS restarted mid-run: the id is forgotten (outcome unknown, never
// resubmitted), health says logged out until the client is back.
func TestRestartedServer(t *testing.T) {
	f := open(t, easythstest.Options{}, map[string]any{"probe_every": "10ms"}, nil)
	f.peer.Hold()
	done := make(chan error, 1)
	go func() { _, err := f.term.PlaceOrder(testCtx(t), buy); done <- err }()
	for f.peer.Submitted("buy") == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	f.peer.Restart()
	f.peer.Release()
	err := <-done
	if automation.CodeOf(err) != automation.CodeOutcomeUnknown && automation.CodeOf(err) != automation.CodeInterrupted {
		t.Fatalf("%v (%s)", err, automation.CodeOf(err))
	}
	waitState(t, f.term, automation.StateDisconnected)
	if _, err := f.term.Funds(testCtx(t)); automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("funds while logged out: %v", err)
	}
	f.peer.Login()
	waitState(t, f.term, automation.StateReady)
	if n := f.peer.Submitted("buy"); n != 1 {
		t.Errorf("submitted %d", n)
	}
}

// An id journaled by a run that crashed is settled at the next start by
// asking EasyTHS, and published.
func TestRecoverJournaledID(t *testing.T) {
	peer := easythstest.New(easythstest.Options{APIKey: testKey, Quotes: map[string]float64{"000001": 12.5}})
	defer peer.Close()
	body := `{"params":{"stock_code":"000001","price":12.5,"quantity":100},"priority":0}`
	req, _ := http.NewRequest("POST", peer.URL+"/api/v1/operations/buy", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sub struct {
		Data struct {
			OperationID string `json:"operation_id"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	ledger := &memLedger{}
	state, _ := json.Marshal(map[string]any{"pending": []pendingOp{{ID: sub.Data.OperationID, Name: "buy", SubmittedAt: time.Now()}}})
	_ = ledger.SaveLedger(context.Background(), "easyths", state)

	term, err := Open(testCtx(t), "easyths", tomlOptions{"url": peer.URL, "api_key_env": "K", "probe_every": "1h"}, automation.Env{
		Getenv: func(string) string { return testKey }, Ledger: ledger,
		Publish: func(ev automation.VenueEvent) {
			if ev.Kind == "operation" {
				got <- ev
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	select {
	case ev := <-got:
		b, _ := json.Marshal(ev.Data)
		if !bytes.Contains(b, []byte(sub.Data.OperationID)) || !bytes.Contains(b, []byte(`"status":"success"`)) {
			t.Errorf("event %s", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the journaled id was not settled")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, _ := ledger.LoadLedger(context.Background(), "easyths")
		if bytes.Contains(raw, []byte(`"pending":[]`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger still %s", raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := peer.Submitted("buy"); n != 1 {
		t.Errorf("submitted %d", n)
	}
}

var got = make(chan automation.VenueEvent, 4)

func TestRefusedAndCtx(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	term, err := Open(testCtx(t), "x", tomlOptions{"url": "http://" + addr, "probe_every": "1h"}, automation.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	if term.State() != automation.StateDisconnected || !term.Supports("buy") || term.Supports("nope") {
		t.Errorf("state %s", term.State())
	}
	if _, err := term.(*Terminal).PlaceOrder(testCtx(t), buy); automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("buy against nobody: %v", err)
	}

	f := open(t, easythstest.Options{}, map[string]any{"request_timeout": "1m"}, nil)
	f.peer.Inject(easythstest.Fault{Route: "submit", Kind: easythstest.Slow})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.term.Positions(ctx); automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("slow submit past the deadline: %v", err)
	}
}

// An order still running at EasyTHS at the deadline is outcome_unknown,
// and settled in the background by its id: logged and published.
func TestRunningAtDeadlineSettledLater(t *testing.T) {
	f := open(t, easythstest.Options{}, map[string]any{"request_timeout": "1s"}, nil)
	f.peer.Inject(easythstest.Fault{Route: "run:buy", Kind: easythstest.Stall})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := f.term.PlaceOrder(ctx, buy)
	if automation.CodeOf(err) != automation.CodeOutcomeUnknown || !strings.Contains(err.Error(), "running") {
		t.Fatalf("%v (%s)", err, automation.CodeOf(err))
	}
	f.peer.Unstall()
	select {
	case <-f.events.got:
	case <-time.After(10 * time.Second):
		t.Fatal("not settled in the background")
	}
	f.events.mu.Lock()
	ev := f.events.evs[len(f.events.evs)-1]
	f.events.mu.Unlock()
	if b, _ := json.Marshal(ev.Data); ev.Kind != "operation" || !bytes.Contains(b, []byte(`"status":"success"`)) {
		t.Errorf("event %s %s", ev.Kind, b)
	}
	if s, e := f.peer.Submitted("buy"), f.peer.Executed("buy"); s != 1 || e != 1 {
		t.Errorf("submitted %d, executed %d", s, e)
	}
	if !strings.Contains(f.log.String(), "easyths_operation_id") {
		t.Error("the EasyTHS id is not in the log")
	}
}
