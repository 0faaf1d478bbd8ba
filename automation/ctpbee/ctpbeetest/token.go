package ctpbeetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The backend's tokens are PyJWT HS256 tokens of
// {"exp", "iat", "iss": "ctpbee", "data": {"login_time", "userid"}},
// valid for 7 days (10 s leeway), and only for the latest login.

type claims struct {
	Exp  int64  `json:"exp"`
	Iat  int64  `json:"iat"`
	Iss  string `json:"iss"`
	Data struct {
		LoginTime int64  `json:"login_time"`
		UserID    string `json:"userid"`
	} `json:"data"`
}

func signToken(key []byte, c claims) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	body, _ := json.Marshal(c)
	unsigned := head + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

var errBadToken = errors.New("token error")

func verifyToken(key []byte, token string, now time.Time) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, errBadToken
	}
	enc := base64.RawURLEncoding
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, errBadToken
	}
	body, err := enc.DecodeString(parts[1])
	var c claims
	if err != nil || json.Unmarshal(body, &c) != nil || c.Data.UserID == "" {
		return claims{}, errBadToken
	}
	if now.Unix() > c.Exp+10 {
		return claims{}, errBadToken
	}
	return c, nil
}
