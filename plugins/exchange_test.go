package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// fakeExchange is an Exchange that answers what a test gives it and
// records what it was asked. With futures set it is a futures terminal:
// it takes offset, closes positions and knows its positions.
type fakeExchange struct {
	name      string
	futures   bool
	symbols   map[string]automation.SymbolInfo // its cached rules
	positions map[automation.PositionSide]decimal.Decimal
	err       error

	order    automation.ExchangeOrder
	placed   []automation.PlaceOrderRequest
	refs     []automation.OrderRef
	closeReq automation.ClosePositionRequest
}

var (
	_ automation.Exchange    = (*fakeExchange)(nil)
	_ automation.SymbolRules = (*fakeExchange)(nil)
)

func (f *fakeExchange) Name() string                    { return f.name }
func (f *fakeExchange) Driver() string                  { return "fakex" }
func (f *fakeExchange) State() automation.State         { return automation.StateReady }
func (f *fakeExchange) Supports(string) bool            { return true }
func (f *fakeExchange) Reconnect(context.Context) error { return nil }
func (f *fakeExchange) Close() error                    { return nil }

func (f *fakeExchange) PlaceOrder(_ context.Context, req automation.PlaceOrderRequest) (automation.ExchangeOrder, error) {
	f.placed = append(f.placed, req)
	return f.order, f.err
}

func (f *fakeExchange) CancelOrder(_ context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	f.refs = append(f.refs, ref)
	return f.order, f.err
}

func (f *fakeExchange) OrderStatus(_ context.Context, ref automation.OrderRef) (automation.ExchangeOrder, error) {
	f.refs = append(f.refs, ref)
	return f.order, f.err
}

func (f *fakeExchange) OpenOrders(context.Context, string) ([]automation.ExchangeOrder, error) {
	return nil, f.err
}

func (f *fakeExchange) Assets(context.Context) ([]automation.Asset, error) { return nil, f.err }

func (f *fakeExchange) Positions(context.Context, string) ([]automation.ExchangePosition, error) {
	return nil, f.err
}

func (f *fakeExchange) SymbolInfo(_ context.Context, symbol string) (automation.SymbolInfo, error) {
	return f.symbols[symbol], f.err
}

func (f *fakeExchange) CachedSymbol(symbol string) (automation.SymbolInfo, bool) {
	info, ok := f.symbols[symbol]
	return info, ok
}

// fakeFutures adds what a futures terminal has.
// fakePerpetual closes positions but counts no lots and takes no offset
// (Binance USDⓈ-M).
type fakePerpetual struct{ *fakeExchange }

func (f fakePerpetual) ClosePosition(_ context.Context, req automation.ClosePositionRequest) (automation.ExchangeOrder, error) {
	return automation.ExchangeOrder{Symbol: req.Symbol, Quantity: req.Quantity}, nil
}

type fakeFutures struct{ *fakeExchange }

func (f fakeFutures) TakesOffset() bool { return true }

func (f fakeFutures) CachedPosition(_ string, side automation.PositionSide) (decimal.Decimal, bool) {
	q, ok := f.positions[side]
	return q, ok
}

func (f fakeFutures) ClosePosition(_ context.Context, req automation.ClosePositionRequest) (automation.ExchangeOrder, error) {
	f.closeReq = req
	return f.order, f.err
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func btcRules() map[string]automation.SymbolInfo {
	return map[string]automation.SymbolInfo{
		"BTCUSDT": {Symbol: "BTCUSDT", Status: "TRADING", PriceTick: dec("0.10"), QuantityStep: dec("0.001"),
			MinQuantity: dec("0.001"), MinNotional: dec("100")},
		"HALTUSDT": {Symbol: "HALTUSDT", Status: "SETTLING"},
		"rb2501.SHFE": {Symbol: "rb2501.SHFE", Status: "TRADING", PriceTick: dec("1"), QuantityStep: dec("1"),
			CloseTodayDistinct: true},
		"MA501.CZCE": {Symbol: "MA501.CZCE", Status: "TRADING", PriceTick: dec("1"), QuantityStep: dec("1")},
	}
}

// Every rule of the exchange set at its edge, with and without the
// terminal's symbol rules.
func TestExchangeValidation(t *testing.T) {
	spot := &fakeExchange{name: "bn", symbols: btcRules()}
	futures := fakeFutures{&fakeExchange{name: "ctp", symbols: btcRules(),
		positions: map[automation.PositionSide]decimal.Decimal{automation.PositionLong: dec("3"), automation.PositionShort: dec("0")}}}
	unknown := &fakeExchange{name: "gw"} // no rules cached yet
	perpetual := fakePerpetual{&fakeExchange{name: "bn", symbols: btcRules()}}
	type bad struct{ field, says string }
	for _, tc := range []struct {
		name, op, raw string
		t             automation.Terminal
		want          string // canonical params when valid
		errs          []bad
	}{
		{name: "limit with defaults", op: "place_order", t: spot,
			raw:  `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.010","price":"65000.10"}`,
			want: `{"position_side":"BOTH","price":"65000.1","quantity":"0.01","reduce_only":false,"side":"BUY","symbol":"BTCUSDT","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "decimals as numbers stay exact", op: "place_order", t: spot,
			raw:  `{"symbol":"BTCUSDT","side":"SELL","quantity":0.003,"price":70000.3}`,
			want: `{"position_side":"BOTH","price":"70000.3","quantity":"0.003","reduce_only":false,"side":"SELL","symbol":"BTCUSDT","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "market", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.5"}`,
			want: `{"position_side":"BOTH","quantity":"0.5","reduce_only":false,"side":"BUY","symbol":"BTCUSDT","type":"MARKET"}`},
		{name: "limit needs a price", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"1"}`,
			errs: []bad{{"params.price", "is required for a LIMIT order"}}},
		{name: "market refuses price and tif", op: "place_order", t: spot,
			raw:  `{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"1","price":"1","time_in_force":"IOC"}`,
			errs: []bad{{"params.price", "refused for a MARKET"}, {"params.time_in_force", "refused for a MARKET"}}},
		{name: "every bad field at once", op: "place_order", t: spot,
			raw: `{"symbol":"BTC USDT","side":"buy","quantity":"-1","price":"abc","type":"STOP"}`,
			errs: []bad{{"params.symbol", "a symbol as the venue writes it"}, {"params.side", "must be one of BUY, SELL"},
				{"params.type", "must be one of LIMIT, MARKET"}, {"params.quantity", "must be greater than 0"}, {"params.price", "must be a number"}}},
		{name: "exponent refused", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":1e-3,"price":"65000"}`,
			errs: []bad{{"params.quantity", "plain notation"}}},
		{name: "off the tick", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.01","price":"65000.05"}`,
			errs: []bad{{"params.price", "multiple of BTCUSDT's tick 0.1, got 65000.05"}}},
		{name: "off the step", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.0105","price":"65000"}`,
			errs: []bad{{"params.quantity", "multiple of BTCUSDT's step 0.001"}}},
		{name: "notional under the minimum", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.001","price":"65000"}`,
			errs: []bad{{"params.quantity", "notional of 65 (price × quantity), under BTCUSDT's minimum of 100"}}},
		{name: "notional at the minimum", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.002","price":"50000"}`,
			want: `{"position_side":"BOTH","price":"50000","quantity":"0.002","reduce_only":false,"side":"BUY","symbol":"BTCUSDT","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "reduce-only goes under the minimum notional", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"SELL","quantity":"0.001","price":"65000","reduce_only":true}`,
			want: `{"position_side":"BOTH","price":"65000","quantity":"0.001","reduce_only":true,"side":"SELL","symbol":"BTCUSDT","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "not trading", op: "place_order", t: spot, raw: `{"symbol":"HALTUSDT","side":"BUY","quantity":"1","price":"1"}`,
			errs: []bad{{"params.symbol", "not trading"}}},
		{name: "rules unknown: left to the venue", op: "place_order", t: unknown, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.0001","price":"1.23456"}`,
			want: `{"position_side":"BOTH","price":"1.23456","quantity":"0.0001","reduce_only":false,"side":"BUY","symbol":"BTCUSDT","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "offset on a non-futures terminal", op: "place_order", t: spot, raw: `{"symbol":"BTCUSDT","side":"BUY","quantity":"0.01","price":"65000","offset":"OPEN"}`,
			errs: []bad{{"params.offset", `terminal "bn" is not a futures terminal`}}},
		{name: "futures lots are whole", op: "place_order", t: futures, raw: `{"symbol":"rb2501.SHFE","side":"BUY","quantity":"1.5","price":"3500","offset":"OPEN"}`,
			errs: []bad{{"params.quantity", "multiple of rb2501.SHFE's step 1"}}},
		{name: "close today on SHFE", op: "place_order", t: futures, raw: `{"symbol":"rb2501.SHFE","side":"SELL","quantity":"2","price":"3500","offset":"CLOSE_TODAY"}`,
			want: `{"offset":"CLOSE_TODAY","position_side":"BOTH","price":"3500","quantity":"2","reduce_only":false,"side":"SELL","symbol":"rb2501.SHFE","time_in_force":"GTC","type":"LIMIT"}`},
		{name: "close today where not distinct", op: "place_order", t: futures, raw: `{"symbol":"MA501.CZCE","side":"SELL","quantity":"1","price":"2500","offset":"CLOSE_TODAY"}`,
			errs: []bad{{"params.offset", "only where the exchange tells today's position from yesterday's"}}},
		{name: "close more than held", op: "place_order", t: futures, raw: `{"symbol":"rb2501.SHFE","side":"SELL","quantity":"4","price":"3500","offset":"CLOSE"}`,
			errs: []bad{{"params.quantity", "closes 4 but the LONG position in rb2501.SHFE is 3"}}},
		{name: "close_position more than held", op: "close_position", t: futures, raw: `{"symbol":"rb2501.SHFE","position_side":"SHORT","quantity":"1"}`,
			errs: []bad{{"params.quantity", "closes 1 but the SHORT position"}}},
		{name: "close_position all", op: "close_position", t: futures, raw: `{"symbol":"rb2501.SHFE","position_side":"LONG"}`,
			want: `{"position_side":"LONG","symbol":"rb2501.SHFE"}`},
		{name: "close_position in lots", op: "close_position", t: futures, raw: `{"symbol":"rb2501.SHFE","position_side":"LONG","quantity":"1.5"}`,
			errs: []bad{{"params.quantity", "whole number of lots"}}},
		{name: "close_position of a perpetual in fractions", op: "close_position", t: perpetual, raw: `{"symbol":"BTCUSDT","position_side":"SHORT","quantity":"0.002"}`,
			want: `{"position_side":"SHORT","quantity":"0.002","symbol":"BTCUSDT"}`},
		{name: "cancel needs one ref", op: "cancel_order", t: spot, raw: `{"symbol":"BTCUSDT"}`,
			errs: []bad{{"params.order_id", "give order_id or client_order_id"}}},
		{name: "cancel refuses both refs", op: "cancel_order", t: spot, raw: `{"symbol":"BTCUSDT","order_id":"1","client_order_id":"a"}`,
			errs: []bad{{"params.client_order_id", "not both"}}},
		{name: "status by client id", op: "order_status", t: spot, raw: `{"symbol":"BTCUSDT","client_order_id":"my-order-1"}`,
			want: `{"client_order_id":"my-order-1","symbol":"BTCUSDT"}`},
		{name: "client id off Binance's rule", op: "order_status", t: spot, raw: `{"symbol":"BTCUSDT","client_order_id":"has space"}`,
			errs: []bad{{"params.client_order_id", "a client order id of 1 to 36"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params, errs, err := testRegistry().Validate(tc.op, json.RawMessage(tc.raw), tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if tc.errs == nil {
				if errs != nil {
					t.Fatalf("errors %v, want none", errs)
				}
				if got := string(params.JSON()); got != tc.want {
					t.Fatalf("params %s, want %s", got, tc.want)
				}
				return
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %v, want %v", errs, tc.errs)
			}
			for i, e := range errs {
				if e.Field != tc.errs[i].field || !strings.Contains(e.Reason, tc.errs[i].says) {
					t.Errorf("error %d = %v, want %s containing %q", i, e, tc.errs[i].field, tc.errs[i].says)
				}
			}
		})
	}
}

// The two families do not mix: a terminal of one takes none of the other's
// operations.
func TestFamiliesAreApart(t *testing.T) {
	r := testRegistry()
	x, b := &fakeExchange{name: "bn"}, &fakeBroker{}
	for _, op := range automation.ExchangeOperations {
		if r.Supported(op, b) {
			t.Errorf("a stock broker supports %s", op)
		}
	}
	for _, op := range automation.StockOperations {
		if r.Supported(op, x) {
			t.Errorf("an exchange supports %s", op)
		}
	}
	if r.Supported(automation.OpClosePosition, x) {
		t.Error("close_position is supported by a terminal that cannot close positions")
	}
	if !r.Supported(automation.OpClosePosition, fakeFutures{x}) || !r.Supported(automation.OpPlaceOrder, x) {
		t.Error("an exchange's own operations are not supported")
	}
	_, err := r.Execute(context.Background(), b, automation.OpPlaceOrder, json.RawMessage(`{}`))
	if automation.CodeOf(err) != automation.CodeUnsupported || !strings.Contains(err.Error(), `terminal "fake"`) {
		t.Errorf("place_order on a stock broker: %v", err)
	}
}

// place_order hands the venue exact decimals and a client order id derived
// from the idempotency key (or the operation id); a failure keeps that id
// in the data for settlement.
func TestPlaceOrderExecute(t *testing.T) {
	x := &fakeExchange{name: "bn", order: automation.ExchangeOrder{OrderID: "42", Symbol: "BTCUSDT", Side: automation.SideBuy,
		Type: automation.TypeLimit, Status: automation.StatusNew, Price: dec("65000.1"), Quantity: dec("0.01")}}
	raw := json.RawMessage(`{"symbol":"BTCUSDT","side":"BUY","quantity":"0.010","price":"65000.10"}`)
	res, err := testRegistry().ExecuteWith(context.Background(), x, automation.OpPlaceOrder, raw,
		ExecOptions{ClientOrderID: "tour-order-1", OperationID: "op-1"})
	if err != nil {
		t.Fatal(err)
	}
	req := x.placed[0]
	if !req.Price.Equal(dec("65000.1")) || req.Price.String() != "65000.1" || !req.Quantity.Equal(dec("0.01")) {
		t.Errorf("price %s quantity %s", req.Price, req.Quantity)
	}
	if req.ClientOrderID != "tour-order-1" || req.TimeInForce != automation.GTC || req.Offset != "" {
		t.Errorf("request %+v", req)
	}
	if res.Message != "BUY LIMIT 0.01 BTCUSDT at 65000.1: NEW (order 42)" {
		t.Errorf("message %q", res.Message)
	}
	encoded, _ := json.Marshal(res.Data)
	if !strings.Contains(string(encoded), `"price":"65000.1"`) {
		t.Errorf("decimals are not answered as strings: %s", encoded)
	}

	// A futures terminal gets OPEN by default.
	f := fakeFutures{&fakeExchange{name: "ctp"}}
	if _, err := testRegistry().ExecuteWith(context.Background(), f, automation.OpPlaceOrder,
		json.RawMessage(`{"symbol":"rb2501.SHFE","side":"BUY","quantity":"1","price":"3500"}`), ExecOptions{OperationID: "op-2"}); err != nil {
		t.Fatal(err)
	}
	if got := f.placed[0]; got.Offset != automation.OffsetOpen || got.ClientOrderID != "op-2" {
		t.Errorf("futures request %+v", got)
	}

	x.err = automation.OutcomeUnknown(errors.New("connection reset"), "no answer")
	res, err = testRegistry().ExecuteWith(context.Background(), x, automation.OpPlaceOrder, raw, ExecOptions{OperationID: "op-3"})
	if automation.CodeOf(err) != automation.CodeOutcomeUnknown {
		t.Fatalf("err %v", err)
	}
	if got, ok := res.Data.(unsettledOrder); !ok || got.ClientOrderID != "op-3" || got.Symbol != "BTCUSDT" {
		t.Errorf("failure data %#v", res.Data)
	}

	// A venue's refusal keeps its code beside the data.
	x.err = automation.VenueError(automation.CodeRejected, "-2010", "Duplicate order sent.")
	res, err = testRegistry().ExecuteWith(context.Background(), x, automation.OpPlaceOrder, raw, ExecOptions{OperationID: "op-4"})
	if automation.CodeOf(err) != automation.CodeRejected || err.Error() != "Duplicate order sent." {
		t.Fatalf("err %v", err)
	}
	if got, ok := res.Data.(map[string]any); !ok || got["venue_code"] != "-2010" || got["client_order_id"] != "op-4" {
		t.Errorf("failure data %#v", res.Data)
	}
}

func TestClientOrderID(t *testing.T) {
	long := strings.Repeat("k", 37)
	for _, tc := range []struct{ key, op, want string }{
		{"tour-order-1", "op", "tour-order-1"},
		{"", "2f1d6c9e-5b7a-4c1e-9f00-1a2b3c4d5e6f", "2f1d6c9e-5b7a-4c1e-9f00-1a2b3c4d5e6f"},
		{"a:b/c.d_e-F", "op", "a:b/c.d_e-F"},
	} {
		if got := ClientOrderID(tc.key, tc.op); got != tc.want {
			t.Errorf("ClientOrderID(%q, %q) = %q, want %q", tc.key, tc.op, got, tc.want)
		}
	}
	for _, key := range []string{long, "has space", "下单-1", "a@b"} {
		got := ClientOrderID(key, "op")
		if !clientOrderIDRule.MatchString(got) || !strings.HasPrefix(got, "bk-") {
			t.Errorf("ClientOrderID(%q) = %q breaks the venue rule", key, got)
		}
		if again := ClientOrderID(key, "other-op"); again != got {
			t.Errorf("ClientOrderID(%q) is not deterministic: %q, %q", key, got, again)
		}
	}
	if ClientOrderID(long, "") == ClientOrderID(long+"x", "") {
		t.Error("two keys give one client order id")
	}
}
