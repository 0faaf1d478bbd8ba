package automation

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"
)

// The exchange family: a terminal of a crypto or futures venue (Binance
// USDⓈ-M futures, a WebSocket trading gateway, a CTP futures account, the
// paper exchange). Prices and quantities are exact decimals end to end
// (never float64) and are answered as JSON strings. Symbols are the venue's
// own ("BTCUSDT" on Binance, "BTC/USDT" on a gateway, "rb2501.SHFE" on CTP).

// The operation names of the exchange set (DRIVERS.md). Drivers use them in
// Supports; the plugins package has one plugin per name.
const (
	OpPlaceOrder    = "place_order"
	OpCancelOrder   = "cancel_order"
	OpOrderStatus   = "order_status"
	OpOpenOrders    = "open_orders"
	OpAsset         = "asset"
	OpPosition      = "position"
	OpSymbolInfo    = "symbol_info"
	OpClosePosition = "close_position" // futures terminals (PositionCloser)
)

// ExchangeOperations lists the exchange set in the order DRIVERS.md gives.
var ExchangeOperations = []string{
	OpPlaceOrder, OpCancelOrder, OpOrderStatus, OpOpenOrders,
	OpAsset, OpPosition, OpSymbolInfo, OpClosePosition,
}

// OrderSide is the direction of an exchange order.
type OrderSide string

const (
	SideBuy  OrderSide = "BUY"
	SideSell OrderSide = "SELL"
)

// OrderType tells a limit order from a market order.
type OrderType string

const (
	TypeLimit  OrderType = "LIMIT"
	TypeMarket OrderType = "MARKET"
)

// TimeInForce says how long a limit order rests.
type TimeInForce string

const (
	GTC TimeInForce = "GTC" // good till cancelled
	IOC TimeInForce = "IOC" // immediate or cancel
	FOK TimeInForce = "FOK" // fill or kill
	GTX TimeInForce = "GTX" // post only
)

// PositionSide is the side of a futures position an order acts on: BOTH
// in one-way mode, LONG or SHORT in hedge mode.
type PositionSide string

const (
	PositionBoth  PositionSide = "BOTH"
	PositionLong  PositionSide = "LONG"
	PositionShort PositionSide = "SHORT"
)

// Offset says whether a futures order opens or closes a position (CTP).
type Offset string

const (
	OffsetOpen           Offset = "OPEN"
	OffsetClose          Offset = "CLOSE"
	OffsetCloseToday     Offset = "CLOSE_TODAY"
	OffsetCloseYesterday Offset = "CLOSE_YESTERDAY"
)

// OrderStatus is an exchange order's state; every venue's names map onto
// these (a gateway's SUBMITTED → NEW, PARTIAL-FILLED → PARTIALLY_FILLED,
// FAILED → REJECTED).
type OrderStatus string

const (
	StatusNew             OrderStatus = "NEW"
	StatusPartiallyFilled OrderStatus = "PARTIALLY_FILLED"
	StatusFilled          OrderStatus = "FILLED"
	StatusCanceled        OrderStatus = "CANCELED"
	StatusRejected        OrderStatus = "REJECTED"
	StatusExpired         OrderStatus = "EXPIRED"
)

// Open reports whether an order in status s can still fill or be
// cancelled.
func (s OrderStatus) Open() bool { return s == StatusNew || s == StatusPartiallyFilled }

// PlaceOrderRequest asks a venue to place one order.
type PlaceOrderRequest struct {
	Symbol   string
	Side     OrderSide
	Type     OrderType
	Quantity decimal.Decimal
	// Price is the limit price; zero for MARKET.
	Price       decimal.Decimal
	TimeInForce TimeInForce // "" for MARKET
	ReduceOnly  bool
	// PositionSide is BOTH unless the account is in hedge mode.
	PositionSide PositionSide
	// Offset is set only for futures terminals (OffsetTaker); "" elsewhere.
	Offset Offset
	// ClientOrderID is the venue's client order id, derived by brokerd
	// from the idempotency key (or the operation id) and journaled before
	// the venue is called: a lost answer is settled by looking it up.
	ClientOrderID string
}

// OrderRef names one order: by the venue's id or by the client order id
// (exactly one is set).
type OrderRef struct {
	Symbol        string
	OrderID       string
	ClientOrderID string
}

// ExchangeOrder is an order as the venue keeps it.
type ExchangeOrder struct {
	OrderID          string          `json:"order_id"`
	ClientOrderID    string          `json:"client_order_id"`
	Symbol           string          `json:"symbol"`
	Side             OrderSide       `json:"side"`
	Type             OrderType       `json:"type"`
	Status           OrderStatus     `json:"status"`
	Price            decimal.Decimal `json:"price"`
	AvgPrice         decimal.Decimal `json:"avg_price"`
	Quantity         decimal.Decimal `json:"quantity"`
	ExecutedQuantity decimal.Decimal `json:"executed_quantity"`
	TimeInForce      TimeInForce     `json:"time_in_force"`
	ReduceOnly       bool            `json:"reduce_only"`
	PositionSide     PositionSide    `json:"position_side"`
	// Offset is a futures order's offset; omitted elsewhere.
	Offset    Offset    `json:"offset,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Asset is one balance of the account.
type Asset struct {
	Asset         string          `json:"asset"`
	Balance       decimal.Decimal `json:"balance"`
	Available     decimal.Decimal `json:"available"`
	UnrealizedPnL decimal.Decimal `json:"unrealized_pnl"`
}

// ExchangePosition is one position. Quantity is signed: negative is short
// (in one-way mode); in hedge mode PositionSide says which side it is.
type ExchangePosition struct {
	Symbol           string          `json:"symbol"`
	PositionSide     PositionSide    `json:"position_side"`
	Quantity         decimal.Decimal `json:"quantity"`
	EntryPrice       decimal.Decimal `json:"entry_price"`
	MarkPrice        decimal.Decimal `json:"mark_price"`
	UnrealizedPnL    decimal.Decimal `json:"unrealized_pnl"`
	Leverage         decimal.Decimal `json:"leverage"`
	LiquidationPrice decimal.Decimal `json:"liquidation_price"`
	// TodayQuantity and YesterdayQuantity split a futures position where
	// the exchange tells today's from yesterday's (SHFE, INE); omitted
	// elsewhere.
	TodayQuantity     *decimal.Decimal `json:"today_quantity,omitempty"`
	YesterdayQuantity *decimal.Decimal `json:"yesterday_quantity,omitempty"`
}

// SymbolInfo are a symbol's trading rules.
type SymbolInfo struct {
	Symbol       string          `json:"symbol"`
	Status       string          `json:"status"` // TRADING, …, as the venue says
	PriceTick    decimal.Decimal `json:"price_tick"`
	QuantityStep decimal.Decimal `json:"quantity_step"`
	MinQuantity  decimal.Decimal `json:"min_quantity"`
	MinNotional  decimal.Decimal `json:"min_notional"`
	BaseAsset    string          `json:"base_asset"`
	QuoteAsset   string          `json:"quote_asset"`
	// CloseTodayDistinct is true where the exchange tells closing today's
	// position from yesterday's (SHFE, INE): only there are CLOSE_TODAY
	// and CLOSE_YESTERDAY accepted.
	CloseTodayDistinct bool `json:"close_today_distinct,omitempty"`
}

// ClosePositionRequest closes (part of) a futures position.
type ClosePositionRequest struct {
	Symbol       string
	PositionSide PositionSide // LONG or SHORT
	// Quantity to close; zero closes all.
	Quantity      decimal.Decimal
	ClientOrderID string
}

// Exchange is a terminal of an exchange venue. As with StockBroker, the
// lane calls it one operation at a time, but it must honour ctx; State may
// be called at any time.
//
// PlaceOrder must never send an order twice. When its answer is lost (a
// dropped connection after the send, the deadline, a venue's "unknown
// status"), the driver settles it by looking the order up by
// req.ClientOrderID on the same or the next connection, within ctx: it
// returns the order found, or a Rejected error wrapping ErrNoSuchOrder when
// the venue confirms it has none; only when the venue cannot be asked in
// time does it return OutcomeUnknown.
type Exchange interface {
	Terminal

	PlaceOrder(ctx context.Context, req PlaceOrderRequest) (ExchangeOrder, error)
	// CancelOrder cancels one order and returns it as it is after the
	// cancel.
	CancelOrder(ctx context.Context, ref OrderRef) (ExchangeOrder, error)
	// OrderStatus looks one order up; an order the venue does not know is
	// a Rejected error wrapping ErrNoSuchOrder.
	OrderStatus(ctx context.Context, ref OrderRef) (ExchangeOrder, error)
	// OpenOrders lists the open orders, of one symbol when given.
	OpenOrders(ctx context.Context, symbol string) ([]ExchangeOrder, error)
	Assets(ctx context.Context) ([]Asset, error)
	// Positions lists the non-zero positions, of one symbol when given.
	Positions(ctx context.Context, symbol string) ([]ExchangePosition, error)
	SymbolInfo(ctx context.Context, symbol string) (SymbolInfo, error)
}

// SymbolRules is an Exchange that knows symbols' rules without a round
// trip (cached from symbol_info or exchangeInfo, per connection). It lets a
// submit be checked against them (a price off the tick is a 422 before the
// venue sees it). It must not block.
type SymbolRules interface {
	CachedSymbol(symbol string) (SymbolInfo, bool)
}

// PositionCloser is a futures Exchange with close_position.
type PositionCloser interface {
	ClosePosition(ctx context.Context, req ClosePositionRequest) (ExchangeOrder, error)
}

// OffsetTaker is a futures Exchange that takes place_order's offset
// (OPEN, CLOSE, …); other terminals refuse the parameter at submit.
type OffsetTaker interface {
	TakesOffset() bool
}

// PositionRules is an Exchange that knows its positions without a round
// trip, so that a close larger than the position is a 422 at submit. It
// must not block.
type PositionRules interface {
	CachedPosition(symbol string, side PositionSide) (decimal.Decimal, bool)
}

// ErrNoSuchOrder is wrapped by the error of an order lookup the venue
// answered with "no such order": confirmed absent, not merely unknown.
var ErrNoSuchOrder = errors.New("no such order at the venue")

// NoSuchOrder is the Rejected error for an order the venue confirms it
// does not have.
func NoSuchOrder(message string) error {
	return &Error{Code: CodeRejected, Message: message, Err: ErrNoSuchOrder}
}
