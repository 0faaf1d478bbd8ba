package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// streamWriteTimeout bounds one write to an event stream: a client that
// reads nothing for this long is disconnected.
const streamWriteTimeout = 30 * time.Second

// events streams brokerd's changes as Server-Sent Events.
//
//	@Summary		Event stream (Server-Sent Events)
//	@Description	A text/event-stream of changes, each as "id: N", "event: TYPE", "data: JSON". Types: operation (an operation was queued, started or finished; data is its status), lane (a lane went idle, running, paused, stuck or stopped), terminal (a terminal's connection state changed), venue (what a venue did on its own: an exchange's order updates and fills, kind order or fill; the sim's kind fill for a resting order that filled and kind condition_triggered for a condition order that fired), risk (a terminal was halted by the kill switch or resumed: terminal, halted, reason, cancelled_count), dropped (this client read too slowly and lost events: refetch what it follows). A client that reconnects with Last-Event-ID (browsers send it by themselves; or ?last_event_id=) first gets the events it missed, from the last 1024 kept; when they are no longer kept, an event reset (refetch the state) and then the live events. A comment line is sent every 15 s to keep the connection open. ?terminal= keeps one terminal's events; ?operation= keeps the events of one operation (by id) or of one operation name, and no lane or terminal events.
//	@Tags			events
//	@Produce		text/event-stream
//	@Param			terminal	query		string	false	"only this terminal's events"
//	@Param			operation	query		string	false	"only this operation's events: its id, or an operation name such as buy"
//	@Param			Last-Event-ID	header		string	false	"the id of the last event this client saw: the events after it are sent first"
//	@Success		200			{string}	string	"the event stream"
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Security		BearerAuth
//	@Router			/events [get]
func (s *Server) streamEvents(c *gin.Context) {
	f := eventFilter{terminal: c.Query("terminal"), operation: c.Query("operation")}
	if f.terminal != "" {
		if _, ok := s.terminals.Terminal(f.terminal); !ok {
			s.invalid(c, []fieldError{s.unknownTerminal(f.terminal)})
			return
		}
	}
	lastID, replay, resetWhy := lastEventID(c)
	sub, missed, complete := s.events.subscribeAfter(f, lastID, replay)
	defer s.events.unsubscribe(sub)
	if replay && !complete {
		resetWhy = "the events after id " + strconv.FormatUint(lastID, 10) + " are no longer kept (brokerd keeps the last " +
			strconv.Itoa(replayBuffer) + ", and only since it started)"
	}

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
	if resetWhy != "" {
		notice, _ := json.Marshal(resetNotice{Message: resetWhy + ": refetch the state you follow; events from here on are complete"})
		if !write("event: " + eventReset + "\ndata: " + string(notice) + "\n\n") {
			return
		}
	}
	for _, e := range missed {
		if !write(eventChunk(e)) {
			return
		}
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
			chunk += eventChunk(e)
		}
		if !write(chunk) {
			return
		}
	}
}

// eventChunk is e as Server-Sent Event lines.
func eventChunk(e *event) string {
	return "id: " + strconv.FormatUint(e.id, 10) + "\nevent: " + e.kind + "\ndata: " + string(e.encode()) + "\n\n"
}

// lastEventID reads the id a reconnecting client last saw: the
// Last-Event-ID header (a browser's EventSource sends it by itself), or
// ?last_event_id= for a client that cannot set headers. replay is false
// when none was given; resetWhy says why a given one cannot be used.
func lastEventID(c *gin.Context) (id uint64, replay bool, resetWhy string) {
	v := strings.TrimSpace(c.GetHeader("Last-Event-ID"))
	if v == "" {
		v = strings.TrimSpace(c.Query("last_event_id"))
	}
	if v == "" {
		return 0, false, ""
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, "Last-Event-ID " + strconv.Quote(truncate(v, 40)) + " is not an event id of brokerd"
	}
	return id, true, ""
}

type resetNotice struct {
	Message string `json:"message"`
}

type droppedNotice struct {
	Dropped int64  `json:"dropped"`
	Message string `json:"message"`
}
