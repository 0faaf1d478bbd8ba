package sim

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// maxExpireDays is the longest a condition order watches. It also bounds
// the replay: nothing the sim watches lives longer.
const maxExpireDays = 30

// percentScale turns a percentage into an integer: 3.5% is 3_500_000.
const percentScale = 1_000_000

// condition is a condition order (条件单) the sim's watcher checks every
// session minute.
type condition struct {
	ID          string                   `json:"id"`
	Kind        automation.ConditionKind `json:"kind"`
	Code        string                   `json:"code"`
	Target      int64                    `json:"target_milli,omitempty"` // condition_buy
	LossPercent float64                  `json:"loss_percent,omitempty"` // stop_loss_profit
	GainPercent float64                  `json:"gain_percent,omitempty"`
	// LossTrigger and GainTrigger are the prices that fire a
	// stop_loss_profit, fixed from the cost price when it was set.
	LossTrigger int64     `json:"loss_trigger_milli,omitempty"`
	GainTrigger int64     `json:"gain_trigger_milli,omitempty"`
	Quantity    int64     `json:"quantity"` // 0: the whole sellable position
	CreatedAt   time.Time `json:"created_at"`
	ExpiresOn   day       `json:"expires_on"` // the last day it watches
	Status      string    `json:"status"`
	ContractNo  string    `json:"contract_no,omitempty"` // the order it fired
	ClosedAt    time.Time `json:"closed_at,omitzero"`
}

func (c *condition) side() automation.Side {
	if c.Kind == automation.ConditionBuy {
		return automation.Buy
	}
	return automation.Sell
}

func (c *condition) view() automation.ConditionOrder {
	in, _ := classify(c.Code)
	v := automation.ConditionOrder{
		ID:          c.ID,
		Code:        c.Code,
		Name:        in.name(),
		Side:        c.side(),
		Quantity:    c.Quantity,
		Status:      c.Status,
		CreatedAt:   c.CreatedAt.In(shanghai).Format("2006-01-02 15:04:05"),
		ExpiresOn:   c.ExpiresOn.compact(),
		ContractNo:  c.ContractNo,
		LossPercent: c.LossPercent,
		GainPercent: c.GainPercent,
	}
	if c.Kind == automation.ConditionBuy {
		v.TargetPrice = milliFloat(c.Target)
		v.Condition = "价格<=" + in.formatPrice(c.Target)
	} else {
		v.Condition = fmt.Sprintf("价格<=%s 或 价格>=%s", in.formatPrice(c.LossTrigger), in.formatPrice(c.GainTrigger))
	}
	return v
}

// placeCondition sets a condition order at now and checks it against the
// current price at once. The caller holds the lock.
func (t *Terminal) placeCondition(now time.Time, req automation.ConditionRequest) (automation.ConditionOrder, error) {
	in, err := classifyTradable(req.Code)
	if err != nil {
		return automation.ConditionOrder{}, automation.Rejected("%v", err)
	}
	if req.ExpireDays < 1 || req.ExpireDays > maxExpireDays {
		return automation.ConditionOrder{}, automation.Rejected("有效天数 %d 无效, 应在 1 到 %d 天之间", req.ExpireDays, maxExpireDays)
	}
	if req.Quantity < 0 || req.Quantity > maxQuantity {
		return automation.ConditionOrder{}, automation.Rejected("委托数量 %d 无效", req.Quantity)
	}
	c := &condition{
		Kind:      req.Kind,
		Code:      in.code,
		Quantity:  req.Quantity,
		CreatedAt: now,
		ExpiresOn: dayOf(now) + day(req.ExpireDays) - 1,
		Status:    automation.ConditionWatching,
	}
	switch req.Kind {
	case automation.ConditionBuy:
		if c.Target, err = in.parsePrice(req.TargetPrice); err != nil {
			return automation.ConditionOrder{}, automation.Rejected("目标价格无效: %v", err)
		}
		if lot := in.lot(); req.Quantity == 0 || req.Quantity%lot != 0 {
			return automation.ConditionOrder{}, automation.Rejected("条件买入数量 %d 无效: 应为 %d 的正整数倍", req.Quantity, lot)
		}
	case automation.StopLossProfit:
		pos := t.st.Positions[in.code]
		if pos == nil {
			return automation.ConditionOrder{}, automation.Rejected("没有 %s 的持仓, 不能设置止盈止损", in.code)
		}
		if req.Quantity > pos.Quantity {
			return automation.ConditionOrder{}, automation.Rejected("止盈止损数量 %d股 超过持仓 %d股", req.Quantity, pos.Quantity)
		}
		loss, lerr := percentUnits(req.LossPercent)
		gain, gerr := percentUnits(req.GainPercent)
		if lerr != nil || gerr != nil {
			return automation.ConditionOrder{}, automation.Rejected("止损比例 %v%% 与止盈比例 %v%% 应在 (0, 100] 之内", req.LossPercent, req.GainPercent)
		}
		c.LossPercent, c.GainPercent = req.LossPercent, req.GainPercent
		c.LossTrigger, c.GainTrigger = triggers(in, pos, loss, gain)
	default:
		return automation.ConditionOrder{}, automation.Rejected("条件单类型 %q 无效", req.Kind)
	}
	t.st.LastConditionID++
	c.ID = strconv.FormatInt(t.st.LastConditionID, 10)
	t.st.Conditions = append(t.st.Conditions, c)
	t.changed = true
	t.watchAt(pointOf(now), now, in.code)
	return c.view(), nil
}

func percentUnits(p float64) (int64, error) {
	if math.IsNaN(p) || p <= 0 || p > 100 {
		return 0, fmt.Errorf("percentage %v out of (0, 100]", p)
	}
	return int64(math.Round(p * percentScale)), nil
}

// triggers are the prices at which a stop-loss/stop-profit sells: the
// highest tick at or below cost × (1 − loss) and the lowest tick at or above
// cost × (1 + gain), computed exactly from the cost basis.
func triggers(in instrument, pos *position, loss, gain int64) (lossAt, gainAt int64) {
	const hundred = 100 * percentScale
	// cost per share in milli = Cost × 10 / Quantity.
	den := pos.Quantity * in.tick() * hundred
	lossTicks := mulDivFloor(pos.Cost, 10*(hundred-loss), den)
	gainTicks := mulDivCeil(pos.Cost, 10*(hundred+gain), den)
	return lossTicks * in.tick(), gainTicks * in.tick()
}

// watchAt checks the watching condition orders (of code, or all) against
// the price at p and fires those whose condition holds.
func (t *Terminal) watchAt(p point, at time.Time, code string) {
	for _, c := range slices.Clone(t.st.Conditions) {
		if code != "" && c.Code != code {
			continue
		}
		in, _ := classify(c.Code)
		price, _ := t.priceAt(in, p)
		switch c.Kind {
		case automation.ConditionBuy:
			if price <= c.Target {
				t.fire(c, at, orderSpec{in: in, side: automation.Buy, kind: automation.Limit, price: price, quantity: c.Quantity, conditionID: c.ID})
			}
		case automation.StopLossProfit:
			// Armed only when the position can be sold: shares bought
			// today (T+1) make a stop wait rather than fail.
			sellable := t.sellable(c.Code, dayOf(at))
			qty := c.Quantity
			if qty == 0 {
				qty = sellable
			}
			if qty == 0 || qty > sellable {
				continue
			}
			if price <= c.LossTrigger || price >= c.GainTrigger {
				t.fire(c, at, orderSpec{in: in, side: automation.Sell, kind: automation.Limit, price: price, quantity: qty, conditionID: c.ID})
			}
		}
	}
}

// fire turns a condition order into a limit order at the current price. If
// the account cannot pay for it, the order is recorded as a 废单 with the
// reason, and the condition order is spent either way.
func (t *Terminal) fire(c *condition, at time.Time, s orderSpec) {
	o, err := t.placeOrder(at, s)
	if err != nil {
		o = t.reject(at, s, s.price, err.Error())
	}
	c.Status, c.ContractNo, c.ClosedAt = automation.ConditionTriggered, o.ContractNo, at
	t.note(at, EventConditionTriggered, TriggerEvent{Condition: c.view(), Order: o.view()})
	t.retireCondition(c)
}

func (t *Terminal) closeCondition(c *condition, status string, at time.Time) {
	c.Status, c.ClosedAt = status, at
	t.retireCondition(c)
}

func (t *Terminal) cancelConditions(now time.Time, req automation.ConditionCancel) []automation.ConditionOrder {
	out := []automation.ConditionOrder{}
	for _, c := range slices.Clone(t.st.Conditions) {
		if req.Code != "" && c.Code != req.Code || req.Side != "" && c.side() != req.Side {
			continue
		}
		t.closeCondition(c, automation.ConditionDeleted, now)
		out = append(out, c.view())
	}
	return out
}

func (t *Terminal) conditionsView() []automation.ConditionOrder {
	out := make([]automation.ConditionOrder, 0, len(t.st.Conditions))
	for _, c := range t.st.Conditions {
		out = append(out, c.view())
	}
	return out
}
