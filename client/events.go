package client

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Events follows brokerd's event stream. The channel is fed until ctx is
// done or brokerd ends the stream (a "shutdown" event comes first then),
// and is closed after. An error is returned only when the stream could not
// be opened; the stream is not reopened by the client.
func (c *Client) Events(ctx context.Context, f EventFilter) (<-chan Event, error) {
	q := url.Values{}
	if f.Terminal != "" {
		q.Set("terminal", f.Terminal)
	}
	if f.Operation != "" {
		q.Set("operation", f.Operation)
	}
	cl := call{method: http.MethodGet, path: "/events", query: q}
	req, err := c.request(ctx, cl, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &unreachableError{url: c.base.Host, err: err}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var env envelope
		if json.Unmarshal(raw, &env) != nil {
			return nil, &Error{Status: resp.StatusCode, Code: "bad_answer", Message: "the event stream did not open: " + clip(raw)}
		}
		return nil, reply{status: resp.StatusCode, env: env}.err()
	}
	ch := make(chan Event)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		_ = readEvents(resp.Body, func(e Event) bool {
			select {
			case ch <- e:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	return ch, nil
}

// maxEventLine bounds one line of the stream (an event's data).
const maxEventLine = 4 << 20

// readEvents parses a text/event-stream, calling emit for every event with
// a type or data, until the stream ends or emit returns false. Comments
// (heartbeats) and retry fields are skipped.
func readEvents(r io.Reader, emit func(Event) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var e Event
	var data strings.Builder
	hasData := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData || e.Type != "" {
				if e.Type == "" {
					e.Type = "message"
				}
				e.Data = json.RawMessage(data.String())
				if !emit(e) {
					return nil
				}
			}
			e, hasData = Event{}, false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			e.Type = value
		case "id":
			e.ID = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
	}
	return sc.Err()
}
