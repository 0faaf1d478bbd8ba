package binancetest

import (
	"fmt"
	"strings"
	"time"
)

// The peer's rate limits: Binance's fixed windows, aligned to its clock,
// shared by every connection (one IP), with the 429-then-418 rule.

// limitLocked counts a request against the rate limits: over a limit it
// earns a 429 and sets a hold; any request during the hold, or a ban,
// earns a 418. s.mu held.
func (s *Server) limitLocked(method string) *apiError {
	now := s.nowLocked()
	data := func(until time.Time) map[string]int64 {
		return map[string]int64{"serverTime": now.UnixMilli(), "retryAfter": until.UnixMilli()}
	}
	if now.Before(s.bannedUntil) || now.Before(s.holdUntil) {
		if s.bannedUntil.Before(now) {
			s.bannedUntil = now.Add(s.cfg.BanFor)
		}
		s.count418++
		return &apiError{status: 418, code: -1003, msg: fmt.Sprintf("Way too much request weight used; IP banned until %d. Please use WebSocket Streams for live updates to avoid bans.", s.bannedUntil.UnixMilli()), data: data(s.bannedUntil)}
	}
	c := costOf(strings.TrimPrefix(method, "v1/"))
	for i, l := range s.cfg.RateLimits {
		w := s.window(i, now)
		if n := spent(l.Type, c); n > 0 && w.count+n > l.Limit {
			s.holdUntil = w.start.Add(l.length())
			s.count429++
			return &apiError{status: 429, code: -1003, msg: fmt.Sprintf("Too many requests; current limit is %d %s per %d %s. Please use WebSocket Streams for live updates to avoid bans.", l.Limit, strings.ToLower(l.Type), l.IntervalNum, l.Interval), data: data(s.holdUntil)}
		}
	}
	for i, l := range s.cfg.RateLimits {
		s.window(i, now).count += spent(l.Type, c)
	}
	return nil
}

func (s *Server) window(i int, now time.Time) *window {
	length := s.cfg.RateLimits[i].length()
	start := time.UnixMilli(now.UnixMilli() / length.Milliseconds() * length.Milliseconds())
	w := s.windows[i]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		s.windows[i] = w
	}
	return w
}

// cost is Binance's published weight of a method and whether it counts
// as an order.
type cost struct{ weight, orders int }

func costOf(method string) cost {
	switch method {
	case "order.place":
		return cost{0, 1}
	case "openOrders.all":
		return cost{40, 0}
	case "session.logon", "session.status", "session.logout":
		return cost{2, 0}
	case "account.balance", "v2/account.balance", "account.position", "v2/account.position", "account.status", "v2/account.status":
		return cost{5, 0}
	}
	return cost{1, 0}
}

func spent(typ string, c cost) int {
	switch typ {
	case "REQUEST_WEIGHT":
		return c.weight
	case "ORDERS":
		return c.orders
	}
	return 0
}

// rateLimitsLocked is the rateLimits array of an answer.
func (s *Server) rateLimitsLocked() []map[string]any {
	now := s.nowLocked()
	var out []map[string]any
	for i, l := range s.cfg.RateLimits {
		out = append(out, map[string]any{
			"rateLimitType": l.Type, "interval": l.Interval, "intervalNum": l.IntervalNum,
			"limit": l.Limit, "count": s.window(i, now).count,
		})
	}
	return out
}
