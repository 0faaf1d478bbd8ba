package paper

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

func TestTerminal(t *testing.T) {
	r := open(t, standard, nil)
	if r.Name() != "paper" || r.Driver() != "paper" || r.State() != automation.StateReady {
		t.Errorf("terminal %s/%s in %s", r.Name(), r.Driver(), r.State())
	}
	for _, op := range automation.ExchangeOperations {
		if want := op != automation.OpClosePosition; r.Supports(op) != want {
			t.Errorf("Supports(%s) = %v", op, !want)
		}
	}
	for _, op := range automation.StockOperations {
		if r.Supports(op) {
			t.Errorf("Supports(%s): an A-share operation", op)
		}
	}
	if err := r.Reconnect(ctx); err != nil {
		t.Errorf("reconnect: %v", err)
	}
	r.Close()
	if r.State() != automation.StateDisconnected {
		t.Errorf("state after Close: %s", r.State())
	}
	_, err := r.PlaceOrder(ctx, market("BTCUSDT", buy, "0.010"))
	wantCode(t, err, automation.CodeNotConnected, "")
	wantCode(t, r.SetQuote(ctx, "BTCUSDT", d("1")), automation.CodeNotConnected, "")
	wantCode(t, r.Reconnect(ctx), automation.CodeNotConnected, "")
}

func TestOpenRefusesBadOptions(t *testing.T) {
	_, err := Open(ctx, "paper", tomlOptions(`quotes = { BTCUSDT = "x" }`), automation.Env{})
	if err == nil {
		t.Fatal("bad quote accepted")
	}
	if _, err := Open(ctx, "", tomlOptions(``), automation.Env{}); err == nil {
		t.Fatal("a terminal without a name opened")
	}
}

// The latency wait gives up when ctx ends, and nothing happens.
func TestLatencyHonoursContext(t *testing.T) {
	r := open(t, standard+"latency = \"1h\"\n", nil)
	for _, tt := range []struct {
		name string
		end  func(cancel context.CancelCauseFunc)
		code automation.Code
	}{
		{"cancelled", func(cancel context.CancelCauseFunc) { cancel(errors.New("shutdown")) }, automation.CodeInterrupted},
		{"deadline", func(cancel context.CancelCauseFunc) { cancel(context.DeadlineExceeded) }, automation.CodeTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, cancel := context.WithCancelCause(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := r.PlaceOrder(c, market("BTCUSDT", buy, "0.010"))
				done <- err
			}()
			tt.end(cancel)
			err := <-done
			wantCode(t, err, tt.code, "")
		})
	}
	// An ended ctx is refused before waiting.
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := r.Assets(c)
	wantCode(t, err, automation.CodeInterrupted, "")
	wantCode(t, r.SetQuote(c, "BTCUSDT", d("1")), automation.CodeInterrupted, "")
	r.cfg.Latency = 0
	if p := r.position(t, "BTCUSDT"); !p.Quantity.IsZero() {
		t.Errorf("position %s after cut-short orders", p.Quantity)
	}
}

// Orders, quotes and the non-blocking readers from many goroutines, on
// the real store; run with -race. Every buy at or above the quote fills
// and every quote move is a sell's fill, so the position is known.
func TestConcurrentUse(t *testing.T) {
	r := open(t, standard, openStore(t))
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for i := range each {
				req := market("BTCUSDT", buy, "0.010")
				req.ClientOrderID = fmt.Sprintf("w%d-%d", w, i)
				if _, err := r.PlaceOrder(ctx, req); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if err := r.SetQuote(ctx, "ETHUSDT", d("3000.00")); err != nil {
					t.Error(err)
					return
				}
				if _, err := r.OpenOrders(ctx, ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				_ = r.State()
				r.Quote("BTCUSDT")
				r.CachedSymbol("ETHUSDT")
			}
		}()
	}
	wg.Wait()
	p := r.position(t, "BTCUSDT")
	wantDecimal(t, "position", p.Quantity, d("0.010").Mul(decimal.NewFromInt(workers*each)).String())
	for w := range workers {
		for i := range each {
			if _, err := r.OrderStatus(ctx, automation.OrderRef{ClientOrderID: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
				t.Errorf("w%d-%d: %v", w, i, err)
			}
		}
	}
}
