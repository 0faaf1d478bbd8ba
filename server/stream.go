package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// streamWriteTimeout bounds one write to an event stream: a client that
// reads nothing for this long is disconnected.
const streamWriteTimeout = 30 * time.Second

// events streams brokerd's changes as Server-Sent Events.
//
//	@Summary		Event stream (Server-Sent Events)
//	@Description	A text/event-stream of changes, each as "id: N", "event: TYPE", "data: JSON". Types: operation (an operation was queued, started or finished; data is its status), lane (a lane went idle, running, paused, stuck or stopped), terminal (a terminal's connection state changed), risk (a terminal was halted by the kill switch or resumed: terminal, halted, reason, cancelled_count), dropped (this client read too slowly and lost events: refetch what it follows). A comment line is sent every 15 s to keep the connection open. ?terminal= keeps one terminal's events; ?operation= keeps the events of one operation (by id) or of one operation name, and no lane or terminal events.
//	@Tags			events
//	@Produce		text/event-stream
//	@Param			terminal	query		string	false	"only this terminal's events"
//	@Param			operation	query		string	false	"only this operation's events: its id, or an operation name such as buy"
//	@Success		200			{string}	string	"the event stream"
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Security		BearerAuth
//	@Router			/events [get]
func (s *Server) streamEvents(c *gin.Context) {
	f := eventFilter{terminal: c.Query("terminal"), operation: c.Query("operation")}
	if f.terminal != "" {
		if _, ok := s.terminals[f.terminal]; !ok {
			s.invalid(c, []fieldError{s.unknownTerminal(f.terminal)})
			return
		}
	}
	sub := s.events.subscribe(f)
	defer s.events.unsubscribe(sub)

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)

	rc := http.NewResponseController(c.Writer)
	write := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) // unsupported by test recorders
		if _, err := c.Writer.WriteString(chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": connected to brokerd events\nretry: 3000\n\n") {
		return
	}
	heartbeat := time.NewTicker(s.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	ctx := c.Request.Context()
	for {
		var chunk string
		select {
		case <-ctx.Done():
			return
		case <-s.shutdown.Done():
			write("event: shutdown\ndata: {\"message\":\"brokerd is shutting down\"}\n\n")
			return
		case <-heartbeat.C:
			chunk = ": heartbeat\n\n"
		case e := <-sub.ch:
			if n := sub.dropped.Swap(0); n > 0 {
				notice, _ := json.Marshal(droppedNotice{Dropped: n,
					Message: "this client read too slowly and missed events: refetch the state it follows"})
				chunk = "event: " + eventDropped + "\ndata: " + string(notice) + "\n\n"
			}
			chunk += "id: " + strconv.FormatUint(e.id, 10) + "\nevent: " + e.kind + "\ndata: " + string(e.encode()) + "\n\n"
		}
		if !write(chunk) {
			return
		}
	}
}

type droppedNotice struct {
	Dropped int64  `json:"dropped"`
	Message string `json:"message"`
}
