package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// rest reads the two public REST endpoints the driver needs: the server's
// clock and the symbols' rules. Neither is signed.
type rest struct {
	base   string
	client *http.Client
	now    func() time.Time
}

// get reads a public endpoint into v.
func (r rest) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.base, "/")+path, nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ve venueError
		if json.Unmarshal(body, &ve) == nil && ve.Code != 0 {
			return fmt.Errorf("GET %s: HTTP %d: %d %s", path, resp.StatusCode, ve.Code, ve.Msg)
		}
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	switch v := v.(type) {
	case *[]byte:
		*v = body
		return nil
	default:
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		return nil
	}
}

// serverOffset measures how far Binance's clock is from ours, taking the
// middle of the round trip as the moment the server read its clock.
func (r rest) serverOffset(ctx context.Context) (time.Duration, error) {
	var t struct {
		ServerTime int64 `json:"serverTime"`
	}
	sent := r.now()
	if err := r.get(ctx, "/fapi/v1/time", &t); err != nil {
		return 0, err
	}
	got := r.now()
	if t.ServerTime <= 0 {
		return 0, fmt.Errorf("GET /fapi/v1/time: no serverTime")
	}
	mid := sent.Add(got.Sub(sent) / 2)
	return time.UnixMilli(t.ServerTime).Sub(mid), nil
}

// symbols reads every symbol's rules and the published rate limits.
func (r rest) symbols(ctx context.Context) (map[string]automation.SymbolInfo, []rateLimit, error) {
	var body []byte
	if err := r.get(ctx, "/fapi/v1/exchangeInfo", &body); err != nil {
		return nil, nil, err
	}
	return decodeExchangeInfo(body)
}
