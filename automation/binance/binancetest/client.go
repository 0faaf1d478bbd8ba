package binancetest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// Client is a plain WebSocket API client of the peer signing with an HMAC
// key, one request at a time: the baseline a driver's overhead is
// measured against (benchmarks), or another program spending the same
// IP's rate limits.
type Client struct {
	ws             *websocket.Conn
	apiKey, secret string
	offset         time.Duration
	n              int
}

// Dial connects a client to the peer, measuring its clock offset first.
func Dial(ctx context.Context, s *Server, apiKey, secret string) (*Client, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.RESTURL()+"/fapi/v1/time", nil)
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	var t struct {
		ServerTime int64 `json:"serverTime"`
	}
	err = json.NewDecoder(resp.Body).Decode(&t)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	mid := sent.Add(time.Since(sent) / 2)
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		return nil, err
	}
	return &Client{ws: ws, apiKey: apiKey, secret: secret, offset: time.UnixMilli(t.ServerTime).Sub(mid)}, nil
}

// Close drops the connection.
func (c *Client) Close() { c.ws.CloseNow() }

// Call sends one signed request (apiKey, timestamp and signature added)
// and returns its answer's status and frame.
func (c *Client) Call(ctx context.Context, method string, params map[string]any) (int, []byte, error) {
	c.n++
	p := make(map[string]json.RawMessage, len(params)+3)
	for k, v := range params {
		b, err := json.Marshal(v)
		if err != nil {
			return 0, nil, err
		}
		p[k] = b
	}
	p["apiKey"], _ = json.Marshal(c.apiKey)
	p["timestamp"] = json.RawMessage(strconv.FormatInt(time.Now().Add(c.offset).UnixMilli(), 10))
	msg, apiErr := signaturePayload(p)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	m := hmac.New(sha256.New, []byte(c.secret))
	m.Write([]byte(msg))
	p["signature"], _ = json.Marshal(hex.EncodeToString(m.Sum(nil)))
	id := "c" + strconv.Itoa(c.n)
	frame, err := json.Marshal(map[string]any{"id": id, "method": method, "params": p})
	if err != nil {
		return 0, nil, err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return 0, nil, err
	}
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return 0, nil, err
		}
		var a struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return 0, nil, fmt.Errorf("answer: %w", err)
		}
		if a.ID == id {
			return a.Status, b, nil
		}
	}
}
