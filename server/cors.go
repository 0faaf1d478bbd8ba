package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// corsPolicy answers browsers from the allowed origins only.
type corsPolicy struct {
	origins []string
	any     bool // "*" was configured
}

func newCORSPolicy(origins []string) (*corsPolicy, error) {
	p := &corsPolicy{}
	for _, o := range origins {
		o = NormalizeOrigin(o)
		if o == "*" {
			p.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return nil, fmt.Errorf("server: CORS origin %q must look like https://host[:port]", o)
		}
		p.origins = append(p.origins, o)
	}
	return p, nil
}

// NormalizeOrigin is a configured CORS origin as the policy reads it:
// without surrounding spaces or trailing slashes, in lower case. Whoever
// judges the configured origins (cmd refuses "*" without a key) must judge
// this form, or " *" and "*/" pass the check and still allow every page.
func NormalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
}

// AllowsAnyOrigin reports whether the configured origins let every web page
// call the API, however "*" is spelled.
func AllowsAnyOrigin(origins []string) bool {
	return slices.ContainsFunc(origins, func(o string) bool { return NormalizeOrigin(o) == "*" })
}

func (p *corsPolicy) allows(origin string) bool {
	return p.any || slices.Contains(p.origins, strings.ToLower(origin))
}

const (
	corsMethods = "GET, POST, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Idempotency-Key"
	corsExpose  = "Retry-After, WWW-Authenticate"
)

// cors adds the CORS headers for an allowed origin and answers preflight
// requests (which carry no key) itself.
func (s *Server) cors(c *gin.Context) {
	if !s.corsPolicy.any && len(s.corsPolicy.origins) == 0 {
		return // no browser origin is allowed: no CORS headers at all
	}
	c.Writer.Header().Add("Vary", "Origin") // answers differ by origin: caches must know
	origin := c.GetHeader("Origin")
	if origin == "" {
		return
	}
	allowed := s.corsPolicy.allows(origin)
	if allowed {
		h := c.Writer.Header()
		if s.corsPolicy.any {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", corsExpose)
	}
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		if allowed {
			h := c.Writer.Header()
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
		}
		// A refused origin gets no Allow-* headers: the browser blocks it.
		c.AbortWithStatus(http.StatusNoContent)
	}
}
