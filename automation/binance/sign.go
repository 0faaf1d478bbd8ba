package binance

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// params are a request's parameters. Values are string (DECIMAL and STRING
// parameters go as JSON strings), int64 (INT parameters go as JSON
// integers) or bool.
type params map[string]any

// payload is what Binance signs: every parameter but signature, sorted by
// name, joined k=v&… with the raw values — no percent-encoding, so that
// ":", "/", "@" and non-ASCII symbols sign as Binance reads them.
func payload(p params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(rawValue(p[k]))
	}
	return b.String()
}

// rawValue is a parameter as it appears in the signature payload.
func rawValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// signer signs a payload with the account's key.
type signer interface {
	sign(payload string) string
	// sessionLogon reports whether the key authorises a whole connection
	// with session.logon (Ed25519 only), after which requests go unsigned.
	sessionLogon() bool
}

// hmacSigner signs with an HMAC key's secret: HMAC-SHA256, lowercase hex.
type hmacSigner struct{ secret []byte }

func (s hmacSigner) sign(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

func (hmacSigner) sessionLogon() bool { return false }

// ed25519Signer signs with an Ed25519 key: the signature in standard
// base64.
type ed25519Signer struct{ key ed25519.PrivateKey }

func (s ed25519Signer) sign(payload string) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, []byte(payload)))
}

func (ed25519Signer) sessionLogon() bool { return true }

// parseEd25519PEM reads an unencrypted PKCS#8 PEM Ed25519 private key (what
// `openssl genpkey -algorithm ed25519` writes). Errors never quote the key.
func parseEd25519PEM(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want an unencrypted PKCS#8 \"PRIVATE KEY\"", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS#8 private key")
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, want Ed25519", key)
	}
	return ed, nil
}
