package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// errNotSent is wrapped by a send that provably wrote nothing: the
// connection was already gone.
var errNotSent = errors.New("not sent")

// errDropped is wrapped when a connection ends with requests in flight.
var errDropped = errors.New("the connection to Binance dropped")

// conn is one WebSocket API connection: requests go out with ids of its
// own, and its reader hands each answer to the request waiting for it, so
// that many requests are in flight at once.
type conn struct {
	ws   *websocket.Conn
	seq  int // the connection's number, for logs
	born time.Time
	log  *slog.Logger

	ids     atomic.Uint64
	pings   atomic.Int64
	mu      sync.Mutex
	pending map[string]chan answer
	err     error // why the connection ended, once done is closed
	// retiring: the connection was replaced at max_connection_age; it
	// takes no new requests and closes once those in flight are answered.
	retiring bool
	done     chan struct{} // closed when the reader has stopped

	// observe sees every answer first (the rate limits); revoked is told
	// of a -2015 the server sent with "id": null.
	observe func(answer)
	revoked func(answer)
}

// call is one request in flight.
type call struct {
	id     string
	method string
	answer chan answer
}

// dial opens a connection. Its reader runs until ctx ends or the socket
// drops; the caller waits for it through done.
func dial(ctx context.Context, url string, seq int, log *slog.Logger, timeout time.Duration) (*conn, error) {
	c := &conn{seq: seq, log: log, pending: map[string]chan answer{}, done: make(chan struct{})}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{
		// coder/websocket answers every ping with a pong of the same
		// payload while the reader runs (Binance drops a connection that
		// does not pong within 10 minutes); this only counts them.
		OnPingReceived: func(context.Context, []byte) bool {
			c.pings.Add(1)
			return true
		},
	})
	if err != nil {
		return nil, fmt.Errorf("dial the WebSocket API: %w", err)
	}
	ws.SetReadLimit(16 << 20)
	c.ws = ws
	c.born = time.Now()
	return c, nil
}

// read is the connection's reader: it ends when the socket does.
func (c *conn) read(ctx context.Context) {
	var err error
	defer func() { c.finish(err) }()
	for {
		var b []byte
		_, b, err = c.ws.Read(ctx)
		if err != nil {
			return
		}
		a, derr := decodeAnswer(b)
		if derr != nil {
			c.log.Warn("binance sent a frame the driver cannot read", "conn", c.seq, "err", derr)
			continue
		}
		if c.observe != nil {
			c.observe(a)
		}
		if a.ID == nil {
			if a.Error != nil && a.Error.Code == -2015 && c.revoked != nil {
				c.revoked(a)
			} else {
				c.log.Warn("binance answered without an id", "conn", c.seq, "status", a.Status)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[*a.ID]
		delete(c.pending, *a.ID)
		c.mu.Unlock()
		if ch == nil {
			c.log.Debug("binance answered a request no one waits for", "conn", c.seq, "id", *a.ID, "status", a.Status)
			continue
		}
		ch <- a
	}
}

// finish records why the connection ended and wakes every request in
// flight (they see done closed).
func (c *conn) finish(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("%w: %v", errDropped, err)
	}
	n := len(c.pending)
	c.pending = nil
	c.mu.Unlock()
	c.ws.CloseNow()
	if n > 0 {
		c.log.Warn("binance connection ended with requests in flight", "conn", c.seq, "in_flight", n)
	}
	close(c.done)
}

// fail ends the connection with err as its reason.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.ws.CloseNow()
}

// reason is why the connection ended (nil while it runs).
func (c *conn) reason() error {
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err
	default:
		return nil
	}
}

// usable reports whether a request sent now would be written: the
// connection neither ended nor retiring. The same lock as send's, so a
// request never lands on a connection between its last answer and its
// close.
func (c *conn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending != nil && !c.retiring
}

// retire stops new requests on c; those in flight still get their
// answers.
func (c *conn) retire() {
	c.mu.Lock()
	c.retiring = true
	c.mu.Unlock()
}

// inFlight is the number of requests waiting for an answer.
func (c *conn) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// send writes one request. An error wrapping errNotSent means nothing left;
// any other error means the request may have reached Binance.
func (c *conn) send(ctx context.Context, method string, p params) (*call, error) {
	cl := &call{id: strconv.Itoa(c.seq) + "-" + strconv.FormatUint(c.ids.Add(1), 10), method: method, answer: make(chan answer, 1)}
	b, err := json.Marshal(struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		Params params `json:"params,omitempty"`
	}{cl.id, method, p})
	if err != nil {
		return nil, fmt.Errorf("%w: encode %s: %v", errNotSent, method, err)
	}
	c.mu.Lock()
	if c.pending == nil || c.retiring {
		err := c.err
		if c.retiring && err == nil {
			err = errors.New("the connection was replaced")
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", errNotSent, err)
	}
	c.pending[cl.id] = cl.answer
	c.mu.Unlock()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.forget(cl)
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	return cl, nil
}

// forget stops waiting for a call's answer.
func (c *conn) forget(cl *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != nil {
		delete(c.pending, cl.id)
	}
}

// wait waits for a call's answer until timeout, ctx or the connection's
// end.
func (c *conn) wait(ctx context.Context, cl *call, timeout time.Duration) (answer, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-cl.answer:
		return a, nil
	case <-c.done:
		select {
		case a := <-cl.answer: // answered just before the end
			return a, nil
		default:
		}
		return answer{}, c.reason()
	case <-timer.C:
		c.forget(cl)
		return answer{}, fmt.Errorf("no answer to %s within %s", cl.method, timeout)
	case <-ctx.Done():
		c.forget(cl)
		return answer{}, fmt.Errorf("no answer to %s before the operation's deadline: %w", cl.method, ctx.Err())
	}
}
