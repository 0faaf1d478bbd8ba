package binance

import (
	"testing"
)

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0.010", "42088.00", "-1.5", "1e5", ".5", "5.", "", "-", "１２", "0x10", "99999999999999999999999999.000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseDecimal(s)
		if err != nil {
			return
		}
		// A plain decimal reads back to the same value.
		back, err := parseDecimal(v.String())
		if err != nil || !back.Equal(v) {
			t.Fatalf("%q → %s → %v %v", s, v, back, err)
		}
	})
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{
		`{"id":"1-1","status":200,"result":{"orderId":1,"symbol":"BTCUSDT"},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":1}]}`,
		`{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}`,
		`{"id":7,"status":429,"error":{"code":-1003,"msg":"x","data":{"serverTime":1,"retryAfter":2}}}`,
		`{"id":"x","status":400}`, `[]`, `{}`, `{"id":"a","status":200,"rateLimits":[{"interval":"DAY","intervalNum":-1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAnswer(b)
		if err != nil {
			return
		}
		if a.Status != 200 && a.Error == nil {
			t.Fatalf("status %d without an error accepted", a.Status)
		}
		l := newLimiter(nowFunc)
		l.observe(a.RateLimits)
		l.reserve("order.place")
		l.throttled()
		if a.Result != nil {
			decodeOrder(a.Result)
			decodeBalances(a.Result)
			decodePositions(a.Result)
		}
	})
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"orderId":336829446,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"FqEw6cn0vDhrkmfiwLYPeo","price":"42088.00","avgPrice":"0.00","origQty":"0.100","executedQty":"0.000","timeInForce":"GTC","type":"LIMIT","reduceOnly":false,"side":"BUY","positionSide":"BOTH","updateTime":1705385954229}`))
	f.Add([]byte(`{"orderId":"1","symbol":"X","price":1.5}`))
	f.Add([]byte(`{"orderId":1e3,"symbol":"X","price":"1e3"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOrder(b)
		if err != nil {
			return
		}
		if o.Symbol == "" || o.OrderID == "" {
			t.Fatalf("accepted %+v", o)
		}
	})
}

func FuzzDecodeExchangeInfo(f *testing.F) {
	f.Add([]byte(`{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400}],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.10"},{"filterType":"LOT_SIZE","stepSize":"0.001","minQty":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"100"}]}]}`))
	f.Add([]byte(`{"symbols":[{"symbol":"","filters":[]}]}`))
	f.Add([]byte(`{"symbols":[{"symbol":"A","filters":[{"filterType":"LOT_SIZE","stepSize":"-1"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		symbols, limits, err := decodeExchangeInfo(b)
		if err != nil {
			return
		}
		for name, si := range symbols {
			if name == "" || si.Symbol != name || si.PriceTick.IsNegative() || si.QuantityStep.IsNegative() {
				t.Fatalf("accepted %q %+v", name, si)
			}
		}
		newLimiter(nowFunc).learn(limits)
	})
}

func FuzzDecodeStreamEvent(f *testing.F) {
	f.Add([]byte(`{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","T":1568879465650,"R":false,"ps":"BOTH"}}`))
	f.Add([]byte(`{"e":"listenKeyExpired","E":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeStreamEvent(b)
		if err == nil && ev.kind == "order" {
			if _, ok := ev.event.Data.(OrderUpdate); !ok {
				t.Fatalf("order event with data %T", ev.event.Data)
			}
		}
	})
}
