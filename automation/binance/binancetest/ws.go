package binancetest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// peerConn is one WebSocket API connection.
type peerConn struct {
	ws       *websocket.Conn
	seq      int
	opened   time.Time
	loggedOn bool // session.logon succeeded (Ed25519)
	rateOff  bool // ?returnRateLimits=false
	writeMu  sync.Mutex
}

// request is one request frame.
type request struct {
	ID     json.RawMessage            `json:"id"`
	Method string                     `json:"method"`
	Params map[string]json.RawMessage `json:"params"`
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	banned, down := s.nowLocked().Before(s.bannedUntil), s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	if banned {
		http.Error(w, `{"code":-1003,"msg":"Way too much request weight used; IP banned."}`, http.StatusTeapot)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPongReceived: func(context.Context, []byte) {
			s.mu.Lock()
			s.pongs++
			s.mu.Unlock()
		},
	})
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &peerConn{ws: ws, opened: time.Now(), rateOff: r.URL.Query().Get("returnRateLimits") == "false"}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.CloseNow()
		return
	}
	s.accepted++
	c.seq = s.accepted
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		ws.CloseNow()
		s.connWG.Done()
	}()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if s.cfg.PingEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.pinger(ctx, c)
		}()
	}
	if s.cfg.MaxConnectionAge > 0 {
		age := time.AfterFunc(s.cfg.MaxConnectionAge, func() {
			s.mu.Lock()
			s.ageCloses++
			s.mu.Unlock()
			ws.Close(websocket.StatusGoingAway, "connection reached its maximum age")
			ws.CloseNow()
		})
		defer age.Stop()
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil || req.Method == "" {
			s.answer(ctx, c, json.RawMessage("null"), nil, &apiError{status: 400, code: -1102, msg: "Invalid request."})
			continue
		}
		if len(req.ID) == 0 {
			req.ID = json.RawMessage("null")
		}
		if !s.serve(ctx, c, req, &wg) {
			return
		}
	}
}

// pinger pings every PingEvery and drops the connection when no pong with
// the ping's payload comes back within PongTimeout.
func (s *Server) pinger(ctx context.Context, c *peerConn) {
	tick := time.NewTicker(s.cfg.PingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.cfg.PongTimeout)
		err := c.ws.Ping(pctx) // returns once the pong echoing the payload arrives
		cancel()
		if err != nil && ctx.Err() == nil {
			s.mu.Lock()
			s.noPongDrops++
			s.mu.Unlock()
			c.ws.Close(websocket.StatusPolicyViolation, "pong timeout")
			c.ws.CloseNow()
			return
		}
	}
}

// serve handles one request; false drops the connection.
func (s *Server) serve(ctx context.Context, c *peerConn, req request, wg *sync.WaitGroup) bool {
	s.mu.Lock()
	s.received = append(s.received, Received{Conn: c.seq, Method: req.Method, Params: req.Params})
	if req.Method == "order.place" || req.Method == "v1/order.place" {
		var cid string
		json.Unmarshal(req.Params["newClientOrderId"], &cid)
		s.placeCount[cid]++
	}
	if sig, ok := req.Params["signature"]; ok {
		var v string
		json.Unmarshal(sig, &v)
		s.signatures = append(s.signatures, v)
	}
	if s.revoked {
		s.mu.Unlock()
		s.answer(ctx, c, json.RawMessage("null"), nil, &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."})
		c.ws.Close(websocket.StatusPolicyViolation, "session revoked")
		return false
	}
	if limited := s.limitLocked(req.Method); limited != nil {
		s.mu.Unlock()
		s.answer(ctx, c, req.ID, nil, limited)
		return true
	}
	fault := s.takeFaultLocked(strings.TrimPrefix(strings.TrimPrefix(req.Method, "v1/"), "v2/"))
	s.mu.Unlock()

	if fault != nil {
		switch fault.Kind {
		case FaultError:
			s.answer(ctx, c, req.ID, nil, &apiError{status: 400, code: fault.Code, msg: fault.Msg})
			return true
		case FaultDropBefore:
			return false
		}
	}
	result, apiErr := s.handle(c, req)
	if fault == nil {
		s.answer(ctx, c, req.ID, result, apiErr)
		return true
	}
	switch fault.Kind {
	case FaultUnknown:
		s.answer(ctx, c, req.ID, nil, &apiError{status: 408, code: -1007, msg: "Timeout waiting for response from backend server. Send status unknown; execution status unknown."})
	case FaultDropAfter:
		return false
	case FaultSilent:
	case FaultDelay:
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(fault.Delay):
				s.answer(ctx, c, req.ID, result, apiErr)
			case <-ctx.Done():
			}
		}()
	}
	return true
}

// answer writes one response frame.
func (s *Server) answer(ctx context.Context, c *peerConn, id json.RawMessage, result any, e *apiError) {
	frame := map[string]any{"id": id}
	if e != nil {
		errBody := map[string]any{"code": e.code, "msg": e.msg}
		if e.data != nil {
			errBody["data"] = e.data
		}
		frame["status"], frame["error"] = e.status, errBody
	} else {
		frame["status"], frame["result"] = 200, result
	}
	if !c.rateOff && !(e != nil && e.code == -2015 && string(id) == "null") {
		s.mu.Lock()
		frame["rateLimits"] = s.rateLimitsLocked()
		s.mu.Unlock()
	}
	b, _ := json.Marshal(frame)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.ws.Write(wctx, websocket.MessageText, b)
}
