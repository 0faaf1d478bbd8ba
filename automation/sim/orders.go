package sim

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// order is one 委托 as the ledger keeps it.
type order struct {
	ContractNo    string               `json:"contract_no"`
	ClientOrderID string               `json:"client_order_id,omitempty"`
	ConditionID   string               `json:"condition_id,omitempty"` // the condition order that fired it
	Code          string               `json:"code"`
	Side          automation.Side      `json:"side"`
	Kind          automation.OrderKind `json:"kind"`
	Strategy      int                  `json:"strategy,omitempty"`
	Price         int64                `json:"price_milli"` // the limit; 0 for a market order
	Quantity      int64                `json:"quantity"`
	Filled        int64                `json:"filled"`
	FillPrice     int64                `json:"fill_price_milli,omitempty"`
	Cancelled     int64                `json:"cancelled,omitempty"`
	Status        string               `json:"status"`
	Frozen        int64                `json:"frozen_cents,omitempty"` // cash held by an open buy
	PlacedAt      time.Time            `json:"placed_at"`
	Reason        string               `json:"reason,omitempty"`
}

func (o *order) open() bool {
	return o.Status == automation.OrderPending || o.Status == automation.OrderPartFilled
}

func (o *order) view() automation.Order {
	in, _ := classify(o.Code) // codes are checked before an order is recorded
	kind := "限价"
	if o.Kind == automation.Market {
		kind = "市价"
	}
	at := o.PlacedAt.In(shanghai)
	return automation.Order{
		ContractNo:    o.ContractNo,
		Code:          o.Code,
		Name:          in.name(),
		Side:          o.Side,
		Kind:          kind,
		Price:         milliFloat(o.Price),
		Quantity:      o.Quantity,
		Filled:        o.Filled,
		AvgPrice:      milliFloat(o.FillPrice),
		Cancelled:     o.Cancelled,
		Status:        o.Status,
		Date:          at.Format("20060102"),
		Time:          at.Format("15:04:05"),
		Market:        in.market,
		ClientOrderID: o.ClientOrderID,
		Reason:        o.Reason,
	}
}

// orderSpec is an order to place, its price already in milli.
type orderSpec struct {
	in          instrument
	side        automation.Side
	kind        automation.OrderKind
	price       int64 // limit orders
	quantity    int64
	strategy    int
	clientID    string
	conditionID string
}

// specOf checks what a caller sent and converts it.
func specOf(req automation.OrderRequest) (orderSpec, error) {
	in, err := classifyTradable(req.Code)
	if err != nil {
		return orderSpec{}, automation.Rejected("%v", err)
	}
	s := orderSpec{in: in, side: req.Side, kind: req.Kind, quantity: req.Quantity, strategy: req.Strategy, clientID: req.ClientOrderID}
	if s.side != automation.Buy && s.side != automation.Sell {
		return s, automation.Rejected("买卖方向 %q 无效, 应为 %s 或 %s", req.Side, automation.Buy, automation.Sell)
	}
	switch s.kind {
	case automation.Limit:
		if s.price, err = in.parsePrice(req.Price); err != nil {
			return s, automation.Rejected("%v", err)
		}
	case automation.Market:
		if s.strategy < 0 || s.strategy > 6 {
			return s, automation.Rejected("市价委托方式 %d 无效, 应为 1–6", s.strategy)
		}
	default:
		return s, automation.Rejected("委托类别 %q 无效, 应为 limit 或 market", req.Kind)
	}
	if s.quantity <= 0 || s.quantity > maxQuantity {
		return s, automation.Rejected("委托数量 %d 无效, 应在 1 到 %d 之间", s.quantity, maxQuantity)
	}
	return s, nil
}

// placeOrder checks an order against the account and the market at now,
// records it, and fills it at once when it is marketable. The caller holds
// the lock, has advanced the state to now, and has looked up the client
// order id (see clientOrder). A rejected order is not recorded.
func (t *Terminal) placeOrder(now time.Time, s orderSpec) (*order, error) {
	today := dayOf(now)
	price, prevClose := t.priceAt(s.in, pointOf(now))
	if s.kind == automation.Limit {
		down, up := s.in.band(prevClose)
		if s.price > up {
			return nil, automation.Rejected("委托价格 %s 高于 %s 的涨停价 %s (昨收 %s, 涨跌幅限制 %d%%)",
				s.in.formatPrice(s.price), s.in.code, s.in.formatPrice(up), s.in.formatPrice(prevClose), s.in.limitPercent())
		}
		if s.price < down {
			return nil, automation.Rejected("委托价格 %s 低于 %s 的跌停价 %s (昨收 %s, 涨跌幅限制 %d%%)",
				s.in.formatPrice(s.price), s.in.code, s.in.formatPrice(down), s.in.formatPrice(prevClose), s.in.limitPercent())
		}
	}
	var frozen int64
	switch s.side {
	case automation.Buy:
		if lot := s.in.lot(); s.quantity%lot != 0 {
			return nil, automation.Rejected("买入数量 %d 不是 %d 的整数倍 (%s 每手 %d)", s.quantity, lot, s.in.code, lot)
		}
		at := price
		if s.kind == automation.Limit {
			at = s.price // cash for the worst fill: the limit
		}
		amount := amountCents(at, s.quantity)
		need := amount + t.fees.of(s.in, false, amount).total()
		if avail := t.available(); need > avail {
			return nil, automation.Rejected("可用资金不足: 买入 %s %d股 @ %s 需 %s 元 (金额 %s + 预估费用 %s), 可用资金 %s 元",
				s.in.code, s.quantity, s.in.formatPrice(at), yuan(need), yuan(amount), yuan(need-amount), yuan(avail))
		}
		frozen = need
	case automation.Sell:
		if err := t.checkSellable(s.in, s.quantity, today); err != nil {
			return nil, err
		}
	}
	o := &order{
		ContractNo:    t.nextContractNo(),
		ClientOrderID: s.clientID,
		ConditionID:   s.conditionID,
		Code:          s.in.code,
		Side:          s.side,
		Kind:          s.kind,
		Strategy:      s.strategy,
		Price:         s.price,
		Quantity:      s.quantity,
		Status:        automation.OrderPending,
		PlacedAt:      now,
	}
	t.day.add(o)
	t.changed = true
	if s.kind == automation.Market ||
		s.side == automation.Buy && s.price >= price ||
		s.side == automation.Sell && s.price <= price {
		// Marketable: it takes the current price, as a taker would.
		t.fill(o, s.in, price, now)
		return o, nil
	}
	if s.side == automation.Buy {
		o.Frozen = frozen
	}
	t.st.Orders = append(t.st.Orders, o)
	return o, nil
}

// replay answers a repeated client order id with the order it named (see
// clientOrder), so that a retry after an unknown outcome cannot place a
// second order.
func (t *Terminal) replay(o *order, s orderSpec) (*order, error) {
	if o.Code != s.in.code || o.Side != s.side || o.Kind != s.kind || o.Quantity != s.quantity ||
		s.kind == automation.Limit && o.Price != s.price {
		return nil, automation.Rejected("客户委托号 %q 已用于另一笔委托 (合同编号 %s: %s %s %d股), 请换一个委托号",
			s.clientID, o.ContractNo, o.Side, o.Code, o.Quantity)
	}
	return o, nil
}

// checkSellable applies T+1 and the odd-lot rule: an odd lot (零股) is
// sold in one order, all of it.
func (t *Terminal) checkSellable(in instrument, qty int64, today day) error {
	p := t.st.Positions[in.code]
	if p == nil {
		return automation.Rejected("可卖数量不足: 没有 %s 的持仓, 不能卖出 %d股", in.code, qty)
	}
	unsettled, frozen := p.unsettled(today), t.frozenShares(in.code)
	sellable := p.Quantity - unsettled - frozen
	if qty > sellable {
		return automation.Rejected("可卖数量不足: 卖出 %s %d股, 可卖 %d股 (持仓 %d股, 今日买入T+1不可卖 %d股, 挂单冻结 %d股)",
			in.code, qty, sellable, p.Quantity, unsettled, frozen)
	}
	if lot := in.lot(); qty%lot != 0 && qty%lot != sellable%lot {
		return automation.Rejected("卖出数量 %d 无效: 应为 %d 的整数倍, 不足一手的零股 %d股 须一次卖出", qty, lot, sellable%lot)
	}
	return nil
}

// fill executes the whole order at price. The sim's book is deep: every
// order fills entirely, at one price.
func (t *Terminal) fill(o *order, in instrument, price int64, at time.Time) {
	amount := amountCents(price, o.Quantity)
	f := t.fees.of(in, o.Side == automation.Sell, amount)
	t.changed = true
	switch o.Side {
	case automation.Buy:
		t.st.Cash -= amount + f.total()
		p := t.st.Positions[o.Code]
		if p == nil {
			p = &position{}
			t.st.Positions[o.Code] = p
		}
		p.Quantity += o.Quantity
		p.Cost += amount + f.total()
		d := dayOf(at)
		if n := len(p.Unsettled); n > 0 && p.Unsettled[n-1].Day == d {
			p.Unsettled[n-1].Quantity += o.Quantity
		} else {
			p.Unsettled = append(p.Unsettled, lot{Day: d, Quantity: o.Quantity})
		}
	case automation.Sell:
		t.st.Cash += amount - f.total()
		p := t.st.Positions[o.Code]
		p.Cost -= mulDivRound(p.Cost, o.Quantity, p.Quantity)
		p.Quantity -= o.Quantity
		if p.Quantity == 0 {
			delete(t.st.Positions, o.Code)
		}
	}
	o.Filled, o.FillPrice, o.Status, o.Frozen = o.Quantity, price, automation.OrderFilled, 0
	t.retireOrder(o)
	t.retireTrade(&trade{
		ContractNo: o.ContractNo,
		Code:       o.Code,
		Side:       o.Side,
		Price:      price,
		Quantity:   o.Quantity,
		Amount:     amount,
		Fees:       f,
		At:         at,
	})
}

// reject records an order a condition order fired that could not be
// placed, as a broker's watcher would: a 废单 with the reason.
func (t *Terminal) reject(now time.Time, s orderSpec, price int64, reason string) *order {
	o := &order{
		ContractNo:  t.nextContractNo(),
		ConditionID: s.conditionID,
		Code:        s.in.code,
		Side:        s.side,
		Kind:        s.kind,
		Price:       price,
		Quantity:    s.quantity,
		Status:      automation.OrderRejected,
		PlacedAt:    now,
		Reason:      reason,
	}
	t.day.add(o)
	t.retireOrder(o)
	return o
}

// cancel withdraws an open order.
func (t *Terminal) cancel(o *order, reason string) {
	o.Cancelled = o.Quantity - o.Filled
	o.Status = automation.OrderCancelled
	if o.Filled > 0 {
		o.Status = automation.OrderPartCancelled
	}
	o.Frozen = 0
	o.Reason = reason
	t.retireOrder(o)
}

// cancelOrders cancels the open orders matching req. A contract number
// that names no open order is an error that says why; filters that match
// nothing are not.
func (t *Terminal) cancelOrders(req automation.CancelRequest) ([]automation.Order, error) {
	var out []automation.Order
	for _, o := range slices.Clone(t.st.Orders) {
		if req.ContractNo != "" && o.ContractNo != req.ContractNo ||
			req.Code != "" && o.Code != req.Code ||
			req.Side != "" && o.Side != req.Side {
			continue
		}
		t.cancel(o, "用户撤单")
		out = append(out, o.view())
	}
	if req.ContractNo != "" && len(out) == 0 {
		for _, o := range t.day.orders {
			if o.ContractNo == req.ContractNo {
				return nil, automation.Rejected("撤单失败: 合同编号 %s 的委托状态为 %s, 不能撤单", o.ContractNo, o.Status)
			}
		}
		if t.pastContractNo(req.ContractNo) {
			return nil, automation.Rejected("撤单失败: 合同编号 %s 不是今日的委托; 以前交易日的委托已在当日收市时结束, 不能撤单", req.ContractNo)
		}
		return nil, automation.Rejected("撤单失败: 没有合同编号为 %s 的委托", req.ContractNo)
	}
	return out, nil
}

// pastContractNo reports whether no is a contract number given before
// today's orders, and not one of the repo loans the state still holds:
// the order of an earlier day, all of which have ended (their records are
// in the archive).
func (t *Terminal) pastContractNo(no string) bool {
	n, err := strconv.ParseInt(no, 10, 64)
	if err != nil || n < 1 || n > t.st.LastContractNo {
		return false
	}
	for _, l := range t.st.Loans {
		if l.ContractNo == no {
			return false
		}
	}
	return true
}

func (t *Terminal) nextContractNo() string {
	t.st.LastContractNo++
	t.changed = true
	return strconv.FormatInt(t.st.LastContractNo, 10)
}

// matchOpen fills the resting orders the price at p has reached, in time
// priority. A resting order trades at its own limit: the price passed
// through it on the way.
func (t *Terminal) matchOpen(p point, at time.Time, code string) {
	for _, o := range slices.Clone(t.st.Orders) {
		if code != "" && o.Code != code {
			continue
		}
		in, _ := classify(o.Code)
		price, _ := t.priceAt(in, p)
		if o.Side == automation.Buy && price <= o.Price || o.Side == automation.Sell && price >= o.Price {
			t.fill(o, in, o.Price, at)
			t.note(at, EventFill, FillEvent{Order: o.view(), Resting: true})
		}
	}
}

func (t *Terminal) ordersView(today day, code string) []automation.Order {
	out := []automation.Order{}
	for _, o := range t.day.orders {
		if dayOf(o.PlacedAt) == today && (code == "" || o.Code == code) {
			out = append(out, o.view())
		}
	}
	return out
}

// historyView lists the orders placed since q.Since, in the order they
// were placed: the finished ones from the archive, and the open ones. The
// caller has saved the orders that finished (see run).
func (t *Terminal) historyView(ctx context.Context, q automation.HistoryQuery) ([]automation.Order, error) {
	done, err := archived[order](ctx, t, kindOrder, dayOf(q.Since))
	if err != nil {
		return nil, err
	}
	orders := slices.Concat(done, t.st.Orders)
	sortByPlacing(orders)
	out := []automation.Order{}
	for _, o := range orders {
		if !o.PlacedAt.Before(q.Since) && (q.Code == "" || o.Code == q.Code) {
			out = append(out, o.view())
		}
	}
	return out, nil
}
