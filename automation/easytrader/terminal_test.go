package easytrader

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/easytrader/easytradertest"
)

// The A-share flow on every broker dialect: the same domain values
// whatever the columns are called.
func TestFlowAcrossDialects(t *testing.T) {
	for _, d := range easytradertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			f := open(t, easytradertest.Options{Dialect: d, Holdings: map[string]int64{"000001": 1000}, Quotes: map[string]float64{"000001": 12.5}}, nil)
			ctx := testCtx(t)
			if s := f.term.State(); s != automation.StateReady {
				t.Fatalf("state %s after open", s)
			}
			if p := f.peer.Prepares(); len(p) != 1 || p[0].User != testUser || p[0].Password != testPassword || p[0].Broker != "universal_client" {
				t.Errorf("prepare: %+v", p)
			}

			funds, err := f.term.Funds(ctx)
			if err != nil || funds.Balance != 1_000_000 || funds.Available != 1_000_000 || funds.MarketValue != 12500 || funds.TotalAssets != 1_012_500 {
				t.Fatalf("funds %+v %v", funds, err)
			}
			ps, err := f.term.Positions(ctx)
			if err != nil || len(ps) != 1 {
				t.Fatalf("positions %+v %v", ps, err)
			}
			if p := ps[0]; p.Code != "000001" || p.Quantity != 1000 || p.Available != 1000 || p.CostPrice != 12.5 || p.LastPrice != 12.5 || p.MarketValue != 12500 {
				t.Errorf("position %+v", p)
			}

			o, err := f.term.PlaceOrder(ctx, automation.OrderRequest{Code: "000001", Side: automation.Buy, Kind: automation.Limit, Price: 12.3, Quantity: 200})
			if err != nil || o.ContractNo != f.peer.Contract(1) || o.Status != automation.OrderPending {
				t.Fatalf("buy: %+v %v", o, err)
			}
			if _, err := f.term.PlaceOrder(ctx, automation.OrderRequest{Code: "000001", Side: automation.Sell, Kind: automation.Limit, Price: 12.9, Quantity: 100}); err != nil {
				t.Fatal(err)
			}
			orders, err := f.term.Orders(ctx, "000001")
			if err != nil || len(orders) != 2 {
				t.Fatalf("orders %+v %v", orders, err)
			}
			if b := orders[0]; b.Code != "000001" || b.Side != automation.Buy || b.Price != 12.3 || b.Quantity != 200 || b.Status != automation.OrderPending || b.Time == "" {
				t.Errorf("the buy as listed: %+v", b)
			}
			if s := orders[1]; s.Side != automation.Sell || s.Price != 12.9 {
				t.Errorf("the sell as listed: %+v", s)
			}
			if other, _ := f.term.Orders(ctx, "600000"); len(other) != 0 {
				t.Errorf("orders of 600000: %+v", other)
			}

			// One by its number (the number as the buy answered it).
			got, err := f.term.CancelOrders(ctx, automation.CancelRequest{ContractNo: o.ContractNo})
			if err != nil || len(got) != 1 || got[0].Status != automation.OrderCancelled || got[0].Cancelled != 200 {
				t.Fatalf("cancel by number: %+v %v", got, err)
			}
			// Again: nothing left to cancel, and nothing is sent.
			sent := len(f.peer.Cancels())
			if got, err := f.term.CancelOrders(ctx, automation.CancelRequest{ContractNo: o.ContractNo}); err != nil || len(got) != 0 {
				t.Errorf("second cancel: %+v %v", got, err)
			}
			if len(f.peer.Cancels()) != sent {
				t.Error("a cancel of an order no longer open was sent")
			}
			// The rest, by side.
			if got, err := f.term.CancelOrders(ctx, automation.CancelRequest{Side: automation.Buy}); err != nil || len(got) != 0 {
				t.Errorf("cancel buys: %+v %v", got, err)
			}
			got, err = f.term.CancelOrders(ctx, automation.CancelRequest{Side: automation.Sell})
			if err != nil || len(got) != 1 || got[0].Side != automation.Sell {
				t.Errorf("cancel sells: %+v %v", got, err)
			}
			if f.peer.Placed() != 2 {
				t.Errorf("placed %d", f.peer.Placed())
			}
		})
	}
}

// Unknown columns are kept: the row's JSON shows them after the fields.
func TestUnknownColumnsKept(t *testing.T) {
	f := open(t, easytradertest.Options{Dialect: easytradertest.YH, Holdings: map[string]int64{"600000": 100}}, nil)
	ps, err := f.term.Positions(testCtx(t))
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	b, _ := json.Marshal(ps[0])
	if !strings.Contains(string(b), `"股东代码":"A123456789"`) || !strings.Contains(string(b), `"证券代码":"600000"`) {
		t.Errorf("position JSON %s", b)
	}
}

func TestRefusedIsNotConnected(t *testing.T) {
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
	if s := term.State(); s != automation.StateDisconnected {
		t.Errorf("state %s", s)
	}
	_, err = term.(*Terminal).PlaceOrder(testCtx(t), automation.OrderRequest{Code: "600000", Side: automation.Buy, Price: 10, Quantity: 100})
	if automation.CodeOf(err) != automation.CodeNotConnected {
		t.Errorf("buy against nobody: %v (%s)", err, automation.CodeOf(err))
	}
}

func TestRejectedWithTheAgentsMessage(t *testing.T) {
	f := open(t, easytradertest.Options{Cash: 1000}, nil)
	_, err := f.term.PlaceOrder(testCtx(t), automation.OrderRequest{Code: "600000", Side: automation.Buy, Price: 10, Quantity: 1000})
	var ae *automation.Error
	if !errors.As(err, &ae) || ae.Code != automation.CodeRejected || ae.Message != "提示信息: 可用资金不足" || ae.VenueCode != "easytrader.exceptions.TradeError" {
		t.Fatalf("%#v", err)
	}
	f.peer.Inject(easytradertest.Fault{Path: "/sell", Kind: easytradertest.Reject, Class: "easytrader.exceptions.TradeError", Message: "提示信息: 该股票停牌"})
	_, err = f.term.PlaceOrder(testCtx(t), automation.OrderRequest{Code: "600000", Side: automation.Sell, Price: 10, Quantity: 100})
	if automation.CodeOf(err) != automation.CodeRejected || !strings.Contains(err.Error(), "停牌") {
		t.Errorf("%v", err)
	}
}

// A buy whose answer is lost is settled from today's entrusts and never
// sent twice.
func TestLostAnswerSettled(t *testing.T) {
	buy := automation.OrderRequest{Code: "600000", Side: automation.Buy, Kind: automation.Limit, Price: 10.5, Quantity: 100}
	for _, tc := range []struct {
		name    string
		fault   easytradertest.Fault
		manual  bool // a same-looking order placed at the screen meanwhile
		timeout string
		want    automation.Code // "" success, else an error code
	}{
		{name: "reset after placing", fault: easytradertest.Fault{Kind: easytradertest.Reset, Carried: true}},
		{name: "reset before placing", fault: easytradertest.Fault{Kind: easytradertest.Reset}, want: automation.CodeRejected},
		{name: "500 after placing", fault: easytradertest.Fault{Kind: easytradertest.Error500, Carried: true}},
		{name: "500 before placing", fault: easytradertest.Fault{Kind: easytradertest.Error500}, want: automation.CodeRejected},
		{name: "slow past request_timeout", fault: easytradertest.Fault{Kind: easytradertest.Slow, Carried: true}, timeout: "200ms"},
		{name: "success without entrust_no", fault: easytradertest.Fault{Kind: easytradertest.NoEntrustNo}},
		{name: "two candidates", fault: easytradertest.Fault{Kind: easytradertest.Reset, Carried: true}, manual: true, want: automation.CodeOutcomeUnknown},
	} {
		for _, d := range []easytradertest.Dialect{easytradertest.THS, easytradertest.HT} {
			t.Run(tc.name+"/"+string(d), func(t *testing.T) {
				extra := map[string]any{}
				if tc.timeout != "" {
					extra["request_timeout"] = tc.timeout
				}
				var skew atomic.Int64
				f := open(t, easytradertest.Options{Dialect: d, Now: func() time.Time {
					return time.Now().Add(time.Duration(skew.Load()))
				}}, extra)
				ctx := testCtx(t)
				// An identical order placed a minute before: never a candidate.
				skew.Store(int64(-time.Minute))
				f.peer.PlaceManual("600000", false, 10.5, 100)
				skew.Store(0)
				if _, err := f.term.PlaceOrder(ctx, buy); err != nil {
					t.Fatal(err)
				}
				if tc.manual {
					f.peer.PlaceManual("600000", false, 10.5, 100)
				}
				before := f.peer.Received("/buy")
				tc.fault.Path = "/buy"
				f.peer.Inject(tc.fault)
				o, err := f.term.PlaceOrder(ctx, buy)
				if got := automation.CodeOf(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
					t.Fatalf("%+v, %v (%s), want %q", o, err, got, tc.want)
				}
				if tc.want == "" && o.ContractNo != f.peer.Contract(3) {
					t.Errorf("settled as %+v, want contract %s", o, f.peer.Contract(3))
				}
				if tc.want == automation.CodeOutcomeUnknown && !strings.Contains(err.Error(), f.peer.Contract(3)) {
					t.Errorf("the candidates are not named: %v", err)
				}
				if n := f.peer.Received("/buy") - before; n != 1 {
					t.Errorf("the buy reached the agent %d times", n)
				}
			})
		}
	}
}

// An agent restarted mid-run answers KeyError 'user': not connected, then
// logged in again by the prober.
func TestRestartedAgentLogsInAgain(t *testing.T) {
	f := open(t, easytradertest.Options{}, nil)
	ctx := testCtx(t)
	f.peer.Restart()
	_, err := f.term.Funds(ctx)
	if automation.CodeOf(err) != automation.CodeNotConnected || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("after restart: %v", err)
	}
	waitState(t, f.term, automation.StateReady)
	if n := len(f.peer.Prepares()); n != 2 {
		t.Errorf("%d prepares", n)
	}
	if _, err := f.term.Funds(ctx); err != nil {
		t.Fatal(err)
	}
	// A buy refused with KeyError 'user' placed nothing: not connected.
	f.peer.Restart()
	_, err = f.term.PlaceOrder(ctx, automation.OrderRequest{Code: "600000", Side: automation.Buy, Price: 10, Quantity: 100})
	if automation.CodeOf(err) != automation.CodeNotConnected || f.peer.Placed() != 0 {
		t.Errorf("buy while logged out: %v, placed %d", err, f.peer.Placed())
	}
	// Reconnect prepares again.
	if err := f.term.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if f.term.State() != automation.StateReady {
		t.Errorf("state %s", f.term.State())
	}
}

// The prober finds the agent logged in by hand; a null balance (a captcha
// on the grid) is an error state until a probe answers again.
func TestProbeAndNullBalance(t *testing.T) {
	f := open(t, easytradertest.Options{}, map[string]any{"prepare": false, "probe_every": "10ms"})
	if s := f.term.State(); s != automation.StateDisconnected {
		t.Fatalf("state %s before any login", s)
	}
	f.peer.Login()
	waitState(t, f.term, automation.StateReady)
	// Calls and probes never overlap.
	ctx := testCtx(t)
	for range 20 {
		if _, err := f.term.Positions(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.term.Close()
	f.peer.Inject(easytradertest.Fault{Path: "/balance", Kind: easytradertest.Null})
	if err := f.term.Reconnect(ctx); automation.CodeOf(err) != automation.CodeNotConnected || f.term.State() != automation.StateError {
		t.Errorf("null balance: %v, state %s", err, f.term.State())
	}
	if err := f.term.Reconnect(ctx); err != nil || f.term.State() != automation.StateReady {
		t.Errorf("after: %v, state %s", err, f.term.State())
	}
}

func TestCtxHonoured(t *testing.T) {
	f := open(t, easytradertest.Options{}, map[string]any{"request_timeout": "1m"})
	f.peer.Inject(easytradertest.Fault{Path: "/position", Kind: easytradertest.Slow})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := f.term.Positions(ctx); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a slow answer past the deadline succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Positions ignored its ctx")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts tomlOptions
		want string
	}{
		{tomlOptions{}, "options.url"},
		{tomlOptions{"url": "ftp://x"}, "options.url"},
		{tomlOptions{"url": "http://127.0.0.1:1", "request_timeout": "soon"}, "soon"},
		{tomlOptions{"url": "http://127.0.0.1:1", "password_env": "NOPE"}, "NOPE"},
	} {
		_, err := Open(testCtx(t), "x", tc.opts, automation.Env{Getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want it to name %s", tc.opts, err, tc.want)
		}
	}
}

// A /prepare refusal that echoes the login keeps it out of the error.
func TestPrepareRefusalRedacted(t *testing.T) {
	f := open(t, easytradertest.Options{}, nil)
	f.peer.Inject(easytradertest.Fault{Path: "/prepare", Kind: easytradertest.Reject, Class: "Exception", Message: "登录失败 " + testUser + "/" + testPassword})
	err := f.term.Reconnect(testCtx(t))
	if automation.CodeOf(err) != automation.CodeNotConnected || strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), testUser) {
		t.Errorf("%v", err)
	}
	if f.term.State() != automation.StateError {
		t.Errorf("state %s", f.term.State())
	}
}

// Clients without 成交均价 get it from /today_trades.
func TestFillPriceFromTrades(t *testing.T) {
	for _, d := range easytradertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			f := open(t, easytradertest.Options{Dialect: d}, nil)
			ctx := testCtx(t)
			if _, err := f.term.PlaceOrder(ctx, automation.OrderRequest{Code: "600000", Side: automation.Buy, Price: 10.5, Quantity: 200}); err != nil {
				t.Fatal(err)
			}
			if err := f.peer.Fill(1, 100); err != nil {
				t.Fatal(err)
			}
			orders, err := f.term.Orders(ctx, "")
			if err != nil || len(orders) != 1 || orders[0].Filled != 100 || orders[0].AvgPrice != 10.5 || orders[0].Status != automation.OrderPartFilled {
				t.Errorf("%+v %v", orders, err)
			}
		})
	}
}
