package easythstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
		if _, errs, _ := s.reg.Validate(name, req.Params, nil); len(errs) > 0 {
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
