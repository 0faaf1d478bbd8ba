package easythstest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/plugins"
)

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
