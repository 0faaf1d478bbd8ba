package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/shopspring/decimal"

	"github.com/brokerd/brokerd/automation"
)

// conn is one gateway url's socket, shared by its sessions. Its run
// goroutine dials, serves the socket until it drops, and dials again with
// backoff; stop ends it and everything it started.
type conn struct {
	cfg       socketConfig
	client    *http.Client
	log       *slog.Logger
	firstName string
	cidPrefix string
	seq       atomic.Uint64
	secrets   atomic.Pointer[[]string] // every session's keys, to redact

	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // dial now, skipping the backoff (Reconnect)
	poke   chan struct{} // a session needs a login

	mu       sync.Mutex
	ws       *websocket.Conn // nil while not connected
	gen      uint64          // counts sockets; a request belongs to one
	pending  map[string]*pendingCall
	sessions map[*session]struct{}
	byToken  map[string]*session
	orphans  map[string]frame // state 1 notices of tokens not known yet
	changed  chan struct{}    // closed and replaced at every change of any session
	dialErr  string
}

// The ways a request can end without an answer.
var (
	// errUnanswered: the request was sent and its deadline passed.
	errUnanswered = errors.New("the gateway did not answer in time")
	// errDropped: the request was sent and the socket dropped before its
	// answer came.
	errDropped = errors.New("the connection to the gateway dropped before the answer")
)

// notSentError: provably nothing reached the gateway.
type notSentError struct{ why string }

func (e *notSentError) Error() string { return "not sent: " + e.why }

// writeError: the write failed; the request may or may not have gone out.
type writeError struct{ err error }

func (e *writeError) Error() string {
	return "the request may not have reached the gateway: " + e.err.Error()
}

func (e *writeError) Unwrap() error { return e.err }

// pendingCall is a request waiting for the answer with its cid.
type pendingCall struct {
	op   string
	cid  string
	gen  uint64
	done chan answer // buffered: the reader never waits
	// login is the session a login request is for: the reader takes its
	// answer's token at once, in the order of the frames (stale.go).
	login *session
}

type answer struct {
	f   frame
	err error // errDropped, or nil with f the answer (op "error" for an attributed error)
}

func newConn(cfg socketConfig, client *http.Client, log *slog.Logger, firstName string) *conn {
	var b [4]byte
	rand.Read(b[:])
	c := &conn{
		cfg: cfg, client: client, log: log.With("gateway", cfg.url), firstName: firstName,
		cidPrefix: "b" + hex.EncodeToString(b[:]) + "-",
		done:      make(chan struct{}), wake: make(chan struct{}, 1), poke: make(chan struct{}, 1),
		pending: map[string]*pendingCall{}, sessions: map[*session]struct{}{}, byToken: map[string]*session{},
		orphans: map[string]frame{}, changed: make(chan struct{}),
	}
	empty := []string(nil)
	c.secrets.Store(&empty)
	return c
}

func (c *conn) start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(ctx)
}

// stop closes the socket and waits for every goroutine of the conn.
func (c *conn) stop() {
	c.cancel()
	<-c.done
}

// add joins s to the socket; it is logged in as soon as the socket is up.
func (c *conn) add(s *session) {
	c.mu.Lock()
	c.sessions[s] = struct{}{}
	c.storeSecretsLocked()
	s.armLocked(c)
	c.noteLocked(s)
	c.mu.Unlock()
	c.pokeLogin()
}

// remove takes s off the socket and reports whether it was the last.
func (c *conn) remove(s *session) (last bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sessions, s)
	if s.token != "" && c.byToken[s.token] == s {
		delete(c.byToken, s.token)
	}
	s.closed = true
	s.stopLocked()
	c.storeSecretsLocked()
	c.noteLocked(s)
	return len(c.sessions) == 0
}

func (c *conn) storeSecretsLocked() {
	var keys []string
	for s := range c.sessions {
		for _, k := range []string{s.access, s.secret} {
			if len(k) >= 4 {
				keys = append(keys, k)
			}
		}
	}
	c.secrets.Store(&keys)
}

// redact hides every session's keys in text from the gateway (an error
// message that echoes a request, say) before it reaches a log or an error.
func (c *conn) redact(s string) string {
	for _, k := range *c.secrets.Load() {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

func (c *conn) pokeLogin() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (c *conn) wakeDial() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// noteLocked logs a session's change of state and wakes every waiter.
func (c *conn) noteLocked(s *session) {
	if st := s.stateLocked(); st != s.last {
		s.log.Info("gateway terminal state", "from", string(s.last), "to", string(st), "reason", s.reasonLocked(c))
		s.last = st
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// run dials and serves the socket until stop.
func (c *conn) run(ctx context.Context) {
	defer close(c.done)
	attempt := 0
	for {
		ws, err := c.dial(ctx)
		if err == nil {
			if healthy := c.serve(ctx, ws); healthy {
				attempt = 0
			}
		} else if ctx.Err() == nil {
			c.log.Warn("gateway dial failed", "err", err, "attempt", attempt+1)
			c.mu.Lock()
			c.dialErr = err.Error()
			for s := range c.sessions {
				c.noteLocked(s)
			}
			c.mu.Unlock()
		}
		if ctx.Err() != nil {
			return
		}
		wait := c.backoff(attempt)
		attempt++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-c.wake:
			t.Stop()
		}
	}
}

// backoff is the wait before dial attempt+1: doubling from reconnect_min
// up to reconnect_max, each drawn from its upper half so that many
// brokerd processes do not redial in step.
func (c *conn) backoff(attempt int) time.Duration {
	d := c.cfg.reconnectMin
	for i := 0; i < attempt && d < c.cfg.reconnect; i++ {
		d *= 2
	}
	d = min(d, c.cfg.reconnect)
	return d/2 + time.Duration(mathrand.Int64N(int64(d/2)+1))
}

func (c *conn) dial(ctx context.Context) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.pongTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, c.cfg.url, &websocket.DialOptions{HTTPClient: c.client})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(32 << 20)
	return ws, nil
}

// socket is what the goroutines of one served socket share.
type socket struct {
	ws       *websocket.Conn
	gen      uint64
	pongs    chan int64
	sawReady atomic.Bool
	spawn    func(func(ctx context.Context))
}

// serve runs one socket: the reader here, the pinger and the logins
// beside it. It returns when the socket drops (or stop), after every
// request in flight on it has been told and every goroutine it started has
// ended; healthy says whether it got as far as a READY.
func (c *conn) serve(ctx context.Context, ws *websocket.Conn) (healthy bool) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	sock := &socket{ws: ws, pongs: make(chan int64, 16)}
	sock.spawn = func(f func(context.Context)) { wg.Go(func() { f(sctx) }) }

	c.mu.Lock()
	c.ws = ws
	c.gen++
	sock.gen = c.gen
	c.dialErr = ""
	for s := range c.sessions {
		c.noteLocked(s)
	}
	c.mu.Unlock()
	c.log.Info("gateway connected", "socket", sock.gen)

	wg.Go(func() { c.pinger(sctx, sock, cancel) })
	wg.Go(func() { c.loginLoop(sctx, sock) })
	c.pokeLogin()

	var why error
	for {
		typ, b, err := ws.Read(sctx)
		if err != nil {
			why = err
			break
		}
		if typ == websocket.MessageText {
			c.dispatch(sock, b)
		}
	}
	cancel()
	ws.CloseNow()
	if ctx.Err() == nil {
		c.log.Warn("gateway connection dropped", "socket", sock.gen, "err", c.redact(why.Error()))
	}
	c.dropped()
	wg.Wait()
	return sock.sawReady.Load()
}

// dropped fails every request in flight and forgets every login: a new
// socket logs them in again.
func (c *conn) dropped() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws = nil
	for cid, pc := range c.pending {
		pc.done <- answer{err: errDropped}
		delete(c.pending, cid)
	}
	clear(c.byToken)
	clear(c.orphans)
	for s := range c.sessions {
		s.token, s.code, s.msg, s.loggingIn, s.refused = "", 0, "", false, ""
		s.sawConnect, s.loginReady, s.discounted = false, false, ""
		c.noteLocked(s)
	}
}

// pinger sends the JSON ping every ping_every and drops the socket when a
// ping goes pong_timeout without its pong.
func (c *conn) pinger(ctx context.Context, sock *socket, drop context.CancelFunc) {
	t := time.NewTicker(c.cfg.pingEvery)
	defer t.Stop()
	outstanding := map[int64]time.Time{}
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case ts := <-sock.pongs:
			if _, ok := outstanding[ts]; !ok {
				c.log.Debug("gateway pong for no ping of ours", "ts", ts)
				continue
			}
			for k := range outstanding {
				if k <= ts {
					delete(outstanding, k)
				}
			}
		case now := <-t.C:
			for _, at := range outstanding {
				if now.Sub(at) >= c.cfg.pongTimeout {
					c.log.Warn("gateway did not answer a ping: reconnecting", "socket", sock.gen, "pong_timeout", c.cfg.pongTimeout)
					drop()
					return
				}
			}
			ts := time.Now().UnixMilli()
			if ts <= last {
				ts = last + 1
			}
			last = ts
			b, _ := json.Marshal(ping{Op: "ping", TS: ts})
			if err := c.write(sock.ws, b); err != nil {
				drop()
				return
			}
			outstanding[ts] = now
		}
	}
}

func (c *conn) write(ws *websocket.Conn, b []byte) error {
	// Not the caller's ctx: a cancelled write closes the socket, which is
	// everybody's.
	wctx, cancel := context.WithTimeout(context.Background(), c.cfg.pongTimeout)
	defer cancel()
	return ws.Write(wctx, websocket.MessageText, b)
}

// loginLoop logs in every session that has not tried on this socket yet:
// once per socket, so that a refused login is reported, not looped
// (Reconnect asks again).
func (c *conn) loginLoop(ctx context.Context, sock *socket) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.poke:
		}
		c.mu.Lock()
		var todo []*session
		for s := range c.sessions {
			if !s.closed && !s.loggingIn && s.loginSock != sock.gen && c.gen == sock.gen && c.ws != nil {
				s.loginSock, s.loggingIn = sock.gen, true
				todo = append(todo, s)
			}
		}
		c.mu.Unlock()
		for _, s := range todo {
			sock.spawn(func(ctx context.Context) { c.login(ctx, sock, s) })
		}
	}
}

func (c *conn) login(ctx context.Context, sock *socket, s *session) {
	c.mu.Lock()
	req := request{Op: "login", Platform: s.platform, Symbols: s.symbols, AccessKey: s.access, SecretKey: s.secret}
	s.armLocked(c)
	c.mu.Unlock()
	s.log.Info("gateway login", "platform", s.platform, "symbols", s.symbols, "socket", sock.gen)
	f, err := c.callAs(ctx, req, s, s.requestTimeout)

	c.mu.Lock()
	defer c.mu.Unlock()
	s.loggingIn = false
	if s.closed || c.gen != sock.gen {
		return // the socket dropped: the next one logs in again
	}
	s.loginSock = sock.gen // a Reconnect during the login takes its answer
	switch {
	case s.token != "":
		// The reader took the answer's token (acceptLoginLocked), even if
		// this goroutine's deadline passed just as it came.
	case errors.Is(err, errDropped), ctx.Err() != nil:
		return // the next socket logs in again
	case err != nil:
		s.refused = "login failed: " + c.redact(err.Error())
	case f.Op == "error":
		s.refused = "login failed: gateway error: " + c.redact(string(f.ErrorMessage))
	case !f.ok():
		s.refused = "login refused by the gateway: " + c.redact(string(f.ErrorMessage))
	case f.Token == "":
		s.refused = "login answered without a token"
	default:
		// Not reached: an answer with a token is taken by the reader.
		c.acceptLoginLocked(sock, s, f)
	}
	if s.refused != "" {
		s.stopLocked()
		s.log.Warn("gateway login not accepted", "platform", s.platform, "reason", s.refused)
	}
	c.noteLocked(s)
}

// send writes req with a fresh cid and registers it for its answer.
func (c *conn) send(req request) (*pendingCall, error) { return c.sendAs(req, nil) }

// sendAs is send for a login of s (nil for any other request).
func (c *conn) sendAs(req request, login *session) (*pendingCall, error) {
	c.mu.Lock()
	if c.ws == nil {
		why := "no connection to the gateway"
		if c.dialErr != "" {
			why += ": " + c.dialErr
		}
		c.mu.Unlock()
		return nil, &notSentError{why: why}
	}
	ws := c.ws
	req.Cid = c.cidPrefix + strconv.FormatUint(c.seq.Add(1), 10)
	pc := &pendingCall{op: req.Op, cid: req.Cid, gen: c.gen, done: make(chan answer, 1), login: login}
	c.pending[pc.cid] = pc
	c.mu.Unlock()

	b, err := json.Marshal(req)
	if err != nil {
		c.forget(pc)
		return nil, &notSentError{why: err.Error()}
	}
	if err := c.write(ws, b); err != nil {
		c.forget(pc)
		return nil, &writeError{err: err}
	}
	return pc, nil
}

// wait waits for pc's answer, its deadline, or ctx; pc stays registered
// (forget it, unless a late answer is still of use).
func (c *conn) wait(ctx context.Context, pc *pendingCall, timeout time.Duration) (frame, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-pc.done:
		return a.f, a.err
	case <-t.C:
		return frame{}, errUnanswered
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}

// call sends req and waits for its answer.
func (c *conn) call(ctx context.Context, req request, timeout time.Duration) (frame, error) {
	return c.callAs(ctx, req, nil, timeout)
}

// callAs is call for a login of s (nil for any other request).
func (c *conn) callAs(ctx context.Context, req request, login *session, timeout time.Duration) (frame, error) {
	pc, err := c.sendAs(req, login)
	if err != nil {
		return frame{}, err
	}
	defer c.forget(pc)
	return c.wait(ctx, pc, timeout)
}

func (c *conn) forget(pc *pendingCall) {
	c.mu.Lock()
	if c.pending[pc.cid] == pc {
		delete(c.pending, pc.cid)
	}
	c.mu.Unlock()
}

// current is the generation of the socket up now, 0 when none is.
func (c *conn) current() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == nil {
		return 0
	}
	return c.gen
}

// dispatch routes one frame from the gateway.
func (c *conn) dispatch(sock *socket, b []byte) {
	f, err := decodeFrame(b)
	if err != nil {
		c.log.Warn("gateway sent an undecodable frame", "err", err, "frame", c.redact(clip(string(b), 300)))
		return
	}
	switch {
	case f.Op == "pong":
		// Our ts is an integer; a gateway that echoes it as a float
		// (1.530604762311e+12) still matches.
		if ts, err := decimal.NewFromString(string(f.TS)); err == nil && ts.IsInteger() {
			select {
			case sock.pongs <- ts.IntPart():
			default:
			}
		}
	case f.Op == "state":
		c.onState(sock, f)
	case f.Op == "notify":
		c.onNotify(sock, f)
	case f.Cid != "":
		c.deliver(sock, f)
	case f.Op == "error":
		c.onStrayError(f)
	default:
		c.log.Debug("gateway frame without cid ignored", "op", f.Op)
	}
}

func (c *conn) deliver(sock *socket, f frame) {
	c.mu.Lock()
	pc := c.pending[string(f.Cid)]
	delete(c.pending, string(f.Cid))
	if pc != nil && pc.login != nil && pc.gen == sock.gen && f.Op == "login" && f.ok() && f.Token != "" {
		c.acceptLoginLocked(sock, pc.login, f)
	}
	c.mu.Unlock()
	if pc == nil {
		c.log.Debug("gateway answer for no request in flight (late, or not ours)", "op", f.Op, "cid", string(f.Cid))
		return
	}
	pc.done <- answer{f: f}
}

// onStrayError handles {"op":"error"} without a cid (a handler's failure
// at the gateway): logged, and given to the request in flight when there
// is exactly one, since it can only be that one's.
func (c *conn) onStrayError(f frame) {
	msg := c.redact(string(f.ErrorMessage))
	c.mu.Lock()
	var only *pendingCall
	n := len(c.pending)
	if n == 1 {
		for cid, pc := range c.pending {
			only = pc
			delete(c.pending, cid)
		}
	}
	c.mu.Unlock()
	if only == nil {
		c.log.Warn("gateway error without cid", "error_message", msg, "in_flight", n)
		return
	}
	c.log.Warn("gateway error without cid, attributed to the one request in flight", "error_message", msg, "op", only.op, "cid", only.cid)
	only.done <- answer{f: f}
}

func (c *conn) onState(sock *socket, f frame) {
	c.mu.Lock()
	s := c.byToken[string(f.Token)]
	if s == nil {
		// Before the login's answer only state 1 can be the login's own
		// (an unknown platform's, which the reference server sends
		// first): keep it for the token's login. Any other state for a
		// token not known yet is an earlier session's (stale.go).
		if f.code() == stateParamMiss {
			if len(c.orphans) >= 64 {
				clear(c.orphans)
			}
			c.orphans[string(f.Token)] = f
		}
		c.mu.Unlock()
		c.log.Debug("gateway state for a token not logged in (yet)", "code", f.code())
		return
	}
	c.applyStateLocked(sock, s, f)
	c.mu.Unlock()
}

func (c *conn) onNotify(sock *socket, f frame) {
	c.mu.Lock()
	s := c.byToken[string(f.Token)]
	var stale bool
	if s != nil {
		stale = s.staleLocked()
	}
	c.mu.Unlock()
	if s == nil {
		// Before the login's answer: not this login's (its session
		// cannot have told anything yet), or a token logged out.
		c.log.Debug("gateway notice for a token not logged in", "topic", f.Topic)
		return
	}
	s.term.onNotice(sock, f.Topic, f.Data, stale)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// statusOf is a session's state and reason, and the channel closed at its
// next change.
func (c *conn) statusOf(s *session) (st automation.State, reason string, changed <-chan struct{}) {
	st, reason, _, changed = c.readiness(s)
	return st, reason, changed
}

// readiness is statusOf with the token of the login, read together so
// that a request never goes out ready but without a token.
func (c *conn) readiness(s *session) (st automation.State, reason, token string, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.stateLocked(), s.reasonLocked(c), s.token, c.changed
}

func (c *conn) tokenOf(s *session) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.token
}
