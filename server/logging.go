package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// accessLog logs one line per request: method, route, path (without the
// query), status, duration, client and the name of the key used. Never a
// header, a key or a body: the Authorization header and the parameters stay
// out of the log.
func (s *Server) accessLog(c *gin.Context) {
	start := s.now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", routeLabel(c)),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", s.now().Sub(start)),
		slog.String("client", remoteHost(c.Request)),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
	}
	if name := c.GetString(keyNameKey); name != "" {
		attrs = append(attrs, slog.String("key_name", name))
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// recoverPanic turns a handler's panic into a logged 500 answer.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v) // the handler asked the server to drop the connection
		}
		s.log.Error("panic while handling a request", "method", c.Request.Method, "route", routeLabel(c),
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			s.fail(c, codeInternal, "internal error: the request was not completed; see the server log", nil)
		}
		c.Abort()
	}()
	c.Next()
}

// routeLabel is the route pattern that matched (never the raw path, which
// carries ids), or "unmatched".
func routeLabel(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// remoteHost is the connection's address without its port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
