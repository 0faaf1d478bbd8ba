package automation

import (
	"context"
	"time"
)

// The A-share family: a terminal of a stock broker (StockBroker) and the
// values it deals in.

// The JSON names of these types are the column names a THS (同花顺) terminal
// shows, so that results look the same whichever driver produced them and
// scripts written against EasyTHS find the keys they expect. Stock codes are
// always strings: "000001" must keep its leading zeros.

// Side is the direction of an order.
type Side string

const (
	Buy  Side = "买入"
	Sell Side = "卖出"
)

// OrderKind tells a limit order from a market order.
type OrderKind string

const (
	Limit  OrderKind = "limit"
	Market OrderKind = "market"
)

// OrderRequest asks a broker to place one order.
type OrderRequest struct {
	Code     string    // 6-digit stock code
	Side     Side      // Buy or Sell
	Kind     OrderKind // Limit or Market
	Price    float64   // limit price; ignored for Market
	Quantity int64     // shares (or bonds: 10 per lot for convertibles)
	// Strategy is the market order execution strategy, numbered as
	// EasyTHS's execution_strategy (1–6, default 3); plugins/order.go
	// names each number. A driver maps it to its venue's order types.
	Strategy int
	// ClientOrderID is the caller's idempotency key, passed to the venue
	// where it has a client order id so an unknown outcome can be reconciled.
	ClientOrderID string
}

// Order statuses as a THS terminal names them (状态说明).
const (
	OrderPending       = "未成交"
	OrderPartFilled    = "部分成交"
	OrderFilled        = "已成"
	OrderCancelled     = "已撤"
	OrderPartCancelled = "部成部撤"
	OrderRejected      = "废单"
)

// Order is one order (委托) as the broker keeps it.
type Order struct {
	ContractNo    string  `json:"合同编号"`
	Code          string  `json:"证券代码"`
	Name          string  `json:"证券名称"`
	Side          Side    `json:"操作"`
	Kind          string  `json:"委托类别"` // 限价 / 市价
	Price         float64 `json:"委托价格"`
	Quantity      int64   `json:"委托数量"`
	Filled        int64   `json:"成交数量"`
	AvgPrice      float64 `json:"成交均价"`
	Cancelled     int64   `json:"撤单数量"`
	Status        string  `json:"状态说明"` // one of the Order* statuses
	Date          string  `json:"委托日期"` // 20260102
	Time          string  `json:"委托时间"` // 09:31:05
	Market        string  `json:"交易市场"` // 上海A股 / 深圳A股 / 北京
	ClientOrderID string  `json:"客户委托号,omitempty"`
	Reason        string  `json:"备注,omitempty"` // why it was rejected or cancelled
	// Extra holds the columns a real terminal showed that have no field
	// here (股东代码, 申报编号, …) as a JSON object ("" for none, as from
	// the sim); see extra.go. A string keeps Order comparable.
	Extra string `json:"-"`
}

// Open reports whether the order can still fill or be cancelled.
func (o Order) Open() bool {
	return o.Status == OrderPending || o.Status == OrderPartFilled
}

// CancelRequest selects the open orders to cancel. Empty fields match all.
type CancelRequest struct {
	ContractNo string // one order by its 合同编号
	Code       string // orders of one stock
	Side       Side   // "" for both sides
}

// HistoryQuery selects past orders.
type HistoryQuery struct {
	Code  string    // "" for every stock
	Since time.Time // inclusive; the plugin derives it from 当日/近一周/…
}

// Funds is the cash account (资金股份). Amounts in CNY.
type Funds struct {
	Balance      float64 `json:"资金余额"`
	Frozen       float64 `json:"冻结金额"`
	Available    float64 `json:"可用金额"`
	Withdrawable float64 `json:"可取金额"`
	MarketValue  float64 `json:"股票市值"`
	TotalAssets  float64 `json:"总资产"`
	ProfitLoss   float64 `json:"持仓盈亏"`
}

// Position is one holding (持仓).
type Position struct {
	Code        string  `json:"证券代码"`
	Name        string  `json:"证券名称"`
	Quantity    int64   `json:"股票余额"`
	Available   int64   `json:"可用余额"` // sellable now (T+1: not today's purchases)
	Frozen      int64   `json:"冻结数量"` // held by open sell orders
	CostPrice   float64 `json:"成本价"`
	LastPrice   float64 `json:"市价"`
	MarketValue float64 `json:"市值"`
	ProfitLoss  float64 `json:"浮动盈亏"`
	ProfitRatio float64 `json:"盈亏比例(%)"`
	Market      string  `json:"交易市场"`
	// Extra holds a real terminal's columns that have no field here, as
	// on Order.
	Extra string `json:"-"`
}

// RepoRequest lends cash through a treasury reverse repo.
type RepoRequest struct {
	Market string // 上海 or 深圳
	Term   string // 1天期, 2天期, 3天期, 4天期, 7天期
	Amount int64  // CNY, a multiple of 1000
}

// RepoRate is one row of the reverse repo rate table.
type RepoRate struct {
	Market string `json:"市场类型"` // 上海市场 / 深圳市场
	Term   string `json:"时间类型"` // 1天期 …
	Rate   string `json:"年化利率"` // "2.50%"
	Code   string `json:"证券代码"` // 204001 / 131810 …
}

// RepoLoan is a placed reverse repo.
type RepoLoan struct {
	ContractNo string  `json:"合同编号"`
	Code       string  `json:"证券代码"`
	Market     string  `json:"市场类型"`
	Term       string  `json:"时间类型"`
	Amount     int64   `json:"出借金额"`
	Rate       float64 `json:"年化利率"` // percent, 2.5 means 2.50%
	MaturesOn  string  `json:"到期日期"`
}

// ConditionKind tells the two kinds of condition order apart.
type ConditionKind string

const (
	ConditionBuy   ConditionKind = "condition_buy"    // buy when the price falls to a target
	StopLossProfit ConditionKind = "stop_loss_profit" // sell on a fall or a rise from cost
)

// ConditionRequest sets a condition order.
type ConditionRequest struct {
	Kind        ConditionKind
	Code        string
	TargetPrice float64 // ConditionBuy: fire when the price is at or below it
	LossPercent float64 // StopLossProfit: sell when price ≤ cost × (1 − loss/100)
	GainPercent float64 // StopLossProfit: sell when price ≥ cost × (1 + gain/100)
	Quantity    int64   // 0 with StopLossProfit: the whole sellable position
	ExpireDays  int     // natural days
}

// Condition order statuses.
const (
	ConditionWatching  = "监控中"
	ConditionTriggered = "已触发"
	ConditionExpired   = "已过期"
	ConditionDeleted   = "已删除"
)

// ConditionOrder is a condition order (条件单) the broker watches.
type ConditionOrder struct {
	ID          string  `json:"条件单编号"`
	Code        string  `json:"证券代码"`
	Name        string  `json:"证券名称"`
	Side        Side    `json:"买卖方向"`
	Condition   string  `json:"触发条件"` // human-readable, e.g. 价格<=10.50
	TargetPrice float64 `json:"目标价格,omitempty"`
	LossPercent float64 `json:"止损比例,omitempty"`
	GainPercent float64 `json:"止盈比例,omitempty"`
	Quantity    int64   `json:"委托数量"`
	Status      string  `json:"状态"` // one of the Condition* statuses
	CreatedAt   string  `json:"创建时间"`
	ExpiresOn   string  `json:"截止日期"`
	ContractNo  string  `json:"合同编号,omitempty"` // the order it fired, once triggered
}

// ConditionCancel selects watching condition orders to delete. Empty fields
// match all.
type ConditionCancel struct {
	Code string
	Side Side
}

// StockBroker is a terminal of an A-share broker (a THS xiadan client, an
// easytrader agent, the sim). Every method is called by one lane at a time,
// never concurrently with another call on the same terminal, but it must
// honour ctx: when ctx is done the driver returns as soon as it safely can.
//
// A driver that lacks a capability returns ErrUnsupported from that method
// and says false from Supports for the operations that need it.
type StockBroker interface {
	Terminal

	// PlaceOrder sends a limit or market order and returns it as the broker
	// recorded it, with its contract number (合同编号).
	PlaceOrder(ctx context.Context, req OrderRequest) (Order, error)
	// CancelOrders cancels the open orders that match and returns them as
	// they are after the cancel.
	CancelOrders(ctx context.Context, req CancelRequest) ([]Order, error)
	// Orders lists today's orders (当日委托), filtered by code when given.
	Orders(ctx context.Context, code string) ([]Order, error)
	// OrderHistory lists orders placed within the query's range (历史委托).
	OrderHistory(ctx context.Context, q HistoryQuery) ([]Order, error)
	// Funds reports the cash account (资金股份).
	Funds(ctx context.Context) (Funds, error)
	// Positions lists the holdings (持仓).
	Positions(ctx context.Context) ([]Position, error)

	// RepoRates lists the current annualised reverse repo rates.
	RepoRates(ctx context.Context) ([]RepoRate, error)
	// LendRepo lends cash through a treasury reverse repo (国债逆回购).
	LendRepo(ctx context.Context, req RepoRequest) (RepoLoan, error)

	// PlaceConditionOrder sets a condition buy or a stop-loss/stop-profit
	// order that the broker watches and fires on price.
	PlaceConditionOrder(ctx context.Context, req ConditionRequest) (ConditionOrder, error)
	// ConditionOrders lists the condition orders not yet triggered.
	ConditionOrders(ctx context.Context) ([]ConditionOrder, error)
	// CancelConditionOrders deletes the watching condition orders that match.
	CancelConditionOrders(ctx context.Context, req ConditionCancel) ([]ConditionOrder, error)
}
