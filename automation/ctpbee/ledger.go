package ctpbee

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/shopspring/decimal"
)

// ctpbee keeps no client order ids, so the terminal keeps them: which
// order each client order id became, and, from just before an order is
// sent until it is settled, what was sent and which orders the book held
// then. It goes to the journal (env.Ledger), so that after a restart an
// order_status by client order id still finds its order, and an order
// sent just before a crash is settled from the book.

const ledgerVersion = 1

// keepClientOrders is how long a client order id is remembered.
const keepClientOrders = 7 * 24 * time.Hour

type ledgerState struct {
	Driver  string                 `json:"driver"`
	Version int                    `json:"version"`
	Orders  map[string]clientOrder `json:"client_orders"`
}

// clientOrder is what one client order id named.
type clientOrder struct {
	OrderID string    `json:"order_id,omitempty"` // "" while unsettled
	Symbol  string    `json:"symbol"`
	At      time.Time `json:"at"`
	// Sent and Known are set until the order is settled.
	Sent  *sentOrder `json:"sent,omitempty"`
	Known []string   `json:"known,omitempty"`
}

// sentOrder is an order or a close as it will show in the book.
type sentOrder struct {
	Close     bool            `json:"close,omitempty"` // /close_position: any closing order of the side
	Symbol    string          `json:"symbol"`
	Direction string          `json:"direction"` // long | short
	Offset    string          `json:"offset,omitempty"`
	Market    bool            `json:"market,omitempty"`
	Price     decimal.Decimal `json:"price"`
	Volume    decimal.Decimal `json:"volume"`
}

func (s sentOrder) matches(o wireOrder) bool {
	dir := dirLong
	if s.Direction == "short" {
		dir = dirShort
	}
	if o.localSymbol() != s.Symbol || string(o.Direction) != dir {
		return false
	}
	if s.Close {
		return string(o.Offset) != offOpen
	}
	return string(o.Offset) == s.Offset && (s.Market || o.Price.Equal(s.Price)) && o.Volume.Equal(s.Volume)
}

func (p orderParams) sent() sentOrder {
	return sentOrder{Symbol: p.contract.local(), Direction: p.direction, Offset: offsetValue[p.offset],
		Market: p.kind == "market", Price: p.price, Volume: p.volume}
}

// loadLedger reads the terminal's client order ids from the journal. The
// orders sent but not settled before the restart stay so until an
// order_status by their client order id (brokerd's settler asks at start)
// settles them from the book.
func (t *terminal) loadLedger(ctx context.Context) error {
	if t.env.Ledger == nil {
		return nil
	}
	raw, err := t.env.Ledger.LoadLedger(ctx, t.name)
	if err != nil {
		return fmt.Errorf("read the terminal's client order ids from the journal: %w", err)
	}
	if raw == nil {
		return nil
	}
	var st ledgerState
	if err := json.Unmarshal(raw, &st); err != nil || st.Driver != "ctpbee" {
		return fmt.Errorf("the journal holds another driver's state for terminal %q: give this terminal another name", t.name)
	}
	if st.Version != ledgerVersion {
		return fmt.Errorf("the journal holds version %d of the terminal's state; this brokerd reads version %d", st.Version, ledgerVersion)
	}
	cutoff := t.now().Add(-keepClientOrders)
	for cid, o := range st.Orders {
		if o.At.Before(cutoff) {
			continue
		}
		t.cids[cid] = o
		if o.Sent != nil {
			t.log.Warn("an order sent before the restart is not settled yet", "client_order_id", cid, "symbol", o.Symbol)
		}
	}
	return nil
}

// remember records what a client order id names, in memory and in the
// journal. An error means the journal did not take it.
func (t *terminal) remember(ctx context.Context, cid string, o clientOrder) error {
	if cid == "" {
		return nil
	}
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	t.mu.Lock()
	t.cids[cid] = o
	cutoff := t.now().Add(-keepClientOrders)
	maps.DeleteFunc(t.cids, func(_ string, o clientOrder) bool { return o.At.Before(cutoff) })
	st := ledgerState{Driver: "ctpbee", Version: ledgerVersion, Orders: maps.Clone(t.cids)}
	t.mu.Unlock()
	if t.env.Ledger == nil {
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := t.env.Ledger.SaveLedger(ctx, t.name, raw); err != nil {
		return fmt.Errorf("save the client order id in the journal: %w", err)
	}
	return nil
}

// settled records that cid became the order with id (or nothing, "").
func (t *terminal) settled(cid, id, symbol string) {
	if cid == "" {
		return
	}
	// The order is settled at the venue whatever the journal does: a
	// failed save only loses the name, and is logged.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.remember(ctx, cid, clientOrder{OrderID: id, Symbol: symbol, At: t.now()}); err != nil {
		t.log.Warn("the client order id of a settled order is not in the journal", "client_order_id", cid, "error", err.Error())
	}
}
