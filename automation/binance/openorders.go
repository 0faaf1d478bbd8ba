package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// symbolRule is what a futures symbol is made of; the open orders query
// carries it unescaped in its signed query string.
var symbolRule = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)

// OpenOrders is GET /fapi/v1/openOrders on rest_url: Binance's futures
// WebSocket API has no open orders request. The query is signed like a
// WebSocket request (timestamp from the server's clock, recvWindow, the
// sorted raw parameters) with the key in the X-MBX-APIKEY header.
func (t *Terminal) OpenOrders(ctx context.Context, symbol string) ([]automation.ExchangeOrder, error) {
	method := "openOrders"
	p := params{}
	if symbol != "" {
		if !symbolRule.MatchString(symbol) {
			return nil, automation.Rejected("symbol %q is not a Binance futures symbol", symbol)
		}
		p["symbol"] = symbol
	} else {
		method = "openOrders.all"
	}
	if t.revoked() {
		return nil, &automation.Error{Code: automation.CodeNotConnected, VenueCode: "-2015", Message: "binance refuses the API key"}
	}
	if wait, ok := t.limits.reserve(method); !ok {
		return nil, automation.RateLimited(wait, "binance rate limits: open orders held back for %s; nothing was sent", wait.Round(time.Millisecond))
	}
	p["timestamp"] = t.serverNow().UnixMilli()
	p["recvWindow"] = time.Duration(t.opts.RecvWindow).Milliseconds()
	query := payload(p) // every value is [A-Z0-9]: raw and escaped are the same
	query += "&signature=" + url.QueryEscape(t.signer.sign(query))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(t.opts.RESTURL, "/")+"/fapi/v1/openOrders?"+query, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-MBX-APIKEY", t.apiKey)
	resp, err := t.rest.client.Do(req)
	if err != nil {
		// The URL carries the signature: never quote it.
		return nil, automation.NotConnected("binance GET /fapi/v1/openOrders failed: %v", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, automation.NotConnected("binance GET /fapi/v1/openOrders: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		var ve venueError
		if json.Unmarshal(body, &ve) != nil || ve.Code == 0 {
			return nil, fmt.Errorf("binance GET /fapi/v1/openOrders: HTTP %d", resp.StatusCode)
		}
		if resp.StatusCode == 429 || resp.StatusCode == 418 {
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
				t.limits.hold(t.clock().Add(time.Duration(secs) * time.Second))
			} else {
				t.limits.holdWindows()
			}
		}
		return nil, t.venueErr(answer{Status: resp.StatusCode, Error: &ve})
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("decode open orders: %w", err)
	}
	out := make([]automation.ExchangeOrder, 0, len(rows))
	for _, r := range rows {
		o, err := decodeOrder(r)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// unwrapURLError drops the URL (and with it the signature) from a
// client error.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// revoked reports whether Binance refused the key (state error).
func (t *Terminal) revoked() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.revokedMsg != ""
}
