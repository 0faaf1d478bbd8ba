package gatewaytest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/shopspring/decimal"
)

// The state codes of seeds/004.
const (
	StateParamMiss      = 1
	StateConnectSuccess = 2
	StateConnectFailed  = 3
	StateDisconnect     = 4
	StateReconnecting   = 5
	StateReady          = 6
	StateGeneralError   = 7
)

// Config configures a Server; the zero value is the reference server.
type Config struct {
	// IdleTimeout closes a socket that sent no frame the server handled
	// for that long (default 15s, as the reference server).
	IdleTimeout time.Duration
	// Platforms are the platforms a login may name; any other gets state
	// 1 before a login answered result true, and never READY (default:
	// huobi, huobi_future, okex, okex_future, okex_swap, binance,
	// binance_future).
	Platforms []string
	// TLS serves wss:// (use Server.Client to dial it).
	TLS bool
	// Cash is every new account's USDT (default 1000000).
	Cash decimal.Decimal
}

// Server is the peer. Close it when done.
type Server struct {
	// URL is the socket's address, ws://127.0.0.1:port/ws/v1 (wss:// with
	// Config.TLS).
	URL string

	cfg    Config
	http   *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	platforms map[string]bool
	accounts  map[string]*account
	sessions  map[string]*session // by token
	conns     map[*peerConn]bool
	prices    map[string]decimal.Decimal
	rules     map[string]SymbolRules
	tokens    int
	orderNos  int
	fillNos   int
	received  []Received
	f         faults
	mute      bool // the request being carried out gets no answer
}

type faults struct {
	readyDelay       time.Duration
	noReady          map[string]bool
	noPongs          bool
	dropOn           map[string]bool // op → carry it out first
	errorOn          map[string]string
	swallowOn        map[string]bool // op → carry it out
	hold             int
	held             []heldAnswer
	cancelOneSilent  bool
	positionSilentOn map[string]bool
	stale            map[string][]StaleFrame // platform → what an old session sends after the next re-login
}

type heldAnswer struct {
	c *peerConn
	v any
}

// Received is one request as the server got it.
type Received struct {
	Op       string
	Cid      string
	Token    string
	Platform string // the token's platform ("" when the token was unknown), or login's
	Frame    []byte // the frame as it came (a login's holds its keys)
	At       time.Time
}

// SymbolRules are a symbol's symbol_info answer.
type SymbolRules struct {
	PriceTick, SizeTick, SizeLimit, ValueTick, ValueLimit decimal.Decimal
	Base, Quote, Settlement                               string
}

// New starts a server on 127.0.0.1.
func New(cfg Config) *Server {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Second
	}
	if len(cfg.Platforms) == 0 {
		cfg.Platforms = []string{"huobi", "huobi_future", "okex", "okex_future", "okex_swap", "binance", "binance_future"}
	}
	if cfg.Cash.IsZero() {
		cfg.Cash = decimal.NewFromInt(1_000_000)
	}
	s := &Server{
		cfg: cfg, platforms: map[string]bool{}, accounts: map[string]*account{}, sessions: map[string]*session{},
		conns: map[*peerConn]bool{}, prices: map[string]decimal.Decimal{}, rules: map[string]SymbolRules{},
		f: faults{noReady: map[string]bool{}, dropOn: map[string]bool{}, errorOn: map[string]string{},
			swallowOn: map[string]bool{}, positionSilentOn: map[string]bool{}, stale: map[string][]StaleFrame{}},
	}
	for _, p := range cfg.Platforms {
		s.platforms[p] = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/v1", s.serveWS)
	if cfg.TLS {
		s.http = httptest.NewTLSServer(mux)
		s.URL = "wss" + strings.TrimPrefix(s.http.URL, "https") + "/ws/v1"
	} else {
		s.http = httptest.NewServer(mux)
		s.URL = "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws/v1"
	}
	return s
}

// Client is an HTTP client that trusts the server's certificate (wss://).
func (s *Server) Client() *http.Client { return s.http.Client() }

// Close drops every socket and waits for every goroutine of the server.
func (s *Server) Close() {
	s.cancel()
	s.DropConnections()
	s.http.CloseClientConnections()
	s.http.Close()
	s.wg.Wait()
}

// --- faults and controls ---

// SetReadyDelay delays READY after each login's answer.
func (s *Server) SetReadyDelay(d time.Duration) { s.mu.Lock(); s.f.readyDelay = d; s.mu.Unlock() }

// SetNoReady makes READY never come for platform's logins (state 2 does).
func (s *Server) SetNoReady(platform string, on bool) {
	s.mu.Lock()
	s.f.noReady[platform] = on
	s.mu.Unlock()
}

// SetPongs switches the answers to ping off (and on): an unanswered ping
// does not count as a handled frame either.
func (s *Server) SetPongs(on bool) { s.mu.Lock(); s.f.noPongs = !on; s.mu.Unlock() }

// DropOn closes the socket at the next request with op, without an
// answer; with process the request is carried out first (an order placed
// whose answer is lost).
func (s *Server) DropOn(op string, process bool) {
	s.mu.Lock()
	s.f.dropOn[op] = process
	s.mu.Unlock()
}

// ErrorOn answers the next request with op by {"op":"error"} without a
// cid, as the reference server does for a handler's failure; the request is
// not carried out.
func (s *Server) ErrorOn(op, message string) { s.mu.Lock(); s.f.errorOn[op] = message; s.mu.Unlock() }

// SwallowOn leaves the next request with op unanswered; with process it is
// carried out all the same.
func (s *Server) SwallowOn(op string, process bool) {
	s.mu.Lock()
	s.f.swallowOn[op] = process
	s.mu.Unlock()
}

// HoldAnswers holds the next n answers and sends them in reverse order
// once all n are there.
func (s *Server) HoldAnswers(n int) { s.mu.Lock(); s.f.hold = n; s.f.held = nil; s.mu.Unlock() }

// SetCancelOneUnanswered leaves a cancel_order of exactly one order_no
// unanswered (it is carried out), as some platforms of the reference
// server do.
func (s *Server) SetCancelOneUnanswered(on bool) {
	s.mu.Lock()
	s.f.cancelOneSilent = on
	s.mu.Unlock()
}

// StaleAt is when, in the next login of an account, a late frame of its
// previous session arrives.
type StaleAt int

const (
	// StaleBeforeAnswer: before the new login's answer (the reference
	// server sends the answer from a task, after the login has already
	// pointed the account at the new token).
	StaleBeforeAnswer StaleAt = iota
	// StaleBeforeConnect: after the answer, before the new session's
	// state 2.
	StaleBeforeConnect
	// StaleBeforeReady: between the new session's state 2 and its READY.
	StaleBeforeReady
	// StaleAfterReady: after the new session's READY.
	StaleAfterReady
	// StaleOnRelease: when the test calls ReleaseStale, after the new
	// login (so that the new session can tell something first).
	StaleOnRelease
)

// StaleFrame is one late frame of an old session. A state when Topic is
// "", else a notice of the topic with the old session's data as it was at
// the logout: "order" and "fill" of OrderNo (its last fill), "position" of
// Symbol, "asset".
type StaleFrame struct {
	At      StaleAt
	Code    int
	Msg     string
	Topic   string
	OrderNo string
	Symbol  string
}

// SetStale arms the reference server's late callbacks for platform: the
// next time a session of one of its accounts ends (logout or a closed
// socket), what it had is kept, and when that account logs in again the
// frames arrive under the NEW token, at their points of the new login (as
// in alphahunter's web/service.py, whose callbacks find the socket and
// token by account, and a logout does not stop the old platform callbacks
// at once). One re-login consumes them.
func (s *Server) SetStale(platform string, frames ...StaleFrame) {
	s.mu.Lock()
	s.f.stale[platform] = append([]StaleFrame(nil), frames...)
	s.mu.Unlock()
}

// ReleaseStale sends the StaleOnRelease frames kept for platform's
// accounts under their current sessions' tokens.
func (s *Server) ReleaseStale(platform string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.acct.platform == platform {
			s.sendStaleLocked(ss, StaleOnRelease)
		}
	}
}

// DropConnections closes every socket now.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var cs []*peerConn
	for c := range s.conns {
		cs = append(cs, c)
	}
	for _, c := range cs {
		s.logoutLocked(c) // before the close: see closed
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.ws.CloseNow()
	}
}

// SendState sends a state notice to every session of platform (a 4 → 5 →
// 6 sequence is three calls).
func (s *Server) SendState(platform string, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.acct.platform == platform {
			ss.ready = code == StateReady
			s.sendLocked(ss.c, stateFrame(ss.token, code, msg))
		}
	}
}

// Notify sends a notice to every session of platform.
func (s *Server) Notify(platform, topic string, data any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.acct.platform == platform {
			s.sendLocked(ss.c, notice{Op: "notify", Topic: topic, Token: ss.token, Data: data})
		}
	}
}

// SetPrice sets a symbol's market price; resting orders it crosses fill at
// their limit price.
func (s *Server) SetPrice(symbol string, price decimal.Decimal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prices[symbol] = price
	for _, a := range s.accounts {
		for _, o := range a.orderList() {
			if o.Symbol == symbol && o.open() && o.crosses(price) {
				s.fillLocked(a, o, o.Price, "MAKER")
			}
		}
	}
}

// SetSymbol sets a symbol's rules.
func (s *Server) SetSymbol(symbol string, r SymbolRules) {
	s.mu.Lock()
	s.rules[symbol] = r
	s.mu.Unlock()
}

// --- inspection ---

// Count is how many requests with op the server received for platform
// ("" for every platform).
func (s *Server) Count(op, platform string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.received {
		if r.Op == op && (platform == "" || r.Platform == platform) {
			n++
		}
	}
	return n
}

// PlaceOrders is how many place_order requests reached the server for
// platform: the proof that an order was never sent twice.
func (s *Server) PlaceOrders(platform string) int { return s.Count("place_order", platform) }

// Received lists every request so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Order is an order as the server keeps it.
type Order struct {
	OrderNo   string
	Symbol    string
	Action    string
	Price     decimal.Decimal
	Quantity  decimal.Decimal // signed on futures platforms
	Remain    decimal.Decimal
	Status    string // SUBMITTED, PARTIAL-FILLED, FILLED, CANCELED, FAILED
	OrderType string
}

// Orders lists platform's orders (of every account), by order_no.
func (s *Server) Orders(platform string) []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Order
	for _, a := range s.accounts {
		if a.platform != platform {
			continue
		}
		for _, o := range a.orderList() {
			out = append(out, Order{OrderNo: o.No, Symbol: o.Symbol, Action: o.Action, Price: o.Price, Quantity: o.Quantity,
				Remain: o.Remain, Status: o.Status, OrderType: o.Type})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OrderNo < out[j].OrderNo })
	return out
}

// Sessions is how many logins of platform are live.
func (s *Server) Sessions(platform string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.acct.platform == platform {
			n++
		}
	}
	return n
}

// Connections is how many sockets are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// --- the socket ---

type peerConn struct {
	ws     *websocket.Conn
	tokens map[string]bool
	dead   bool // closing: nothing more is written
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	// Counted before the hijack: until then httptest's Close waits for
	// this handler, after it Close waits on wg.
	s.wg.Add(1)
	defer s.wg.Done()
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &peerConn{ws: ws, tokens: map[string]bool{}}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer s.closed(c)

	lastHandled := time.Now()
	for {
		ctx, cancel := context.WithDeadline(s.ctx, lastHandled.Add(s.cfg.IdleTimeout))
		typ, b, err := ws.Read(ctx)
		cancel()
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		handled, drop := s.handle(c, b)
		if handled {
			lastHandled = time.Now()
		}
		if drop {
			return
		}
	}
}

// closed logs the socket's sessions out, as the reference server does when
// a socket goes, and then closes it: a client that sees the close and logs
// in again at once finds its account free (logging out after the close
// would race that login into a "repeat login" refusal).
func (s *Server) closed(c *peerConn) {
	s.mu.Lock()
	s.logoutLocked(c)
	s.mu.Unlock()
	c.ws.CloseNow()
}

// logoutLocked forgets c and logs its sessions out. Called with s.mu held.
func (s *Server) logoutLocked(c *peerConn) {
	delete(s.conns, c)
	for tok := range c.tokens {
		if ss, ok := s.sessions[tok]; ok {
			s.endSessionLocked(ss)
			delete(s.sessions, tok)
		}
	}
}

// endSessionLocked frees ss's account and, when stale frames are armed
// for its platform, keeps them with what the session had, for the
// account's next login.
func (s *Server) endSessionLocked(ss *session) {
	a := ss.acct
	a.session = nil
	frames := s.f.stale[a.platform]
	a.stale = nil
	if len(frames) == 0 {
		return
	}
	delete(s.f.stale, a.platform)
	var out []staleOut
	for _, fr := range frames {
		o := staleOut{at: fr.At}
		switch fr.Topic {
		case "":
			o.v = stateFrame("", fr.Code, fr.Msg)
		case "order", "fill":
			od, ok := a.orders[fr.OrderNo]
			switch {
			case !ok:
				continue
			case fr.Topic == "order":
				o.v = notice{Op: "notify", Topic: "order", Data: od.wire()}
			case od.lastFill == nil:
				continue
			default:
				o.v = notice{Op: "notify", Topic: "fill", Data: od.lastFill}
			}
		case "position":
			p := s.positionData(a, fr.Symbol)
			p["symbol"] = fr.Symbol
			o.v = notice{Op: "notify", Topic: "position", Data: p}
		case "asset":
			o.v = notice{Op: "notify", Topic: "asset", Data: s.assetData(a)}
		default:
			continue
		}
		out = append(out, o)
	}
	a.stale = out
}

// staleOut is one kept frame; its token is filled in at the re-login.
type staleOut struct {
	at StaleAt
	v  any
}

// sendStaleLocked sends the account's kept frames of point at under the
// new session's token.
func (s *Server) sendStaleLocked(ss *session, at StaleAt) {
	var rest []staleOut
	for _, o := range ss.acct.stale {
		if o.at != at {
			rest = append(rest, o)
			continue
		}
		switch v := o.v.(type) {
		case stateMsg:
			v.Token = ss.token
			s.sendLocked(ss.c, v)
		case notice:
			v.Token = ss.token
			s.sendLocked(ss.c, v)
		}
	}
	ss.acct.stale = rest
}

// sendLocked writes a notice or state to c now, under the lock, so that
// answers and notices go out in the order they were made.
func (s *Server) sendLocked(c *peerConn, v any) { s.writeNowLocked(c, v) }

// answerLocked sends an answer, unless answers are being held.
func (s *Server) answerLocked(c *peerConn, v any) {
	if s.mute {
		return
	}
	if s.f.hold > 0 {
		s.f.held = append(s.f.held, heldAnswer{c, v})
		if len(s.f.held) < s.f.hold {
			return
		}
		held := s.f.held
		s.f.hold, s.f.held = 0, nil
		for i := len(held) - 1; i >= 0; i-- {
			s.writeNowLocked(held[i].c, held[i].v)
		}
		return
	}
	s.writeNowLocked(c, v)
}

// writeNowLocked writes v before returning (under the lock, so that the
// order of answers and notices is the order they were made in).
func (s *Server) writeNowLocked(c *peerConn, v any) {
	if c.dead {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	c.ws.Write(ctx, websocket.MessageText, b)
}

// later runs f after d unless the server closes first.
func (s *Server) later(d time.Duration, f func()) {
	s.wg.Go(func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-s.ctx.Done():
		case <-t.C:
			f()
		}
	})
}
