package paper

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

const (
	buy  = automation.SideBuy
	sell = automation.SideSell
)

// Orders the rules refuse are rejected with Binance's code, and nothing
// changes; those at the edge are accepted.
func TestPlaceOrderRules(t *testing.T) {
	tests := []struct {
		name      string
		req       automation.PlaceOrderRequest
		venueCode string // "" = accepted
		message   string
	}{
		{"on the tick", limit("BTCUSDT", buy, "0.010", "60000.1"), "", ""},
		{"off the tick", limit("BTCUSDT", buy, "0.010", "60000.05"), "-4014", "price 60000.05 of BTCUSDT is not a multiple of its price_tick 0.1"},
		{"ETH tick 0.01", limit("ETHUSDT", buy, "0.010", "2999.99"), "", ""},
		{"ETH off the tick", limit("ETHUSDT", buy, "0.010", "2999.995"), "-4014", "price_tick 0.01"},
		{"zero price", limit("BTCUSDT", buy, "0.010", "0"), "-4014", "must be greater than 0"},
		{"negative price", limit("BTCUSDT", buy, "0.010", "-1"), "-4014", "must be greater than 0"},
		{"on the step", limit("BTCUSDT", buy, "0.002", "60000"), "", ""},
		{"off the step", limit("BTCUSDT", buy, "0.0025", "60000"), "-1111", "quantity 0.0025 of BTCUSDT is not a multiple of its quantity_step 0.001"},
		{"zero quantity", limit("BTCUSDT", buy, "0", "60000"), "-4003", "must be greater than 0"},
		{"negative quantity", limit("BTCUSDT", sell, "-0.01", "60000"), "-4003", "must be greater than 0"},
		{"min notional exactly", limit("BTCUSDT", buy, "0.002", "50000"), "", ""},
		{"under min notional", limit("BTCUSDT", buy, "0.001", "99999.9"), "-4164", "notional 99.9999 USDT (0.001 × 99999.9) of BTCUSDT is under its min_notional 100"},
		{"MARKET notional at the quote", market("BTCUSDT", buy, "0.001"), "-4164", "notional 65 USDT"},
		{"MARKET under the min notional", market("ETHUSDT", buy, "0.006"), "-4164", "notional 18 USDT (0.006 × 3000) of ETHUSDT is under its min_notional 20"},
		{"MARKET over the min notional", market("ETHUSDT", buy, "0.007"), "", ""},
		{"MARKET with a price", func() automation.PlaceOrderRequest {
			r := market("BTCUSDT", buy, "0.010")
			r.Price = d("65000")
			return r
		}(), "-1106", "a MARKET order takes no price"},
		{"unknown symbol", limit("DOGEUSDT", buy, "1", "1"), "-1121", `invalid symbol "DOGEUSDT": the paper exchange lists BTCUSDT, ETHUSDT`},
		{"bad side", automation.PlaceOrderRequest{Symbol: "BTCUSDT", Side: "LONG", Type: automation.TypeLimit, Quantity: d("0.01"), Price: d("65000")}, "-1117", "use BUY or SELL"},
		{"bad type", automation.PlaceOrderRequest{Symbol: "BTCUSDT", Side: buy, Type: "STOP", Quantity: d("0.01"), Price: d("65000")}, "-1116", "LIMIT and MARKET"},
		{"bad time in force", func() automation.PlaceOrderRequest {
			r := limit("BTCUSDT", buy, "0.010", "60000")
			r.TimeInForce = "GTD"
			return r
		}(), "-1115", "use GTC, IOC, FOK or GTX"},
		{"hedge-mode side", func() automation.PlaceOrderRequest {
			r := limit("BTCUSDT", buy, "0.010", "60000")
			r.PositionSide = automation.PositionLong
			return r
		}(), "-4061", "one-way mode"},
		{"bad client order id", func() automation.PlaceOrderRequest {
			r := limit("BTCUSDT", buy, "0.010", "60000")
			r.ClientOrderID = "has space"
			return r
		}(), "-1100", "client order id"},
		{"client order id of 37", func() automation.PlaceOrderRequest {
			r := limit("BTCUSDT", buy, "0.010", "60000")
			r.ClientOrderID = strings.Repeat("a", 37)
			return r
		}(), "-1100", "client order id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, standard, nil)
			o, err := r.PlaceOrder(ctx, tt.req)
			if tt.venueCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if o.OrderID != "1" {
					t.Errorf("order id %s, want 1", o.OrderID)
				}
				return
			}
			wantCode(t, err, automation.CodeRejected, tt.venueCode)
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
			if open, _ := r.OpenOrders(ctx, ""); len(open) != 0 {
				t.Errorf("open orders after a rejection: %v", open)
			}
			if ok := r.mustPlace(t, limit("BTCUSDT", buy, "0.010", "60000")); ok.OrderID != "1" {
				t.Errorf("the next order got id %s: a rejected order must not use one", ok.OrderID)
			}
		})
	}
}

// Each time in force against the quote (65000), on both sides.
func TestTimeInForce(t *testing.T) {
	tests := []struct {
		side       automation.OrderSide
		price      string
		tif        automation.TimeInForce
		wantStatus automation.OrderStatus // "" = rejected
		wantAvg    string
	}{
		{buy, "65000.0", automation.GTC, automation.StatusFilled, "65000"},
		{buy, "66000.0", automation.GTC, automation.StatusFilled, "65000"}, // at the quote, not the limit
		{buy, "64999.9", automation.GTC, automation.StatusNew, "0"},
		{buy, "65100.0", automation.IOC, automation.StatusFilled, "65000"},
		{buy, "64999.9", automation.IOC, automation.StatusExpired, "0"},
		{buy, "65000.0", automation.FOK, automation.StatusFilled, "65000"},
		{buy, "64999.9", automation.FOK, automation.StatusExpired, "0"},
		{buy, "64999.9", automation.GTX, automation.StatusNew, "0"},
		{buy, "65000.0", automation.GTX, "", ""},
		{sell, "65000.0", automation.GTC, automation.StatusFilled, "65000"},
		{sell, "64000.0", automation.GTC, automation.StatusFilled, "65000"},
		{sell, "65000.1", automation.GTC, automation.StatusNew, "0"},
		{sell, "64000.0", automation.IOC, automation.StatusFilled, "65000"},
		{sell, "65000.1", automation.IOC, automation.StatusExpired, "0"},
		{sell, "65000.1", automation.FOK, automation.StatusExpired, "0"},
		{sell, "65000.1", automation.GTX, automation.StatusNew, "0"},
		{sell, "64999.9", automation.GTX, "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.side)+"_"+tt.price+"_"+string(tt.tif), func(t *testing.T) {
			r := open(t, standard, nil)
			req := limit("BTCUSDT", tt.side, "0.010", tt.price)
			req.TimeInForce = tt.tif
			o, err := r.PlaceOrder(ctx, req)
			if tt.wantStatus == "" {
				wantCode(t, err, automation.CodeRejected, "-5022")
				if p := r.position(t, "BTCUSDT"); !p.Quantity.IsZero() {
					t.Errorf("a rejected GTX left a position %s", p.Quantity)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tt.wantStatus || !o.AvgPrice.Equal(d(tt.wantAvg)) || o.TimeInForce != tt.tif {
				t.Errorf("order %+v, want %s at %s", o, tt.wantStatus, tt.wantAvg)
			}
			wantExec := "0"
			if tt.wantStatus == automation.StatusFilled {
				wantExec = "0.010"
			}
			wantDecimal(t, "executed", o.ExecutedQuantity, wantExec)
			open, _ := r.OpenOrders(ctx, "BTCUSDT")
			if rests := tt.wantStatus == automation.StatusNew; rests != (len(open) == 1) {
				t.Errorf("open orders %v for a %s order", open, tt.wantStatus)
			}
			// Finished or not, it is found by its id.
			if got, err := r.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: o.OrderID}); err != nil || got.Status != o.Status {
				t.Errorf("order_status = %+v, %v", got, err)
			}
		})
	}
}

// A resting order fills when a quote reaches its price, at its price, as
// a maker, in time priority, and the fill is an event.
func TestRestingOrdersFillOnSetQuote(t *testing.T) {
	r := open(t, standard+"maker_fee = \"0.0002\"\ntaker_fee = \"0.0005\"\n", nil)
	b1 := r.mustPlace(t, limit("BTCUSDT", buy, "0.010", "64000.0"))
	b2 := r.mustPlace(t, limit("BTCUSDT", buy, "0.020", "63000.0"))
	s1 := r.mustPlace(t, limit("BTCUSDT", sell, "0.010", "66000.0"))
	e1 := r.mustPlace(t, limit("ETHUSDT", buy, "0.010", "2900.00"))
	if evs := r.events.take(); len(evs) != 0 {
		t.Fatalf("placing published %v", evs)
	}
	r.mustQuote(t, "BTCUSDT", "64000.0") // touches b1
	evs := r.events.take()
	if len(evs) != 1 || evs[0].Kind != "fill" || evs[0].Terminal != "paper" {
		t.Fatalf("events %+v, want one fill", evs)
	}
	if o := evs[0].Data.(automation.ExchangeOrder); o.OrderID != b1.OrderID || o.Status != automation.StatusFilled || !o.AvgPrice.Equal(d("64000")) {
		t.Errorf("fill event %+v", o)
	}
	r.mustQuote(t, "BTCUSDT", "62000.0") // gaps through b2: fills at its price
	if evs := r.events.take(); len(evs) != 1 || evs[0].Data.(automation.ExchangeOrder).OrderID != b2.OrderID {
		t.Fatalf("events %+v, want b2's fill", evs)
	}
	if o, _ := r.OrderStatus(ctx, automation.OrderRef{OrderID: b2.OrderID}); !o.AvgPrice.Equal(d("63000")) {
		t.Errorf("b2 filled at %s, want its limit 63000", o.AvgPrice)
	}
	p := r.position(t, "BTCUSDT")
	wantDecimal(t, "quantity", p.Quantity, "0.030")
	wantDecimal(t, "entry", p.EntryPrice, "63333.33333333") // (640 + 1260) / 0.03
	wantDecimal(t, "unrealised", p.UnrealizedPnL, "-40")    // 0.03 × 62000 − 1900
	// Fees at the maker rate: (640 + 1260) × 0.0002 = 0.38.
	bal, _ := r.balance(t, "USDT")
	wantDecimal(t, "balance", bal, "99999.62")
	r.mustQuote(t, "BTCUSDT", "66000.0")
	if evs := r.events.take(); len(evs) != 1 || evs[0].Data.(automation.ExchangeOrder).OrderID != s1.OrderID {
		t.Fatalf("events %+v, want s1's fill", evs)
	}
	// The ETHUSDT order is untouched by BTCUSDT's quotes.
	open, _ := r.OpenOrders(ctx, "")
	if len(open) != 1 || open[0].OrderID != e1.OrderID {
		t.Errorf("open orders %+v, want only %s", open, e1.OrderID)
	}
	q, ok := r.Quote("BTCUSDT")
	if !ok || !q.Equal(d("66000")) {
		t.Errorf("Quote = %s, %v", q, ok)
	}
}

// PnL to the last decimal: averaging in, a partial close, a flip through
// zero, a close; fees at the taker rate.
func TestPnLArithmetic(t *testing.T) {
	r := open(t, standard+"taker_fee = \"0.0004\"\n", nil)
	steps := []struct {
		quote      string
		req        automation.PlaceOrderRequest
		quantity   string // the position after
		entry      string
		unrealised string
		balance    string // USDT wallet after
	}{
		// 650 notional, fee 0.26
		{"65000.0", market("BTCUSDT", buy, "0.010"), "0.010", "65000", "0", "99999.74"},
		// 1320 notional, fee 0.528; cost 1970
		{"66000.0", market("BTCUSDT", buy, "0.020"), "0.030", "65666.66666667", "10", "99999.212"},
		// sells half at 67000: releases 985, realises 1005 − 985 = 20, fee 0.402
		{"67000.0", market("BTCUSDT", sell, "0.015"), "0.015", "65666.66666667", "20", "100018.81"},
		// sells 0.025 at 66000: closes 0.015 (990 − 985 = 5), opens 0.010 short at 66000; fee 0.66
		{"66000.0", market("BTCUSDT", sell, "0.025"), "-0.010", "66000", "0", "100023.15"},
		// the short at 64000: unrealised 20; buys back: realises 20, fee 0.256
		{"64000.0", market("BTCUSDT", buy, "0.010"), "0", "0", "0", "100042.894"},
	}
	for i, s := range steps {
		r.mustQuote(t, "BTCUSDT", s.quote)
		r.mustPlace(t, s.req)
		p := r.position(t, "BTCUSDT")
		wantDecimal(t, "step "+string(rune('1'+i))+" quantity", p.Quantity, s.quantity)
		wantDecimal(t, "step "+string(rune('1'+i))+" entry", p.EntryPrice, s.entry)
		wantDecimal(t, "step "+string(rune('1'+i))+" unrealised", p.UnrealizedPnL, s.unrealised)
		bal, _ := r.balance(t, "USDT")
		wantDecimal(t, "step "+string(rune('1'+i))+" balance", bal, s.balance)
	}
	if ps, _ := r.Positions(ctx, ""); len(ps) != 0 {
		t.Errorf("positions after closing: %+v", ps)
	}
}

// A partial close whose cost share does not divide evenly is rounded to
// 8 decimals, and the close of the rest makes up for it: a position
// closed in full realises exactly what its fills made.
func TestPnLUnevenShares(t *testing.T) {
	r := open(t, standard, nil)
	r.mustPlace(t, market("ETHUSDT", buy, "0.010"))
	r.mustPlace(t, market("ETHUSDT", buy, "0.010"))
	r.mustQuote(t, "ETHUSDT", "3000.01")
	r.mustPlace(t, market("ETHUSDT", buy, "0.010")) // cost 90.0001 for 0.030
	wantDecimal(t, "entry", r.position(t, "ETHUSDT").EntryPrice, "3000.00333333")
	r.mustQuote(t, "ETHUSDT", "3000.00")
	r.mustPlace(t, market("ETHUSDT", sell, "0.010"))
	// releases 90.0001 / 3 = 30.00003333 (rounded): realises −0.00003333
	bal, _ := r.balance(t, "USDT")
	wantDecimal(t, "balance after a third", bal, "99999.99996667")
	p := r.position(t, "ETHUSDT")
	wantDecimal(t, "unrealised", p.UnrealizedPnL, "-0.00006667") // 60 − 60.00006667
	r.mustPlace(t, market("ETHUSDT", sell, "0.020"))
	bal, _ = r.balance(t, "USDT")
	wantDecimal(t, "balance after the rest", bal, "99999.9999") // 90 − 90.0001
}

func TestMargin(t *testing.T) {
	const small = `quotes = { BTCUSDT = "65000.0" }
balances = { USDT = "1000" }
`
	t.Run("leverage 1", func(t *testing.T) {
		r := open(t, small, nil)
		r.mustPlace(t, market("BTCUSDT", buy, "0.010")) // 650
		_, avail := r.balance(t, "USDT")
		wantDecimal(t, "available", avail, "350")
		_, err := r.PlaceOrder(ctx, market("BTCUSDT", buy, "0.010"))
		wantCode(t, err, automation.CodeRejected, "-2019")
		if !strings.Contains(err.Error(), "margin is insufficient: the order needs 650 USDT at leverage 1 and 350 USDT is available") {
			t.Errorf("error %q", err)
		}
		if p := r.position(t, "BTCUSDT"); !p.Quantity.Equal(d("0.010")) {
			t.Errorf("a refused order changed the position to %s", p.Quantity)
		}
		// A resting order holds margin too: 0.005 × 60000 = 300.
		r.mustPlace(t, limit("BTCUSDT", buy, "0.005", "60000.0"))
		_, avail = r.balance(t, "USDT")
		wantDecimal(t, "available with a resting buy", avail, "50")
		_, err = r.PlaceOrder(ctx, limit("BTCUSDT", buy, "0.002", "60000.0"))
		wantCode(t, err, automation.CodeRejected, "-2019")
		// A sell against the long opens nothing and holds nothing…
		r.mustPlace(t, limit("BTCUSDT", sell, "0.010", "70000.0"))
		_, avail = r.balance(t, "USDT")
		wantDecimal(t, "available with a closing sell", avail, "50")
		// …but what would go past the long and open a short does.
		_, err = r.PlaceOrder(ctx, limit("BTCUSDT", sell, "0.010", "70000.0"))
		wantCode(t, err, automation.CodeRejected, "-2019")
	})
	t.Run("leverage 3", func(t *testing.T) {
		r := open(t, small+"leverage = 3\n", nil)
		r.mustPlace(t, market("BTCUSDT", buy, "0.040")) // 2600 notional, 866.66666667 margin
		_, avail := r.balance(t, "USDT")
		wantDecimal(t, "available", avail, "133.33333333")
		if p := r.position(t, "BTCUSDT"); !p.Leverage.Equal(d("3")) {
			t.Errorf("leverage %s", p.Leverage)
		}
		_, err := r.PlaceOrder(ctx, market("BTCUSDT", buy, "0.007"))
		wantCode(t, err, automation.CodeRejected, "-2019")
		r.mustPlace(t, market("BTCUSDT", buy, "0.006"))
	})
	t.Run("reducing is allowed when margin is short", func(t *testing.T) {
		r := open(t, small, nil)
		r.mustPlace(t, market("BTCUSDT", sell, "0.015")) // short, cost 975
		r.mustQuote(t, "BTCUSDT", "70000.0")             // −75 unrealised, 1050 margin
		_, avail := r.balance(t, "USDT")
		wantDecimal(t, "available", avail, "-125")
		_, err := r.PlaceOrder(ctx, market("BTCUSDT", sell, "0.002"))
		wantCode(t, err, automation.CodeRejected, "-2019")
		r.mustPlace(t, market("BTCUSDT", buy, "0.005")) // releases 325 for 350
		bal, avail := r.balance(t, "USDT")
		wantDecimal(t, "balance", bal, "975")
		wantDecimal(t, "available", avail, "225") // 975 + (650 − 700) − 700
	})
	t.Run("liquidation price", func(t *testing.T) {
		r := open(t, small+"leverage = 5\n", nil)
		r.mustPlace(t, market("BTCUSDT", buy, "0.050")) // cost 3250
		// 1000 + 0.05·L − 3250 = 0 → L = 45000
		wantDecimal(t, "liquidation", r.position(t, "BTCUSDT").LiquidationPrice, "45000")
		r.mustPlace(t, market("BTCUSDT", sell, "0.100")) // now short 0.05 at 65000
		// 1000 + 3250 − 0.05·L = 0 → L = 85000
		wantDecimal(t, "liquidation short", r.position(t, "BTCUSDT").LiquidationPrice, "85000")
	})
}

func TestReduceOnly(t *testing.T) {
	reduce := func(req automation.PlaceOrderRequest) automation.PlaceOrderRequest {
		req.ReduceOnly = true
		return req
	}
	t.Run("at placing", func(t *testing.T) {
		r := open(t, standard, nil)
		_, err := r.PlaceOrder(ctx, reduce(market("BTCUSDT", sell, "0.010")))
		wantCode(t, err, automation.CodeRejected, "-2022")
		r.mustPlace(t, market("BTCUSDT", buy, "0.010"))
		_, err = r.PlaceOrder(ctx, reduce(market("BTCUSDT", buy, "0.010")))
		wantCode(t, err, automation.CodeRejected, "-2022")
		if !strings.Contains(err.Error(), "would increase the position of 0.01") {
			t.Errorf("error %q", err)
		}
		_, err = r.PlaceOrder(ctx, reduce(market("BTCUSDT", sell, "0.011")))
		wantCode(t, err, automation.CodeRejected, "-2022")
		// Under the minimum notional, as Binance allows for reduce-only.
		r.mustPlace(t, reduce(market("BTCUSDT", sell, "0.001")))
		r.mustPlace(t, reduce(market("BTCUSDT", sell, "0.009")))
		if p := r.position(t, "BTCUSDT"); !p.Quantity.IsZero() {
			t.Errorf("position %s after reducing it all", p.Quantity)
		}
	})
	t.Run("resting, the position shrank", func(t *testing.T) {
		r := open(t, standard, nil)
		r.mustPlace(t, market("BTCUSDT", buy, "0.010"))
		ro := r.mustPlace(t, reduce(limit("BTCUSDT", sell, "0.010", "66000.0")))
		if ro.Status != automation.StatusNew {
			t.Fatalf("reduce-only limit %+v", ro)
		}
		r.mustPlace(t, market("BTCUSDT", sell, "0.004"))
		r.mustQuote(t, "BTCUSDT", "66000.0")
		o, err := r.OrderStatus(ctx, automation.OrderRef{OrderID: ro.OrderID})
		if err != nil || o.Status != automation.StatusExpired || !o.ExecutedQuantity.Equal(d("0.006")) {
			t.Errorf("reduce-only after the position shrank: %+v, %v; want 0.006 filled, the rest expired", o, err)
		}
		if p := r.position(t, "BTCUSDT"); !p.Quantity.IsZero() {
			t.Errorf("position %s", p.Quantity)
		}
		if evs := r.events.take(); len(evs) != 1 || evs[0].Kind != "fill" {
			t.Errorf("events %+v", evs)
		}
	})
	t.Run("resting, the position is gone", func(t *testing.T) {
		r := open(t, standard, nil)
		r.mustPlace(t, market("BTCUSDT", buy, "0.010"))
		ro := r.mustPlace(t, reduce(limit("BTCUSDT", sell, "0.010", "66000.0")))
		r.mustPlace(t, market("BTCUSDT", sell, "0.010"))
		r.mustQuote(t, "BTCUSDT", "66000.0")
		o, _ := r.OrderStatus(ctx, automation.OrderRef{OrderID: ro.OrderID})
		if o.Status != automation.StatusExpired || !o.ExecutedQuantity.IsZero() {
			t.Errorf("reduce-only without a position: %+v", o)
		}
		if evs := r.events.take(); len(evs) != 1 || evs[0].Kind != "order" {
			t.Errorf("events %+v, want one order event", evs)
		}
	})
}

func TestClientOrderIDs(t *testing.T) {
	r := open(t, standard, nil)
	withID := func(req automation.PlaceOrderRequest, id string) automation.PlaceOrderRequest {
		req.ClientOrderID = id
		return req
	}
	a := r.mustPlace(t, withID(limit("BTCUSDT", buy, "0.010", "60000.0"), "grid-1"))
	_, err := r.PlaceOrder(ctx, withID(limit("BTCUSDT", buy, "0.010", "59000.0"), "grid-1"))
	wantCode(t, err, automation.CodeRejected, "-2010")
	if !strings.Contains(err.Error(), "client order id grid-1 names open order 1") {
		t.Errorf("error %q", err)
	}
	none := r.mustPlace(t, limit("BTCUSDT", buy, "0.010", "60000.0"))
	if none.ClientOrderID != "paper-2" || none.OrderID != "2" {
		t.Errorf("an order without a client order id: %+v", none)
	}
	c, err := r.CancelOrder(ctx, automation.OrderRef{Symbol: "BTCUSDT", ClientOrderID: "grid-1"})
	if err != nil || c.Status != automation.StatusCanceled || c.OrderID != a.OrderID {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	_, err = r.CancelOrder(ctx, automation.OrderRef{Symbol: "BTCUSDT", OrderID: a.OrderID})
	wantCode(t, err, automation.CodeRejected, "-2011")
	if errors.Is(err, automation.ErrNoSuchOrder) {
		t.Errorf("cancelling a cancelled order says it does not exist: %v", err)
	}
	// Once its order has finished the id can be used again, and names
	// the newest order.
	b := r.mustPlace(t, withID(market("BTCUSDT", buy, "0.010"), "grid-1"))
	if b.OrderID != "3" {
		t.Errorf("the reuse got order %s", b.OrderID)
	}
	if o, err := r.OrderStatus(ctx, automation.OrderRef{Symbol: "BTCUSDT", ClientOrderID: "grid-1"}); err != nil || o.OrderID != "3" || o.Status != automation.StatusFilled {
		t.Errorf("grid-1 = %+v, %v; want order 3", o, err)
	}
	if o, err := r.OrderStatus(ctx, automation.OrderRef{OrderID: "1"}); err != nil || o.Status != automation.StatusCanceled {
		t.Errorf("order 1 = %+v, %v", o, err)
	}
	for _, ref := range []automation.OrderRef{
		{Symbol: "BTCUSDT", OrderID: "99"},
		{Symbol: "BTCUSDT", ClientOrderID: "nobody"},
		{Symbol: "ETHUSDT", OrderID: "1"}, // another symbol's order
	} {
		_, err := r.OrderStatus(ctx, ref)
		wantCode(t, err, automation.CodeRejected, "-2013")
		if !errors.Is(err, automation.ErrNoSuchOrder) {
			t.Errorf("%+v: %v does not wrap ErrNoSuchOrder", ref, err)
		}
		_, err = r.CancelOrder(ctx, ref)
		if !errors.Is(err, automation.ErrNoSuchOrder) {
			t.Errorf("cancel %+v: %v does not wrap ErrNoSuchOrder", ref, err)
		}
	}
	for _, ref := range []automation.OrderRef{{Symbol: "BTCUSDT"}, {Symbol: "BTCUSDT", OrderID: "1", ClientOrderID: "grid-1"}} {
		_, err := r.OrderStatus(ctx, ref)
		wantCode(t, err, automation.CodeRejected, "-1102")
	}
	// 24 hours after finishing, a finished order is forgotten; an open one
	// is not.
	r.clock.Add(finishedKept)
	if _, err := r.OrderStatus(ctx, automation.OrderRef{ClientOrderID: "grid-1"}); !errors.Is(err, automation.ErrNoSuchOrder) {
		t.Errorf("grid-1 a day later: %v", err)
	}
	if o, err := r.OrderStatus(ctx, automation.OrderRef{OrderID: none.OrderID}); err != nil || o.Status != automation.StatusNew {
		t.Errorf("the open order a day later: %+v, %v", o, err)
	}
}

func TestViews(t *testing.T) {
	r := open(t, standard, nil)
	r.mustPlace(t, market("ETHUSDT", sell, "0.100")) // short 300
	r.mustPlace(t, limit("BTCUSDT", buy, "0.002", "60000.0"))
	r.mustQuote(t, "ETHUSDT", "2990.00")
	assets, err := r.Assets(ctx)
	if err != nil || len(assets) != 1 {
		t.Fatalf("assets %+v, %v", assets, err)
	}
	a := assets[0]
	wantDecimal(t, "balance", a.Balance, "100000")
	wantDecimal(t, "unrealised", a.UnrealizedPnL, "1")
	wantDecimal(t, "available", a.Available, "99582") // 100000 + 1 − 299 (short) − 120 (resting buy)
	b, _ := json.Marshal(a)
	if string(b) != `{"asset":"USDT","balance":"100000","available":"99582","unrealized_pnl":"1"}` {
		t.Errorf("asset JSON %s", b)
	}
	ps, _ := r.Positions(ctx, "")
	if len(ps) != 1 || ps[0].Symbol != "ETHUSDT" || ps[0].PositionSide != automation.PositionBoth || !ps[0].MarkPrice.Equal(d("2990")) {
		t.Errorf("positions %+v", ps)
	}
	if ps, _ := r.Positions(ctx, "BTCUSDT"); len(ps) != 0 {
		t.Errorf("BTCUSDT positions %+v", ps)
	}
	info, err := r.SymbolInfo(ctx, "BTCUSDT")
	if err != nil || info.Status != "TRADING" || info.BaseAsset != "BTC" || !info.PriceTick.Equal(d("0.1")) {
		t.Errorf("symbol_info %+v, %v", info, err)
	}
	if cached, ok := r.CachedSymbol("BTCUSDT"); !ok || cached != info {
		t.Errorf("CachedSymbol %+v, %v", cached, ok)
	}
	_, err = r.SymbolInfo(ctx, "XRPUSDT")
	wantCode(t, err, automation.CodeRejected, "-1121")
	if _, ok := r.CachedSymbol("XRPUSDT"); ok {
		t.Error("XRPUSDT is cached before it is listed")
	}
	// A quote lists a new symbol with its default rules.
	r.mustQuote(t, "XRPUSDT", "0.52")
	if info, ok := r.CachedSymbol("XRPUSDT"); !ok || !info.MinNotional.Equal(d("5")) {
		t.Errorf("XRPUSDT after its quote: %+v, %v", info, ok)
	}
	if err := r.SetQuote(ctx, "XRPUSDT", d("0.525")); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("a quote off the tick: %v", err)
	}
	if err := r.SetQuote(ctx, "XRP", d("1")); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("a quote of an unknown quote asset: %v", err)
	}
	if _, err := r.OpenOrders(ctx, "NOPEUSD"); automation.CodeOf(err) != automation.CodeRejected {
		t.Errorf("open orders of an unlisted symbol: %v", err)
	}
}

// A configured symbol without a quote takes LIMIT orders, which rest
// until its first quote; a MARKET order has nothing to fill at.
func TestUnquotedSymbol(t *testing.T) {
	r := open(t, standard+"[symbols.SOLUSDT]\nquantity_step = \"1\"\nmin_quantity = \"1\"\n", nil)
	_, err := r.PlaceOrder(ctx, market("SOLUSDT", buy, "1"))
	wantCode(t, err, automation.CodeRejected, "")
	if !strings.Contains(err.Error(), "SOLUSDT has no quote yet") {
		t.Errorf("error %q", err)
	}
	ioc := limit("SOLUSDT", buy, "1", "150.00")
	ioc.TimeInForce = automation.IOC
	if o := r.mustPlace(t, ioc); o.Status != automation.StatusExpired {
		t.Errorf("IOC without a quote: %+v", o)
	}
	gtc := r.mustPlace(t, limit("SOLUSDT", buy, "2", "150.00"))
	if gtc.Status != automation.StatusNew {
		t.Errorf("GTC without a quote: %+v", gtc)
	}
	r.mustQuote(t, "SOLUSDT", "149.50")
	if o, _ := r.OrderStatus(ctx, automation.OrderRef{OrderID: gtc.OrderID}); o.Status != automation.StatusFilled || !o.AvgPrice.Equal(d("150")) {
		t.Errorf("after the first quote: %+v", o)
	}
	wantDecimal(t, "SOLUSDT", r.position(t, "SOLUSDT").Quantity, "2")
}
