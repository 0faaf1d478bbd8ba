// Package binancetest is a local Binance USDⓈ-M futures peer for tests:
// the WebSocket API (/ws-fapi/v1), the REST endpoints the driver reads
// (/fapi/v1/time, /fapi/v1/exchangeInfo, the signed /fapi/v1/openOrders)
// and the user data stream (/ws/<listenKey>), written from seeds/002 and
// REFERENCE.md.
//
// It verifies what a real Binance verifies — HMAC-SHA256 and Ed25519
// signatures over the sorted raw parameters, session.logon, timestamps
// against its own clock (which can be set off by minutes) and recvWindow,
// mandatory parameters and their JSON types, the symbols' filters, the
// rate limits (429, then 418 for a client that goes on) — and keeps one
// account's orders, positions and balance against prices the test sets.
// Faults are injected per method (Inject), and what it received can be
// inspected (PlaceCount proves an order was never sent twice).
package binancetest

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Config sets up a peer; zero fields take the defaults New documents.
type Config struct {
	// APIKey is the account's key (default "peer-api-key").
	APIKey string
	// Secret is the HMAC key's secret; Ed25519Key, when set, makes the key
	// an Ed25519 key instead (session.logon works only then).
	Secret     string
	Ed25519Key ed25519.PublicKey
	// ClockOffset sets the peer's clock off from the machine's.
	ClockOffset time.Duration
	// Symbols (default BTCUSDT: tick 0.10, step 0.001, min qty 0.001, min
	// notional 100, price 50000).
	Symbols []Symbol
	// Balance is the USDT wallet (default 10000); Leverage (default 20).
	Balance  decimal.Decimal
	Leverage int
	// PingEvery sends a ping frame this often (0: never); a connection that
	// does not pong within PongTimeout (default 10s) is dropped.
	PingEvery   time.Duration
	PongTimeout time.Duration
	// MaxConnectionAge closes every connection this long after it opened
	// (Binance: 24 h); 0 never.
	MaxConnectionAge time.Duration
	// RateLimits (default 2400 REQUEST_WEIGHT per minute, 300 ORDERS per
	// 10 s, 1200 ORDERS per minute).
	RateLimits []RateLimit
	// BanFor is how long a 418 ban lasts (default 2 minutes).
	BanFor time.Duration
}

// Symbol is one tradable symbol and its filters.
type Symbol struct {
	Name, Base, Quote  string
	Tick, Step, MinQty decimal.Decimal
	MinNotional, Price decimal.Decimal
}

// RateLimit is one of Binance's fixed windows.
type RateLimit struct {
	Type        string // REQUEST_WEIGHT, ORDERS
	Interval    string // SECOND, MINUTE
	IntervalNum int
	Limit       int
}

func (r RateLimit) length() time.Duration {
	unit := map[string]time.Duration{"SECOND": time.Second, "MINUTE": time.Minute, "HOUR": time.Hour, "DAY": 24 * time.Hour}[r.Interval]
	return unit * time.Duration(r.IntervalNum)
}

// BTCUSDT is the default symbol.
func BTCUSDT() Symbol {
	return Symbol{
		Name: "BTCUSDT", Base: "BTC", Quote: "USDT",
		Tick: decimal.RequireFromString("0.10"), Step: decimal.RequireFromString("0.001"),
		MinQty: decimal.RequireFromString("0.001"), MinNotional: decimal.NewFromInt(100),
		Price: decimal.NewFromInt(50000),
	}
}

// Server is a running peer.
type Server struct {
	cfg  Config
	http *httptest.Server

	mu          sync.Mutex
	clockOffset time.Duration
	eng         engine
	faults      []*Fault
	revoked     bool
	conns       map[*peerConn]struct{}
	accepted    int
	received    []Received
	placeCount  map[string]int
	signatures  []string
	listenKeys  map[string]bool
	streams     map[*streamConn]struct{}
	windows     map[int]*window // by index in cfg.RateLimits
	holdUntil   time.Time       // after a 429: any request before it earns a 418
	bannedUntil time.Time
	count429    int
	count418    int
	pongs       int
	noPongDrops int
	ageCloses   int
	connWG      sync.WaitGroup
	closed      bool
	down        bool // refusing WebSocket API connections (SetDown)
}

type window struct {
	start time.Time
	count int
}

// Received is one request the peer read.
type Received struct {
	Conn   int
	Method string
	Params map[string]json.RawMessage
}

// New starts a peer on 127.0.0.1; Close stops it.
func New(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = "peer-api-key"
	}
	if len(cfg.Symbols) == 0 {
		cfg.Symbols = []Symbol{BTCUSDT()}
	}
	if cfg.Balance.IsZero() {
		cfg.Balance = decimal.NewFromInt(10000)
	}
	if cfg.Leverage == 0 {
		cfg.Leverage = 20
	}
	if cfg.PongTimeout == 0 {
		cfg.PongTimeout = 10 * time.Second
	}
	if len(cfg.RateLimits) == 0 {
		cfg.RateLimits = []RateLimit{
			{"REQUEST_WEIGHT", "MINUTE", 1, 2400},
			{"ORDERS", "SECOND", 10, 300},
			{"ORDERS", "MINUTE", 1, 1200},
		}
	}
	if cfg.BanFor == 0 {
		cfg.BanFor = 2 * time.Minute
	}
	s := &Server{
		cfg:         cfg,
		clockOffset: cfg.ClockOffset,
		conns:       map[*peerConn]struct{}{},
		placeCount:  map[string]int{},
		listenKeys:  map[string]bool{},
		streams:     map[*streamConn]struct{}{},
		windows:     map[int]*window{},
		eng: engine{
			symbols:       map[string]*Symbol{},
			byID:          map[int64]*Order{},
			byCID:         map[string]*Order{},
			resting:       map[int64]*Order{},
			restingMargin: decimal.Zero,
			wallet:        cfg.Balance,
			leverage:      cfg.Leverage,
			positions:     map[positionKey]*Position{},
		},
	}
	for _, sym := range cfg.Symbols {
		sym := sym
		s.eng.symbols[sym.Name] = &sym
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fapi/v1/time", s.handleTime)
	mux.HandleFunc("GET /fapi/v1/exchangeInfo", s.handleExchangeInfo)
	mux.HandleFunc("GET /fapi/v1/openOrders", s.handleOpenOrders)
	mux.HandleFunc("GET /ws-fapi/v1", s.handleWS)
	mux.HandleFunc("GET /ws/{listenKey}", s.handleStream)
	s.http = httptest.NewServer(mux)
	return s
}

// Close drops every connection and stops the peer.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true // no connection is counted in connWG after this
	s.mu.Unlock()
	s.DropConnections()
	s.mu.Lock()
	for sc := range s.streams {
		sc.ws.CloseNow()
	}
	s.mu.Unlock()
	s.http.CloseClientConnections()
	s.http.Close()
	s.connWG.Wait()
}

// URL is the WebSocket API's address (the driver's url option).
func (s *Server) URL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws-fapi/v1" }

// RESTURL is the REST base (rest_url).
func (s *Server) RESTURL() string { return s.http.URL }

// StreamURL is the user data stream's base (stream_url).
func (s *Server) StreamURL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws" }

// now is the peer's clock.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.clockOffset) }

// SetClockOffset moves the peer's clock.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	s.clockOffset = d
	s.mu.Unlock()
}

// SetPrice moves a symbol's price, filling the resting orders it crosses.
func (s *Server) SetPrice(symbol string, price decimal.Decimal) {
	s.mu.Lock()
	changed := s.eng.setPrice(symbol, price, s.nowLocked())
	s.publishLocked(changed, "TRADE")
	s.mu.Unlock()
}

// RevokeKey revokes the API key: the next request on every connection is
// answered {"id": null, "status": 401, -2015} and the session ends; so is
// every later logon and signed request, until RestoreKey.
func (s *Server) RevokeKey() {
	s.mu.Lock()
	s.revoked = true
	s.mu.Unlock()
}

// RestoreKey undoes RevokeKey.
func (s *Server) RestoreKey() {
	s.mu.Lock()
	s.revoked = false
	s.mu.Unlock()
}

// SetDown makes the WebSocket API refuse new connections (HTTP 503) while
// down is true, and drops the open ones when it turns true: an outage.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
	if down {
		s.DropConnections()
	}
}

// DropConnections closes every WebSocket API connection at once.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var cs []*peerConn
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.ws.CloseNow()
	}
}

// FaultKind is what a fault does to a request.
type FaultKind int

const (
	// FaultError answers Code and Msg (status 400) without carrying the
	// request out.
	FaultError FaultKind = iota
	// FaultUnknown carries the request out, then answers -1007 (timeout,
	// execution status unknown) as Binance's backend does.
	FaultUnknown
	// FaultDropAfter carries the request out, then drops the socket
	// without answering.
	FaultDropAfter
	// FaultDropBefore drops the socket without carrying the request out.
	FaultDropBefore
	// FaultSilent carries the request out and never answers.
	FaultSilent
	// FaultDelay carries the request out and answers after Delay.
	FaultDelay
)

// Fault is injected on the next Count requests of Method ("" any).
type Fault struct {
	Method string
	Kind   FaultKind
	Code   int
	Msg    string
	Delay  time.Duration
	Count  int // default 1
}

// Inject adds a fault; faults apply in the order they were added.
func (s *Server) Inject(f Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// takeFault returns the fault for a request of method, if any; s.mu held.
func (s *Server) takeFaultLocked(method string) *Fault {
	for i, f := range s.faults {
		if f.Method == "" || f.Method == method {
			f.Count--
			if f.Count <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// PlaceCount is how many order.place requests carried newClientOrderId
// cid — whatever their fate: an order sent twice shows as 2.
func (s *Server) PlaceCount(cid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placeCount[cid]
}

// Received lists the requests read so far, of one method when given.
func (s *Server) Received(method string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Signatures are every signature the peer received (for tests that grep
// logs for them).
func (s *Server) Signatures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signatures...)
}

// ListenKeys are every listen key the peer handed out.
func (s *Server) ListenKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.listenKeys {
		out = append(out, k)
	}
	return out
}

// Order returns the last order with client order id cid.
func (s *Server) Order(symbol, cid string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.eng.findOrder(symbol, 0, cid)
	if o == nil {
		return Order{}, false
	}
	return *o, true
}

// Orders returns a copy of every order.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, len(s.eng.orders))
	for i, o := range s.eng.orders {
		out[i] = *o
	}
	return out
}

// Stats are counters of what happened at the peer.
type Stats struct {
	Accepted    int // WebSocket API connections accepted
	Open        int // open now
	Pongs       int // pong frames received
	NoPongDrops int // connections dropped for not answering a ping
	AgeCloses   int // connections closed at MaxConnectionAge
	Answered429 int
	Answered418 int
	Streams     int // user data streams open now
}

// Stats reads the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Accepted: s.accepted, Open: len(s.conns), Pongs: s.pongs, NoPongDrops: s.noPongDrops,
		AgeCloses: s.ageCloses, Answered429: s.count429, Answered418: s.count418, Streams: len(s.streams),
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) handleTime(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{"serverTime": s.now().UnixMilli()})
}

func (s *Server) handleExchangeInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var limits []map[string]any
	for _, l := range s.cfg.RateLimits {
		limits = append(limits, map[string]any{"rateLimitType": l.Type, "interval": l.Interval, "intervalNum": l.IntervalNum, "limit": l.Limit})
	}
	var symbols []map[string]any
	for _, sym := range s.cfg.Symbols {
		symbols = append(symbols, map[string]any{
			"symbol": sym.Name, "pair": sym.Name, "contractType": "PERPETUAL", "status": "TRADING",
			"baseAsset": sym.Base, "quoteAsset": sym.Quote, "marginAsset": sym.Quote,
			"pricePrecision": -sym.Tick.Exponent(), "quantityPrecision": -sym.Step.Exponent(),
			"filters": []map[string]any{
				{"filterType": "PRICE_FILTER", "minPrice": sym.Tick.String(), "maxPrice": "4529764", "tickSize": sym.Tick.StringFixed(-sym.Tick.Exponent())},
				{"filterType": "LOT_SIZE", "stepSize": sym.Step.StringFixed(-sym.Step.Exponent()), "maxQty": "1000", "minQty": sym.MinQty.StringFixed(-sym.Step.Exponent())},
				{"filterType": "MARKET_LOT_SIZE", "stepSize": sym.Step.String(), "maxQty": "120", "minQty": sym.MinQty.String()},
				{"filterType": "MAX_NUM_ORDERS", "limit": 200},
				{"filterType": "MIN_NOTIONAL", "notional": sym.MinNotional.String()},
			},
			"orderTypes": []string{"LIMIT", "MARKET"}, "timeInForce": []string{"GTC", "IOC", "FOK", "GTX"},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timezone": "UTC", "serverTime": s.nowLocked().UnixMilli(), "rateLimits": limits, "symbols": symbols,
	})
}
