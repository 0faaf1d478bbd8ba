package binancetest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// handleOpenOrders is GET /fapi/v1/openOrders: the key in X-MBX-APIKEY,
// the signature over the query string as sent (everything before
// &signature=), the same timestamp rule and rate limits as the WebSocket
// API (weight 1 with a symbol, 40 without).
func (s *Server) handleOpenOrders(w http.ResponseWriter, r *http.Request) {
	fail := func(e *apiError) {
		if e.status == 429 || e.status == 418 {
			if e.data != nil {
				secs := (e.data["retryAfter"] - e.data["serverTime"] + 999) / 1000
				w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
			}
		}
		writeJSON(w, e.status, map[string]any{"code": e.code, "msg": e.msg})
	}
	s.mu.Lock()
	revoked := s.revoked
	s.received = append(s.received, Received{Method: "GET /fapi/v1/openOrders"})
	s.mu.Unlock()
	if revoked || r.Header.Get("X-MBX-APIKEY") != s.cfg.APIKey {
		fail(&apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."})
		return
	}
	q := r.URL.Query()
	method := "openOrders.all"
	if q.Get("symbol") != "" {
		method = "openOrders"
	}
	s.mu.Lock()
	limited := s.limitLocked(method)
	s.mu.Unlock()
	if limited != nil {
		fail(limited)
		return
	}
	raw := r.URL.RawQuery
	i := strings.LastIndex(raw, "&signature=")
	if i < 0 {
		fail(malformed("signature"))
		return
	}
	sig, err := url.QueryUnescape(raw[i+len("&signature="):])
	if err != nil || !s.verifyRaw(raw[:i], sig) {
		fail(&apiError{status: 400, code: -1022, msg: "Signature for this request is not valid."})
		return
	}
	s.mu.Lock()
	s.signatures = append(s.signatures, sig)
	s.mu.Unlock()
	p := map[string]json.RawMessage{}
	for _, k := range []string{"timestamp", "recvWindow"} {
		if v := q.Get(k); v != "" {
			p[k] = json.RawMessage(v)
		}
	}
	if e := s.checkTimestamp(p); e != nil {
		fail(e)
		return
	}
	symbol := q.Get("symbol")
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Sorted(func(yield func(int64) bool) {
		for id := range s.eng.resting {
			if !yield(id) {
				return
			}
		}
	})
	out := []map[string]any{}
	for _, id := range ids {
		o := s.eng.resting[id]
		if symbol == "" || o.Symbol == symbol {
			out = append(out, s.orderJSON(o))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// verifyRaw checks a signature over a payload as sent.
func (s *Server) verifyRaw(payload, sig string) bool {
	if s.cfg.Ed25519Key != nil {
		b, err := base64.StdEncoding.DecodeString(sig)
		return err == nil && ed25519.Verify(s.cfg.Ed25519Key, []byte(payload), b)
	}
	m := hmac.New(sha256.New, []byte(s.cfg.Secret))
	m.Write([]byte(payload))
	return hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(sig))
}
