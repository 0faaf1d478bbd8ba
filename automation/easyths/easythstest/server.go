// Package easythstest is a local peer of an EasyTHS server (seeds/003):
// its routes and answer shapes, in the documented (v2) flavour or as
// v1.7's code really answers (REFERENCE.md: `completed`, FastAPI's
// {"detail": …} errors, a full queue as 500, parameters validated in the
// worker, a bare /result, buy/sell without an order number, holding codes
// that lost their leading zeros, an empty table as {}), with one worker
// over a priority queue, like EasyTHS's.
//
// Behind it is brokerd's own sim, run through brokerd's plugins: the
// account behaves, and the peer only has to be EasyTHS's shape around it.
// Faults: slow answers, connections reset after the request was read (a
// submit may be queued first), 500s, a full queue, a held worker (an
// operation that stays queued), and a restart that forgets every
// operation and logs the client out. Submitted and Executed count what it
// received and ran, so tests can prove nothing was submitted twice.
package easythstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/plugins"
)

// Version picks the answer shapes.
type Version string

const (
	V2  Version = "2"   // as documented (seed 003) with v2's additions
	V17 Version = "1.7" // as v1.7's code answers
)

// FaultKind is what a fault does to one request.
type FaultKind string

const (
	Slow      FaultKind = "slow"       // no answer until the client gives up
	Reset     FaultKind = "reset"      // the request read, the connection reset
	Error500  FaultKind = "500"        // an internal error
	QueueFull FaultKind = "queue_full" // 503 queue_full (v2) or 500 (v1.7)
	// Stall (route "run" or "run:buy") holds the next such operation
	// running, the client's window hung, until Unstall.
	Stall FaultKind = "stall"
)

// Route names a fault's target: "submit" (any POST
// /operations/{name}), "submit:buy", "result", "status", "health".
type Fault struct {
	Route string
	Kind  FaultKind
	// Carried queues the submitted operation before the answer is lost.
	Carried bool
}

// Options configure a peer.
type Options struct {
	Version Version // default V2
	// APIKey, when set, is required as a Bearer token (health excepted).
	APIKey string
	// Operations are the loaded plugins; default all 15.
	Operations []string
	Cash       float64            // default 1,000,000
	Holdings   map[string]int64   // sellable shares at the start
	Quotes     map[string]float64 // last prices (fixed)
}

// Server is a running peer.
type Server struct {
	*httptest.Server

	opts Options
	reg  *plugins.Registry
	term *sim.Terminal

	kick    chan struct{}
	stop    chan struct{}
	unstall chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	ops       map[string]*operation
	queue     []*operation
	seq       int
	held      bool
	loggedIn  bool
	faults    []Fault
	submitted map[string]int
	executed  map[string]int
	auth      []string
	stats     struct{ success, failed int }
}

type operation struct {
	id, name  string
	params    json.RawMessage
	priority  int
	seq       int
	status    string // queued, running, success, failed, cancelled
	result    *resultBody
	errorCode string
	at        time.Time
	done      chan struct{}
}

// resultBody is EasyTHS's result, in its field order.
type resultBody struct {
	Success   bool    `json:"success"`
	Data      any     `json:"data"`
	Message   *string `json:"message"`
	Timestamp string  `json:"timestamp"`
}

// New starts a peer; Close stops it.
func New(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = V2
	}
	if opts.Operations == nil {
		opts.Operations = automation.StockOperations
	}
	so := sim.DefaultOptions()
	so.Volatility = 0
	so.InitialCash = 1_000_000
	if opts.Cash != 0 {
		so.InitialCash = opts.Cash
	}
	so.Positions, so.Quotes = opts.Holdings, opts.Quotes
	term, err := sim.New(context.Background(), "easythstest", so, sim.Deps{})
	if err != nil {
		panic("easythstest: " + err.Error())
	}
	s := &Server{
		opts: opts, reg: plugins.NewRegistry(), term: term, kick: make(chan struct{}, 1), stop: make(chan struct{}), unstall: make(chan struct{}, 1),
		ops: map[string]*operation{}, loggedIn: true, submitted: map[string]int{}, executed: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/system/health", s.health)
	mux.HandleFunc("GET /api/v1/system/status", s.authed(s.systemStatus))
	mux.HandleFunc("POST /api/v1/system/reconnect", s.authed(s.reconnect))
	mux.HandleFunc("GET /api/v1/operations/{$}", s.authed(s.list))
	mux.HandleFunc("POST /api/v1/operations/{name}", s.authed(s.submit))
	mux.HandleFunc("GET /api/v1/operations/{id}/status", s.authed(s.status))
	mux.HandleFunc("GET /api/v1/operations/{id}/result", s.authed(s.result))
	mux.HandleFunc("DELETE /api/v1/operations/{id}", s.authed(s.cancel))
	mux.HandleFunc("GET /api/v1/queue/stats", s.authed(s.queueStats))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"detail": "Not Found"})
	})
	s.Server = httptest.NewServer(mux)
	s.wg.Add(1)
	go s.work()
	return s
}

// Close stops the worker and the server.
func (s *Server) Close() {
	close(s.stop)
	s.Server.Close()
	s.wg.Wait()
	s.term.Close()
}

// Inject queues faults; each applies once to the next request on its route.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Hold keeps the worker from starting operations (they stay queued) until
// Release.
func (s *Server) Hold() { s.mu.Lock(); s.held = true; s.mu.Unlock() }

// Release lets the worker go on.
func (s *Server) Release() {
	s.mu.Lock()
	s.held = false
	s.mu.Unlock()
	s.wake()
}

// Unstall lets a stalled operation go on.
func (s *Server) Unstall() { s.unstall <- struct{}{} }

// Restart is EasyTHS restarted: every operation forgotten (their ids
// answer 404) and the client logged out until Login or a reconnect. The
// broker's account is unchanged.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.ops {
		if op.status == "queued" || op.status == "running" {
			op.status = "cancelled"
			close(op.done)
		}
	}
	s.ops, s.queue, s.loggedIn = map[string]*operation{}, nil, false
}

// Login logs the client in again.
func (s *Server) Login() { s.mu.Lock(); s.loggedIn = true; s.mu.Unlock() }

// Submitted counts the POSTs of operation name received (faulted ones too).
func (s *Server) Submitted(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submitted[name]
}

// Executed counts the operations of name the worker ran.
func (s *Server) Executed(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executed[name]
}

// Authorizations lists the Authorization headers received.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auth)
}

// Broker is the account behind the peer (to fill or inspect orders).
func (s *Server) Broker() *sim.Terminal { return s.term }

func (s *Server) takeFault(routes ...string) (Fault, bool) {
	for i, f := range s.faults {
		if slices.Contains(routes, f.Route) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

// ---- answers ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // FastAPI: ensure_ascii=False, compact
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Server", "uvicorn")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// envelope is the documented answer, in its field order.
type envelope struct {
	Success   bool   `json:"success"`
	Message   string `json:"message"`
	Data      any    `json:"data"`
	ErrorCode string `json:"error_code,omitempty"`
}

// fail answers an error as the version does: v1.7 FastAPI's detail, v2
// an envelope with an error code.
func (s *Server) fail(w http.ResponseWriter, status int, code, message string, data any) {
	if s.opts.Version == V17 {
		writeJSON(w, status, map[string]any{"detail": message})
		return
	}
	writeJSON(w, status, envelope{Success: false, Message: message, Data: data, ErrorCode: code})
}

func stamp(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000") }

func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			s.auth = append(s.auth, a)
		}
		s.mu.Unlock()
		if s.opts.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
			s.fail(w, 401, "unauthorized", "Invalid or missing API key", nil)
			return
		}
		h(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, faulted := s.takeFault("health")
	logged := s.loggedIn
	s.mu.Unlock()
	if faulted && s.lose(w, r, f, nil) {
		return
	}
	status, automator, msg := "healthy", "connected", "系统运行正常"
	if !logged {
		status, automator, msg = "unhealthy", "disconnected", "交易客户端未连接"
	}
	writeJSON(w, 200, envelope{Success: logged, Message: msg, Data: map[string]any{
		"status": status, "timestamp": stamp(time.Now()),
		"components": map[string]any{"automator": automator, "logged_in": logged, "plugins": map[string]any{"loaded": len(s.opts.Operations)}},
	}})
}

func (s *Server) systemStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	logged := s.loggedIn
	s.mu.Unlock()
	writeJSON(w, 200, envelope{Success: true, Message: "查询成功", Data: map[string]any{
		"timestamp": stamp(time.Now()),
		"automator": map[string]any{"connected": logged, "logged_in": logged, "app_path": "C:/同花顺远航版/transaction/xiadan.exe", "backend": "win32"},
		"plugins":   map[string]any{"loaded_plugins": s.opts.Operations, "plugin_count": len(s.opts.Operations)},
	}})
}

func (s *Server) reconnect(w http.ResponseWriter, r *http.Request) {
	if s.opts.Version == V17 {
		writeJSON(w, 404, map[string]any{"detail": "Not Found"})
		return
	}
	s.Login()
	writeJSON(w, 200, envelope{Success: true, Message: "重连成功"})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	all := s.reg.Describe()
	ops := map[string]any{}
	for _, name := range s.opts.Operations {
		d, ok := all[name]
		if !ok {
			continue
		}
		params := map[string]any{}
		for pname, p := range d.Parameters {
			if s.opts.Version == V17 && pname == "contract_no" {
				continue // v1.7's order_cancel has no contract number
			}
			params[pname] = map[string]any{"type": p.Type, "required": p.Required, "description": p.Description}
		}
		ops[name] = map[string]any{"name": d.Name, "version": d.Version, "description": d.Description, "parameters": params}
	}
	writeJSON(w, 200, envelope{Success: true, Message: "查询成功", Data: map[string]any{"operations": ops, "count": len(ops)}})
}

func (s *Server) queueStats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	running := 0
	for _, op := range s.ops {
		if op.status == "running" {
			running++
		}
	}
	if s.opts.Version == V17 {
		writeJSON(w, 200, envelope{Success: true, Message: "查询成功", Data: map[string]any{
			"queue_size": len(s.queue), "processing": running > 0, "completed_count": s.stats.success, "failed_count": s.stats.failed}})
		return
	}
	writeJSON(w, 200, envelope{Success: true, Message: "查询成功", Data: map[string]any{
		"queued_count": len(s.queue), "running_count": running, "success_count": s.stats.success, "failed_count": s.stats.failed}})
}

// lose applies a fault that loses the answer; carried runs before. It
// reports whether the request was answered by the fault.
func (s *Server) lose(w http.ResponseWriter, r *http.Request, f Fault, carried func()) bool {
	switch f.Kind {
	case Slow:
		if f.Carried && carried != nil {
			carried()
		}
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		return true
	case Reset:
		if f.Carried && carried != nil {
			carried()
		}
		reset(w)
		return true
	case Error500:
		if f.Carried && carried != nil {
			carried()
		}
		s.fail(w, 500, "internal", "Internal Server Error", nil)
		return true
	}
	return false
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.submitted[name]++
	f, faulted := s.takeFault("submit", "submit:"+name)
	s.mu.Unlock()

	if !slices.Contains(s.opts.Operations, name) {
		s.fail(w, 404, "unknown_operation", fmt.Sprintf("操作 %s 不存在", name), nil)
		return
	}
	var req struct {
		Params   json.RawMessage `json:"params"`
		Priority *int            `json:"priority"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, 422, "invalid_params", "请求体不是有效的 JSON", nil)
		return
	}
	priority := 0
	if req.Priority != nil {
		priority = *req.Priority
	}
	if priority < 0 || priority > 10 {
		s.fail(w, 422, "invalid_params", "priority 必须在 0-10 之间", nil)
		return
	}
	if s.opts.Version == V2 {
		if _, errs, _ := s.reg.Validate(name, req.Params); len(errs) > 0 {
			type fe struct {
				Field  string `json:"field"`
				Reason string `json:"reason"`
			}
			var list []fe
			var parts []string
			for _, e := range errs {
				list = append(list, fe{e.Field, e.Reason})
				parts = append(parts, e.Field+": "+e.Reason)
			}
			s.fail(w, 422, "invalid_params", "invalid request: "+strings.Join(parts, "; "), map[string]any{"errors": list})
			return
		}
	}
	if faulted && f.Kind == QueueFull {
		if s.opts.Version == V17 {
			s.fail(w, 500, "", "操作队列已满", nil)
		} else {
			s.fail(w, 503, "queue_full", "操作队列已满", nil)
		}
		return
	}
	var op *operation
	enqueue := func() { op = s.enqueue(name, req.Params, priority) }
	if faulted && s.lose(w, r, f, enqueue) {
		return
	}
	enqueue()
	s.mu.Lock()
	position := len(s.queue)
	s.mu.Unlock()
	writeJSON(w, 200, envelope{Success: true, Message: "操作已添加到队列", Data: struct {
		OperationID   string `json:"operation_id"`
		Status        string `json:"status"`
		QueuePosition int    `json:"queue_position"`
	}{op.id, "queued", position}})
}

func (s *Server) enqueue(name string, params json.RawMessage, priority int) *operation {
	s.mu.Lock()
	s.seq++
	op := &operation{id: newID(), name: name, params: params, priority: priority, seq: s.seq, status: "queued", at: time.Now(), done: make(chan struct{})}
	s.ops[op.id] = op
	s.queue = append(s.queue, op)
	s.mu.Unlock()
	s.wake()
	return op
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// work is EasyTHS's one worker: highest priority first, FIFO within one.
func (s *Server) work() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		for {
			s.mu.Lock()
			if s.held || len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			slices.SortStableFunc(s.queue, func(a, b *operation) int {
				if a.priority != b.priority {
					return b.priority - a.priority
				}
				return a.seq - b.seq
			})
			op := s.queue[0]
			s.queue = s.queue[1:]
			op.status = "running"
			logged := s.loggedIn
			_, stalled := s.takeFault("run", "run:"+op.name)
			s.mu.Unlock()
			if stalled {
				select {
				case <-s.unstall:
				case <-s.stop:
					return
				}
			}
			s.execute(op, logged)
		}
	}
}

func (s *Server) execute(op *operation, logged bool) {
	var res resultBody
	code := ""
	if !logged {
		msg := "交易客户端未登录"
		res, code = resultBody{Success: false, Message: &msg}, "not_connected"
	} else {
		raw := op.params
		if len(raw) == 0 {
			raw = json.RawMessage("{}")
		}
		out, err := s.reg.Execute(context.Background(), s.term, op.name, raw)
		if err != nil {
			msg := err.Error()
			if s.opts.Version == V17 {
				if _, invalid := err.(*plugins.ValidationError); invalid {
					msg = "参数错误" // v1.7's worker named no field
				}
			}
			res, code = resultBody{Success: false, Data: v1Data(s.opts.Version, op.name, out.Data), Message: &msg}, errorCode(err)
		} else {
			msg := out.Message
			res = resultBody{Success: true, Data: v1Data(s.opts.Version, op.name, out.Data), Message: &msg}
			if s.opts.Version == V17 {
				res.Message = nil
			}
		}
	}
	res.Timestamp = stamp(time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if op.status != "running" { // forgotten by a restart meanwhile
		return
	}
	s.executed[op.name]++
	op.result, op.errorCode = &res, code
	if res.Success {
		op.status = "success"
		s.stats.success++
	} else {
		op.status = "failed"
		s.stats.failed++
	}
	close(op.done)
}

func errorCode(err error) string {
	switch automation.CodeOf(err) {
	case automation.CodeRejected:
		return "client_rejected"
	case automation.CodeNotConnected:
		return "not_connected"
	case "invalid_params":
		return "invalid_params"
	case automation.CodeTimeout:
		return "timeout"
	}
	return "internal"
}

// v1Data reshapes a result as v1.7 answered it: no order number from buy
// and sell, holding codes as numbers (their zeros lost), an empty table
// as {}.
func v1Data(v Version, name string, data any) any {
	if data == nil {
		return nil
	}
	b, _ := json.Marshal(data)
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return data
	}
	if v != V17 {
		return m
	}
	switch name {
	case automation.OpBuy, automation.OpSell, automation.OpMarketBuy, automation.OpMarketSell:
		delete(m, "contract_no")
		delete(m, "order")
	case automation.OpHoldingQuery:
		rows, _ := m["holdings"].([]any)
		if len(rows) == 0 {
			m["holdings"] = map[string]any{}
		}
		for _, r := range rows {
			if row, ok := r.(map[string]any); ok {
				if c, ok := row["证券代码"].(string); ok {
					if n, err := strconv.Atoi(c); err == nil {
						row["证券代码"] = n
					}
				}
			}
		}
	case automation.OpOrderQuery:
		if rows, _ := m["orders"].([]any); len(rows) == 0 {
			m["orders"] = "空数据"
		}
	}
	return m
}

func (s *Server) lookup(w http.ResponseWriter, id string) *operation {
	s.mu.Lock()
	op := s.ops[id]
	s.mu.Unlock()
	if op == nil {
		s.fail(w, 404, "not_found", "操作不存在", nil)
	}
	return op
}

// statusName is the status as the version writes it.
func (s *Server) statusName(st string) string {
	if s.opts.Version == V17 {
		switch st {
		case "success":
			return "completed"
		case "cancelled":
			return "failed"
		}
	}
	return st
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, faulted := s.takeFault("status")
	s.mu.Unlock()
	if faulted && s.lose(w, r, f, nil) {
		return
	}
	op := s.lookup(w, r.PathValue("id"))
	if op == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errText *string
	if op.result != nil && !op.result.Success {
		errText = op.result.Message
	}
	if op.status == "cancelled" {
		m := "操作已取消"
		errText = &m
	}
	data := map[string]any{
		"operation_id": op.id, "name": op.name, "status": s.statusName(op.status),
		"result": op.result, "error": errText, "timestamp": stamp(op.at),
	}
	if s.opts.Version == V2 && op.errorCode != "" {
		data["error_code"] = op.errorCode
	}
	writeJSON(w, 200, envelope{Success: true, Message: "查询成功", Data: data})
}

func (s *Server) result(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, faulted := s.takeFault("result")
	s.mu.Unlock()
	if faulted && s.lose(w, r, f, nil) {
		return
	}
	op := s.lookup(w, r.PathValue("id"))
	if op == nil {
		return
	}
	var timeout <-chan time.Time
	if q := r.URL.Query().Get("timeout"); q != "" {
		secs, err := strconv.ParseFloat(q, 64)
		if err != nil || secs < 0 {
			s.fail(w, 422, "invalid_params", "timeout 必须是非负数", nil)
			return
		}
		timer := time.NewTimer(time.Duration(secs * float64(time.Second)))
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-op.done:
	case <-timeout:
		s.fail(w, 408, "timeout", "操作超时", nil)
		return
	case <-r.Context().Done():
		return
	case <-s.stop:
		return
	}
	s.mu.Lock()
	res, status, code := op.result, op.status, op.errorCode
	s.mu.Unlock()
	if res == nil { // cancelled
		m := "操作已取消"
		res = &resultBody{Success: false, Message: &m, Timestamp: stamp(time.Now())}
	}
	if s.opts.Version == V17 {
		writeJSON(w, 200, res)
		return
	}
	data := map[string]any{"operation_id": op.id, "status": status, "result": res}
	if code != "" {
		data["error_code"] = code
	}
	writeJSON(w, 200, envelope{Success: true, Message: "操作成功", Data: data})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	op := s.lookup(w, r.PathValue("id"))
	if op == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if op.status != "queued" {
		if s.opts.Version == V17 {
			writeJSON(w, 400, map[string]any{"detail": "操作无法取消"})
		} else {
			writeJSON(w, 409, envelope{Success: false, Message: "操作无法取消: " + op.status, ErrorCode: "conflict"})
		}
		return
	}
	op.status = "cancelled"
	s.queue = slices.DeleteFunc(s.queue, func(o *operation) bool { return o == op })
	close(op.done)
	writeJSON(w, 200, map[string]any{"success": true, "message": "操作已取消"})
}
