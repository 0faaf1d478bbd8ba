package binancetest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// How the peer authenticates a request: the signature over the sorted raw
// parameters (HMAC-SHA256 hex or Ed25519 base64), session.logon, the key
// and the timestamp against recvWindow.

func malformed(name string) *apiError {
	return refuse(-1102, "Mandatory parameter '%s' was not sent, was empty/null, or malformed.", name)
}

// raw is a parameter's value as Binance signs it: strings unquoted,
// numbers and booleans as written.
func raw(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	if len(v) == 0 || v[0] == '{' || v[0] == '[' || string(v) == "null" {
		return "", false
	}
	return string(v), true
}

// signaturePayload is every parameter but signature, sorted, raw values.
func signaturePayload(p map[string]json.RawMessage) (string, *apiError) {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := raw(p[k])
		if !ok {
			return "", malformed(k)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, "&"), nil
}

// verify checks a signature made with the account's key.
func (s *Server) verify(p map[string]json.RawMessage) *apiError {
	var apiKey, sig string
	if json.Unmarshal(p["apiKey"], &apiKey) != nil || apiKey == "" {
		return malformed("apiKey")
	}
	if json.Unmarshal(p["signature"], &sig) != nil || sig == "" {
		return malformed("signature")
	}
	if apiKey != s.cfg.APIKey {
		return &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."}
	}
	msg, err := signaturePayload(p)
	if err != nil {
		return err
	}
	bad := &apiError{status: 400, code: -1022, msg: "Signature for this request is not valid."}
	if s.cfg.Ed25519Key != nil {
		raw, derr := base64.StdEncoding.DecodeString(sig)
		if derr != nil || !ed25519.Verify(s.cfg.Ed25519Key, []byte(msg), raw) {
			return bad
		}
		return nil
	}
	m := hmac.New(sha256.New, []byte(s.cfg.Secret))
	m.Write([]byte(msg))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return bad
	}
	return nil
}

// checkTimestamp applies Binance's rule: timestamp < serverTime + 1000 and
// serverTime − timestamp ≤ recvWindow.
func (s *Server) checkTimestamp(p map[string]json.RawMessage) *apiError {
	ts, err := intParam(p, "timestamp", true)
	if err != nil {
		return err
	}
	rw, err := intParam(p, "recvWindow", false)
	if err != nil {
		return err
	}
	if rw == 0 {
		rw = 5000
	}
	if rw > 60000 {
		return refuse(-1131, "recvWindow must be less than 60000")
	}
	server := s.now().UnixMilli()
	if ts >= server+1000 {
		return refuse(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
	}
	if server-ts > rw {
		return refuse(-1021, "Timestamp for this request is outside of the recvWindow.")
	}
	return nil
}

// intParam reads an INT parameter, which must be a JSON integer.
func intParam(p map[string]json.RawMessage, name string, required bool) (int64, *apiError) {
	v, ok := p[name]
	if !ok {
		if required {
			return 0, malformed(name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		return 0, malformed(name)
	}
	return n, nil
}

// authenticate: a signature with the account's key, or a connection
// logged on with it; then the timestamp.
func (s *Server) authenticate(c *peerConn, p map[string]json.RawMessage) *apiError {
	if _, ok := p["signature"]; ok {
		if err := s.verify(p); err != nil {
			return err
		}
	} else {
		s.mu.Lock()
		logged := c.loggedOn
		s.mu.Unlock()
		if !logged {
			if _, ok := p["apiKey"]; !ok {
				return malformed("apiKey")
			}
			return malformed("signature")
		}
	}
	return s.checkTimestamp(p)
}

// checkKeyOnly authorises a USER_STREAM request: the apiKey, or a logged
// on connection.
func (s *Server) checkKeyOnly(c *peerConn, p map[string]json.RawMessage) *apiError {
	s.mu.Lock()
	logged := c.loggedOn
	s.mu.Unlock()
	if logged {
		return nil
	}
	var apiKey string
	if json.Unmarshal(p["apiKey"], &apiKey) != nil || apiKey == "" {
		return malformed("apiKey")
	}
	if apiKey != s.cfg.APIKey {
		return &apiError{status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action."}
	}
	return nil
}

func (s *Server) logon(c *peerConn, p map[string]json.RawMessage) (any, *apiError) {
	if err := s.verify(p); err != nil {
		return nil, err
	}
	if s.cfg.Ed25519Key == nil {
		return nil, refuse(-4056, "HMAC_SHA256 API key is not supported.")
	}
	if err := s.checkTimestamp(p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c.loggedOn = true
	s.mu.Unlock()
	return s.sessionStatus(c), nil
}

func (s *Server) sessionStatus(c *peerConn) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := map[string]any{"apiKey": nil, "authorizedSince": nil, "connectedSince": c.opened.UnixMilli(), "returnRateLimits": !c.rateOff, "serverTime": s.nowLocked().UnixMilli()}
	if c.loggedOn {
		st["apiKey"], st["authorizedSince"] = s.cfg.APIKey, s.nowLocked().UnixMilli()
	}
	return st
}
