package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Scope is what an API key may do.
type Scope string

const (
	// ScopeRead: operation list, status, results, history, stats, events,
	// system status and info (and /metrics when it is behind a key).
	ScopeRead Scope = "read"
	// ScopeTrade: submit and cancel operations. An operation without side
	// effects (a query: plugin.SideEffect false) needs only ScopeRead.
	ScopeTrade Scope = "trade"
	// ScopeAdmin: pause and resume lanes, reconnect terminals, sim controls.
	ScopeAdmin Scope = "admin"
)

// AllScopes is what a key configured without scopes (the single [api] key)
// may do.
var AllScopes = []Scope{ScopeRead, ScopeTrade, ScopeAdmin}

// APIKey is one Bearer key and what it may do.
type APIKey struct {
	// Name identifies the key in logs; the key itself is never logged.
	Name string
	Key  string
	// Scopes; empty means every scope.
	Scopes []Scope
}

// keyring checks presented keys in constant time: it compares SHA-256
// digests (equal length whatever the key) of every configured key.
type keyring struct {
	keys []storedKey
}

type storedKey struct {
	name   string
	digest [sha256.Size]byte
	scopes []Scope
	weak   bool
}

func newKeyring(keys []APIKey) (*keyring, error) {
	r := &keyring{}
	for i, k := range keys {
		name := k.Name
		if name == "" {
			name = fmt.Sprintf("key%d", i+1)
		}
		if strings.TrimSpace(k.Key) == "" {
			return nil, fmt.Errorf("server: API key %q is empty", name)
		}
		scopes := k.Scopes
		if len(scopes) == 0 {
			scopes = AllScopes
		}
		for _, sc := range scopes {
			if !slices.Contains(AllScopes, sc) {
				return nil, fmt.Errorf("server: API key %q has unknown scope %q (use read, trade or admin)", name, sc)
			}
		}
		d := sha256.Sum256([]byte(k.Key))
		for _, other := range r.keys {
			if other.digest == d {
				return nil, fmt.Errorf("server: API keys %q and %q are the same key", other.name, name)
			}
		}
		r.keys = append(r.keys, storedKey{name: name, digest: d, scopes: slices.Clone(scopes), weak: len(k.Key) < 16})
	}
	return r, nil
}

// open reports whether no key is configured: then everything is allowed.
func (r *keyring) open() bool { return len(r.keys) == 0 }

// find returns the key matching presented. Every configured key is compared,
// so the time taken does not tell which one matched.
func (r *keyring) find(presented string) (*storedKey, bool) {
	d := sha256.Sum256([]byte(presented))
	var found *storedKey
	for i := range r.keys {
		if subtle.ConstantTimeCompare(d[:], r.keys[i].digest[:]) == 1 {
			found = &r.keys[i]
		}
	}
	return found, found != nil
}

var errNoBearer = errors.New("no Bearer key")

// bearer extracts the key of an "Authorization: Bearer KEY" header.
func bearer(header string) (string, error) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return "", errNoBearer
	}
	return strings.TrimSpace(key), nil
}

// keyNameKey is where the matched key's name is kept in the gin context,
// for the access log.
const keyNameKey = "brokerd.key_name"

// require lets through requests whose key has scope, or one of the others
// (any key when no keys are configured).
func (s *Server) require(scope Scope, others ...Scope) gin.HandlerFunc {
	accepted := append([]Scope{scope}, others...)
	return func(c *gin.Context) {
		if s.keys.open() {
			c.Next()
			return
		}
		presented, err := bearer(c.GetHeader("Authorization"))
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="brokerd"`)
			s.fail(c, codeUnauthorized, `missing API key: send the header "Authorization: Bearer <key>"`, nil)
			return
		}
		k, ok := s.keys.find(presented)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="brokerd", error="invalid_token"`)
			s.fail(c, codeUnauthorized, "invalid API key", nil)
			return
		}
		c.Set(keyNameKey, k.name)
		if !slices.ContainsFunc(accepted, func(sc Scope) bool { return slices.Contains(k.scopes, sc) }) {
			s.fail(c, codeForbidden, fmt.Sprintf("API key %q lacks the %q scope this endpoint needs", k.name, scope), nil)
			return
		}
		c.Next()
	}
}

// requireForSubmit is the scope check of POST /operations/{name}: an
// operation with side effects (an order, a cancel) needs ScopeTrade; one
// without (holding_query, funds_query, …) only reads the account, and
// needs ScopeRead (or ScopeTrade: a key that may trade may look). An
// unknown name needs ScopeTrade.
func (s *Server) requireForSubmit() gin.HandlerFunc {
	read, trade := s.require(ScopeRead, ScopeTrade), s.require(ScopeTrade)
	return func(c *gin.Context) {
		if p, ok := s.ops.Lookup(c.Param("name")); ok && !p.SideEffect {
			read(c)
			return
		}
		trade(c)
	}
}
