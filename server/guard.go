package server

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// browserGuard refuses what a web page could make a visitor's browser send
// to brokerd on its own. A page on another origin can POST a "simple"
// request (text/plain, no preflight) and place an order; it can also point
// a name of its own at 127.0.0.1 (DNS rebinding) and read the answers as
// same-origin. So: a request carrying an Origin that is neither allowed nor
// brokerd's own is refused, and, when LoopbackHostsOnly is set (brokerd
// without an API key), so is a Host that is not a loopback name. Scripts
// and curl send no Origin and a loopback Host, and pass untouched.
func (s *Server) browserGuard(c *gin.Context) {
	if origin := c.GetHeader("Origin"); origin != "" && !s.corsPolicy.allows(origin) && !sameOrigin(origin, c.Request.Host) {
		s.fail(c, codeForbidden, fmt.Sprintf("request from the web page origin %s refused: list it in [api] cors_origins to allow it", origin), nil)
		c.Abort()
		return
	}
	if s.cfg.LoopbackHostsOnly && !loopbackHost(c.Request.Host) {
		s.fail(c, codeForbidden, fmt.Sprintf("Host %q refused: without an API key brokerd answers only to loopback names (localhost, 127.0.0.1, [::1]); set [api] key to serve other names", c.Request.Host), nil)
		c.Abort()
	}
}

// sameOrigin reports whether origin is the one brokerd itself serves at
// host (Swagger UI's "Try it out").
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rebindGuard holds the routes that need no key to the hosts brokerd is
// known by, also when a key is set (without one, browserGuard already holds
// every route to loopback names; with no key and no such limit, as in
// tests, every route is equally open). A key protects the other routes from a
// page that rebinds its own name to brokerd's address, since the page
// cannot know it; these it does not, and health, metrics and the docs tell
// an attacker what brokerd runs and how busy it is. An IP address in Host
// cannot be a rebound name: the page's origin would be brokerd's own.
func (s *Server) rebindGuard(c *gin.Context) {
	if s.keys.open() || s.cfg.LoopbackHostsOnly || knownHost(c.Request.Host, s.cfg.Hosts) {
		return
	}
	s.fail(c, codeForbidden, fmt.Sprintf("Host %q refused on a route that needs no key: brokerd answers it only to IP addresses, localhost and the names in [api] hosts", truncate(c.Request.Host, 100)), nil)
	c.Abort()
}

// knownHost reports whether a Host header is a loopback name, an IP
// address or one of names.
func knownHost(hostport string, names []string) bool {
	if loopbackHost(hostport) {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.TrimSuffix(host, ".")
	for _, n := range names {
		if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(n), "."), host) {
			return true
		}
	}
	return false
}
