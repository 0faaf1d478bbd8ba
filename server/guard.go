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
