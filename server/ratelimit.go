package server

import (
	"container/list"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// maxRateClients bounds the clients the rate limiter remembers; past it the
// least recently seen is forgotten.
const maxRateClients = 10000

// rateLimiter is a token bucket per client address: rate tokens a second,
// at most burst at once.
type rateLimiter struct {
	rate  float64
	burst float64
	max   int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *bucket
	lru     *list.List               // front: most recently seen
}

type bucket struct {
	client string
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst, maxClients int, now func() time.Time) *rateLimiter {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rate)))
	}
	return &rateLimiter{
		rate:    rate,
		burst:   float64(burst),
		max:     maxClients,
		now:     now,
		clients: make(map[string]*list.Element),
		lru:     list.New(),
	}
}

// allow takes a token from client's bucket. When there is none it reports
// how long until there is.
func (l *rateLimiter) allow(client string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	el, seen := l.clients[client]
	if !seen {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			delete(l.clients, oldest.Value.(*bucket).client)
			l.lru.Remove(oldest)
		}
		el = l.lru.PushFront(&bucket{client: client, tokens: l.burst, last: now})
		l.clients[client] = el
	} else {
		l.lru.MoveToFront(el)
	}
	b := el.Value.(*bucket)
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// clientAddr is who a request comes from: the connection's address, never
// a header a client can write (X-Forwarded-For). IPv6 clients are grouped
// by /64, the block one host usually has.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// rateLimit answers 429 to a client over its rate.
func (s *Server) rateLimit(c *gin.Context) {
	if s.limiter == nil {
		return
	}
	if ok, wait := s.limiter.allow(clientAddr(c.Request)); !ok {
		s.failRetry(c, codeRateLimited,
			fmt.Sprintf("rate limit of %g requests per second exceeded: retry after the Retry-After seconds", s.limiter.rate), wait)
	}
}
