package binance

import (
	"sync"
	"time"
)

// cost is what one request spends of the rate limits: request weight and,
// for order.place, one order (Binance's published weights; the peer uses
// the same table).
type cost struct{ weight, orders int }

var costs = map[string]cost{
	"session.logon":        {weight: 2},
	"order.place":          {weight: 0, orders: 1},
	"order.cancel":         {weight: 1},
	"order.status":         {weight: 1},
	"v2/account.balance":   {weight: 5},
	"account.position":     {weight: 5},
	"userDataStream.start": {weight: 1},
	"userDataStream.ping":  {weight: 1},
	"openOrders":           {weight: 1},  // GET /fapi/v1/openOrders with a symbol
	"openOrders.all":       {weight: 40}, // and without
}

func costOf(method string) cost {
	if c, ok := costs[method]; ok {
		return c
	}
	return cost{weight: 1}
}

// limiter keeps the venue's rate limits as the answers report them, and
// counts what was sent since, so that a request that would break one is
// refused here rather than earn a 429 (and, continued, a 418 ban).
// Binance's windows are fixed and aligned to its clock (a 10 s window
// resets at every multiple of 10 s), so now is the server's clock.
type limiter struct {
	now func() time.Time

	mu      sync.Mutex
	windows map[limitKey]*limitWindow
	// until is when a 429 or 418 stops applying: nothing is sent before.
	until time.Time
}

type limitKey struct {
	typ    string // REQUEST_WEIGHT, ORDERS
	length time.Duration
}

type limitWindow struct {
	limit int
	count int
	start time.Time // the window the count is for
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, windows: map[limitKey]*limitWindow{}}
}

func (w *limitWindow) roll(k limitKey, now time.Time) {
	if start := now.Truncate(k.length); !start.Equal(w.start) {
		w.start, w.count = start, 0
	}
}

func (k limitKey) spent(c cost) int {
	switch k.typ {
	case "REQUEST_WEIGHT":
		return c.weight
	case "ORDERS":
		return c.orders
	}
	return 0
}

// reserve counts a request about to be sent, or says how long to wait when
// it would break a limit (then nothing is counted).
func (l *limiter) reserve(method string) (retryAfter time.Duration, ok bool) {
	c := costOf(method)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.until) {
		return l.until.Sub(now), false
	}
	for k, w := range l.windows {
		w.roll(k, now)
		if n := k.spent(c); n > 0 && w.count+n > w.limit {
			return w.start.Add(k.length).Sub(now), false
		}
	}
	for k, w := range l.windows {
		w.count += k.spent(c)
	}
	return 0, true
}

// observe takes the counts an answer reports. They are the server's count
// at the time it answered; requests sent since are counted on top by
// reserve, so the larger of the two is kept.
func (l *limiter) observe(limits []rateLimit) {
	if len(limits) == 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range limits {
		length, ok := r.window()
		if !ok {
			continue
		}
		k := limitKey{typ: r.Type, length: length}
		w := l.windows[k]
		if w == nil {
			w = &limitWindow{}
			l.windows[k] = w
		}
		w.roll(k, now)
		w.limit = r.Limit
		w.count = max(w.count, r.Count)
	}
}

// learn takes the limits exchangeInfo publishes (no counts), so that the
// first requests of a connection are already held to them.
func (l *limiter) learn(limits []rateLimit) {
	for i := range limits {
		limits[i].Count = 0
	}
	l.observe(limits)
}

// hold stops every request until at (after a 429 or a 418).
func (l *limiter) hold(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.After(l.until) {
		l.until = at
	}
}

// holdWindows stops every request until the end of the current windows
// that are full, or of the longest window when none says so.
func (l *limiter) holdWindows() {
	now := l.now()
	l.mu.Lock()
	until := now.Add(time.Minute)
	var longest time.Duration
	for k, w := range l.windows {
		w.roll(k, now)
		if k.length > longest {
			longest = k.length
			until = w.start.Add(k.length)
		}
	}
	l.mu.Unlock()
	l.hold(until)
}

// throttled reports whether a request would be refused now, and for how
// long: a hold, or any limit already used up.
func (l *limiter) throttled() (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.until) {
		return l.until.Sub(now), true
	}
	var wait time.Duration
	for k, w := range l.windows {
		w.roll(k, now)
		if w.count >= w.limit {
			wait = max(wait, w.start.Add(k.length).Sub(now))
		}
	}
	return wait, wait > 0
}
