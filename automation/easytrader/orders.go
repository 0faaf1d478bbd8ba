package easytrader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/thsgrid"
)

// chinaTime is the zone of the client's 委托时间.
var chinaTime = time.FixedZone("CST", 8*60*60)

// PlaceOrder sends POST /buy or /sell once, never again. An answer lost
// after the send (a timeout, a reset, a 5xx) is settled from
// /today_entrusts, as is a success that names no entrust_no.
func (t *Terminal) PlaceOrder(ctx context.Context, req automation.OrderRequest) (automation.Order, error) {
	if req.Kind == automation.Market {
		return automation.Order{}, automation.ErrUnsupported
	}
	path := "/buy"
	if req.Side == automation.Sell {
		path = "/sell"
	}
	if err := t.take(ctx); err != nil {
		return automation.Order{}, err
	}
	defer t.give()
	body := map[string]any{"security": req.Code, "price": req.Price, "amount": req.Quantity}
	sentAt := t.now()
	a, err := t.agent.call(ctx, http.MethodPost, path, body)
	var se *sendError
	switch {
	case errors.As(err, &se) && !se.sent:
		t.setState(automation.StateDisconnected, "agent unreachable")
		return automation.Order{}, automation.NotConnected("easytrader %s: nothing was sent: %v", path, se.err)
	case err != nil:
		t.log.Warn("easytrader order answer lost; settling it from today's entrusts, never resending",
			"path", path, "code", req.Code, "price", req.Price, "quantity", req.Quantity, "error", err)
		// A timed-out agent may still be typing the order in: it is given
		// as long again to show it before "not placed" is concluded.
		patience := time.Duration(0)
		if errors.Is(err, errRequestTimeout) {
			patience = t.agent.timeout
		}
		return t.settle(ctx, req, sentAt, patience, "the answer was lost ("+err.Error()+")")
	case a.status >= 500:
		t.log.Warn("easytrader order answered 5xx; settling it from today's entrusts, never resending",
			"path", path, "status", a.status)
		return t.settle(ctx, req, sentAt, 0, fmt.Sprintf("the agent answered HTTP %d", a.status))
	case a.status == http.StatusBadRequest:
		ae := parseAgentError(a.body)
		if ae.loggedOut() {
			// KeyError 'user' comes before the client is touched.
			t.loggedOut()
			return automation.Order{}, automation.NotConnected("easytrader %s: the agent is not logged in (restarted?); nothing was placed", path)
		}
		return automation.Order{}, automation.VenueError(automation.CodeRejected, ae.class, ae.message)
	case a.status/100 != 2:
		return t.settle(ctx, req, sentAt, 0, "the agent answered "+a.String())
	}
	no, message := entrustNo(a.body)
	if no == "" {
		t.log.Info("easytrader order answered without entrust_no; finding it in today's entrusts", "message", message)
		return t.settle(ctx, req, sentAt, 0, fmt.Sprintf("the agent answered %q without an entrust_no", message))
	}
	t.claimed[thsgrid.TrimContract(no)] = true
	now := t.now().In(chinaTime)
	return automation.Order{
		ContractNo: no, Code: req.Code, Side: req.Side, Kind: "限价",
		Price: req.Price, Quantity: req.Quantity, Status: automation.OrderPending,
		Date: now.Format("20060102"), Time: now.Format("15:04:05"),
		ClientOrderID: req.ClientOrderID,
	}, nil
}

// entrustNo reads {"entrust_no": …} (a string or a number) or
// {"message": …}.
func entrustNo(body []byte) (no, message string) {
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", strings.TrimSpace(string(body))
	}
	for _, k := range []string{"entrust_no", "合同编号", "委托编号"} {
		switch n := v[k].(type) {
		case string:
			if n != "" {
				return n, ""
			}
		case json.Number:
			return n.String(), ""
		}
	}
	m, _ := v["message"].(string)
	if m == "" {
		m, _ = v["msg"].(string)
	}
	return "", m
}

// settle finds the order req made in today's entrusts: one match is the
// order; none after a few reads (and patience since the loss) is
// rejected; more than one is outcome_unknown naming them. Reads that fail
// until ctx ends leave it outcome_unknown.
func (t *Terminal) settle(ctx context.Context, req automation.OrderRequest, sentAt time.Time, patience time.Duration, why string) (automation.Order, error) {
	var lastErr error
	lostAt := time.Now()
	for try := 0; try < t.settleTries || time.Since(lostAt) < patience; try++ {
		if try > 0 || patience > 0 {
			select {
			case <-ctx.Done():
				return automation.Order{}, t.unknown(req, why, context.Cause(ctx))
			case <-time.After(t.settleWait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		orders, err := t.orders(ctx, "/today_entrusts")
		if err != nil {
			lastErr = err
			continue
		}
		found := thsgrid.Candidates(orders, req, sentAt, t.claimed)
		switch len(found) {
		case 0:
			lastErr = nil
			continue
		case 1:
			o := found[0]
			t.claimed[thsgrid.TrimContract(o.ContractNo)] = true
			o.ClientOrderID = req.ClientOrderID
			t.log.Info("easytrader order settled from today's entrusts", "contract_no", o.ContractNo, "why", why)
			return o, nil
		default:
			var names []string
			for _, o := range found {
				names = append(names, o.ContractNo+"@"+o.Time)
			}
			return automation.Order{}, automation.OutcomeUnknown(nil,
				"easytrader order %s %s %v×%d: %s, and today's entrusts hold %d orders that could be it (合同编号@委托时间: %s); check the account",
				req.Side, req.Code, req.Price, req.Quantity, why, len(found), strings.Join(names, ", "))
		}
	}
	if lastErr != nil || ctx.Err() != nil {
		cause := lastErr
		if cause == nil {
			cause = context.Cause(ctx)
		}
		return automation.Order{}, t.unknown(req, why, cause)
	}
	return automation.Order{}, automation.NoSuchOrder(fmt.Sprintf(
		"easytrader order %s %s %v×%d: %s, and today's entrusts hold no such order placed since: it was not placed",
		req.Side, req.Code, req.Price, req.Quantity, why))
}

func (t *Terminal) unknown(req automation.OrderRequest, why string, cause error) error {
	return automation.OutcomeUnknown(cause,
		"easytrader order %s %s %v×%d: %s, and today's entrusts could not be read to settle it; check the account, nothing was resent",
		req.Side, req.Code, req.Price, req.Quantity, why)
}

// CancelOrders cancels the open orders that match, one POST
// /cancel_entrust each with the grid's own number, then confirms by
// reading /today_entrusts: the agent answers 201 even when nothing was
// cancelled.
func (t *Terminal) CancelOrders(ctx context.Context, req automation.CancelRequest) ([]automation.Order, error) {
	if err := t.take(ctx); err != nil {
		return nil, err
	}
	defer t.give()
	open, err := t.orders(ctx, "/cancel_entrusts")
	if err != nil {
		return nil, err
	}
	var targets []automation.Order
	for _, o := range open {
		if (req.ContractNo == "" || thsgrid.SameContract(o.ContractNo, req.ContractNo)) &&
			(req.Code == "" || o.Code == req.Code) && (req.Side == "" || o.Side == req.Side) &&
			o.ContractNo != "" {
			targets = append(targets, o)
		}
	}
	if len(targets) == 0 {
		return []automation.Order{}, nil
	}
	var sent []string
	var stop error
	for _, o := range targets {
		a, err := t.agent.call(ctx, http.MethodPost, "/cancel_entrust", map[string]any{"entrust_no": o.ContractNo})
		var se *sendError
		switch {
		case errors.As(err, &se) && !se.sent:
			stop = automation.NotConnected("easytrader /cancel_entrust %s: nothing was sent: %v", o.ContractNo, se.err)
		case err != nil:
			// Sent, maybe carried out: no further cancel is sent while
			// the agent may still be busy; the read below tells.
			sent = append(sent, o.ContractNo)
			stop = automation.OutcomeUnknown(err, "easytrader /cancel_entrust %s: the answer was lost", o.ContractNo)
		case a.status == http.StatusBadRequest:
			ae := parseAgentError(a.body)
			t.log.Warn("easytrader cancel refused", "contract_no", o.ContractNo, "error", ae)
			if ae.loggedOut() {
				t.loggedOut()
				stop = automation.NotConnected("easytrader /cancel_entrust: the agent is not logged in (restarted?)")
			}
		default:
			sent = append(sent, o.ContractNo)
			_, msg := entrustNo(a.body)
			t.log.Info("easytrader cancel sent", "contract_no", o.ContractNo, "status", a.status, "message", msg)
		}
		if stop != nil {
			break
		}
	}
	if len(sent) == 0 {
		if stop != nil {
			return nil, stop
		}
		return []automation.Order{}, nil
	}
	rows, err := t.table(ctx, "/today_entrusts")
	if err != nil {
		return nil, automation.OutcomeUnknown(err, "easytrader: cancels sent for %s but today's entrusts could not be read to confirm them",
			strings.Join(sent, ", "))
	}
	var done []automation.Order
	for _, r := range rows {
		o, err := thsgrid.Order(r)
		if err != nil {
			return nil, badTable("/today_entrusts", err)
		}
		if !containsContract(sent, o.ContractNo) {
			continue
		}
		if o.Status == automation.OrderCancelled || o.Status == automation.OrderPartCancelled || thsgrid.CancelPending(thsgrid.RawStatus(r)) {
			done = append(done, o)
		}
	}
	if done == nil {
		done = []automation.Order{}
	}
	if stop != nil && len(done) == 0 {
		return nil, stop
	}
	return done, nil
}

func containsContract(list []string, no string) bool {
	for _, s := range list {
		if thsgrid.SameContract(s, no) {
			return true
		}
	}
	return false
}
