package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// listenKeyPing is how often the listen key is kept alive (Binance lets
// one lapse after 60 minutes without a ping).
const listenKeyPing = 30 * time.Minute

// userStream follows the account's user data stream while c is the
// connection: a listen key from userDataStream.start (over the WebSocket
// API), the stream at stream_url/<listenKey>, ORDER_TRADE_UPDATE turned
// into venue events. The listen key is a secret of sorts (anyone holding
// it reads the account's orders): it is never logged nor emitted.
func (t *Terminal) userStream(c *conn) {
	defer t.wg.Done()
	ctx, cancel := context.WithCancel(t.life)
	var watch sync.WaitGroup
	defer watch.Wait()
	defer cancel()
	watch.Add(1)
	go func() { // the stream lives as long as its connection
		defer watch.Done()
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		key, err := t.listenKey(ctx, c, "userDataStream.start")
		if err == nil {
			err = t.followStream(ctx, c, key)
			err = redact(err, key)
			attempt = 0
		}
		if ctx.Err() != nil {
			return
		}
		wait := backoff(attempt)
		t.log.Warn("binance user data stream interrupted; starting it again", "err", err, "retry_in", wait.Round(time.Millisecond))
		sleep(ctx, wait)
	}
}

// listenKey asks for (or keeps alive) the listen key.
func (t *Terminal) listenKey(ctx context.Context, c *conn, method string) (string, error) {
	a, err := t.roundTrip(ctx, c, method, params{}, userStream, time.Duration(t.opts.RequestTimeout))
	if err != nil {
		return "", err
	}
	if a.Error != nil {
		return "", t.venueErr(a)
	}
	var r struct {
		ListenKey string `json:"listenKey"`
	}
	if err := json.Unmarshal(a.Result, &r); err != nil || r.ListenKey == "" {
		return "", fmt.Errorf("%s answered no listen key", method)
	}
	return r.ListenKey, nil
}

// followStream reads the stream until it or ctx ends.
func (t *Terminal) followStream(ctx context.Context, c *conn, key string) error {
	dctx, cancel := context.WithTimeout(ctx, time.Duration(t.opts.RequestTimeout))
	ws, _, err := websocket.Dial(dctx, strings.TrimRight(t.opts.StreamURL, "/")+"/"+key, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("dial the user data stream: %w", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	t.log.Info("binance user data stream started", "conn", c.seq)
	sctx, stop := context.WithCancel(ctx)
	var pinger sync.WaitGroup
	defer pinger.Wait()
	defer stop()
	pinger.Add(1)
	go func() { // keep the listen key alive while the stream is read
		defer pinger.Done()
		tick := time.NewTicker(listenKeyPing)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
				if _, err := t.listenKey(sctx, c, "userDataStream.ping"); err != nil {
					t.log.Warn("binance listen key ping failed", "err", redact(err, key))
				}
			}
		}
	}()
	for {
		_, b, err := ws.Read(sctx)
		if err != nil {
			return fmt.Errorf("read the user data stream: %w", err)
		}
		ev, err := decodeStreamEvent(b)
		if err != nil {
			t.log.Warn("binance user data stream sent an event the driver cannot read", "err", err)
			continue
		}
		switch ev.kind {
		case "order":
			ev.event.Terminal = t.name
			t.env.Emit(ev.event)
		case "listenKeyExpired":
			return errors.New("the listen key expired")
		}
	}
}

// OrderUpdate is an ORDER_TRADE_UPDATE as a venue event's data: the order
// as it is now, and what this update did (execution_type NEW, TRADE,
// CANCELED, …; last_quantity and last_price for a fill).
type OrderUpdate struct {
	automation.ExchangeOrder
	ExecutionType string          `json:"execution_type"`
	LastQuantity  decimal.Decimal `json:"last_quantity"`
	LastPrice     decimal.Decimal `json:"last_price"`
}

type streamEvent struct {
	kind  string
	event automation.VenueEvent
}

// decodeStreamEvent reads one user data stream event; kinds other than
// order updates and listenKeyExpired come back with kind "".
func decodeStreamEvent(b []byte) (streamEvent, error) {
	var head struct {
		E    string `json:"e"`
		Time int64  `json:"E"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return streamEvent{}, fmt.Errorf("decode a stream event: %w", err)
	}
	switch head.E {
	case "listenKeyExpired":
		return streamEvent{kind: head.E}, nil
	case "ORDER_TRADE_UPDATE":
	default:
		return streamEvent{}, nil
	}
	var ev struct {
		O struct {
			Symbol        string `json:"s"`
			ClientOrderID string `json:"c"`
			Side          string `json:"S"`
			Type          string `json:"o"`
			TimeInForce   string `json:"f"`
			OrigQty       dec    `json:"q"`
			Price         dec    `json:"p"`
			AvgPrice      dec    `json:"ap"`
			ExecType      string `json:"x"`
			Status        string `json:"X"`
			OrderID       int64  `json:"i"`
			LastQty       dec    `json:"l"`
			CumQty        dec    `json:"z"`
			LastPrice     dec    `json:"L"`
			TradeTime     int64  `json:"T"`
			ReduceOnly    bool   `json:"R"`
			PositionSide  string `json:"ps"`
		} `json:"o"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return streamEvent{}, fmt.Errorf("decode ORDER_TRADE_UPDATE: %w", err)
	}
	o := ev.O
	if o.Symbol == "" || o.OrderID <= 0 {
		return streamEvent{}, errors.New("decode ORDER_TRADE_UPDATE: no symbol or order id")
	}
	at := time.UnixMilli(head.Time).UTC()
	return streamEvent{kind: "order", event: automation.VenueEvent{
		Kind: "order",
		At:   at,
		Data: OrderUpdate{
			ExchangeOrder: automation.ExchangeOrder{
				OrderID: fmt.Sprint(o.OrderID), ClientOrderID: o.ClientOrderID, Symbol: o.Symbol,
				Side: automation.OrderSide(o.Side), Type: automation.OrderType(o.Type), Status: orderStatus(o.Status),
				Price: o.Price.Decimal, AvgPrice: o.AvgPrice.Decimal, Quantity: o.OrigQty.Decimal, ExecutedQuantity: o.CumQty.Decimal,
				TimeInForce: automation.TimeInForce(o.TimeInForce), ReduceOnly: o.ReduceOnly,
				PositionSide: automation.PositionSide(o.PositionSide), UpdatedAt: at,
			},
			ExecutionType: o.ExecType, LastQuantity: o.LastQty.Decimal, LastPrice: o.LastPrice.Decimal,
		},
	}}, nil
}

// redact takes the listen key out of an error (a failed dial quotes the
// URL it dialled).
func redact(err error, key string) error {
	if err == nil || key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), key, "<listen-key>"))
}
