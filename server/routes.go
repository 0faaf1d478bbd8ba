package server

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes lists the whole API. Every request passes, in order: panic
// recovery, the access log, the HTTP metrics, CORS (which answers
// preflights), the browser guard (foreign origins, rebound hosts); then, on /api/v1 and /metrics, the rate limit and each
// route's scope check, or on a route that needs no key the rebind guard
// (known hosts only, also when a key is set). Swagger UI's static files are not rate limited: a
// browser fetches several at once. The console, /mcp and the docs are
// registered only when Config turns them on.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false // every path answers the envelope, never a redirect
	r.RedirectFixedPath = false
	r.ForwardedByClientIP = false // the client is the connection, never a header
	_ = r.SetTrustedProxies(nil)
	r.Use(s.recoverPanic, s.accessLog, s.observeHTTP, s.cors, s.browserGuard)
	r.NoRoute(s.notFound)
	r.NoMethod(s.methodNotAllowed)

	read, trade, admin := s.require(ScopeRead), s.require(ScopeTrade), s.require(ScopeAdmin)

	api := r.Group("/api/v1", s.rateLimit)
	api.GET("/ping", s.rebindGuard, s.ping)
	api.GET("/system/health", s.rebindGuard, s.health)

	api.POST("/operations/:name", s.requireForSubmit(), s.submit)
	api.GET("/operations/:id/status", read, s.status)
	api.GET("/operations/:id/result", read, s.result)
	api.DELETE("/operations/:id", trade, s.cancel)
	api.GET("/operations/", read, s.listOperations)
	api.GET("/operations", read, s.listOperations)
	api.GET("/history", read, s.listHistory)

	api.GET("/queue/stats", read, s.stats)
	api.POST("/queue/pause", admin, s.pause)
	api.POST("/queue/resume", admin, s.resume)

	api.GET("/system/status", read, s.systemStatus)
	api.GET("/system/info", read, s.info)
	api.POST("/system/reconnect", admin, s.reconnect)

	api.GET("/events", read, s.streamEvents)

	api.GET("/risk", read, s.getRisk)
	api.POST("/risk/halt", admin, s.haltRisk)
	api.POST("/risk/resume", admin, s.resumeRisk)
	api.GET("/schedules", read, s.listSchedules)
	api.POST("/schedules/:name/pause", admin, s.pauseSchedule)
	api.POST("/schedules/:name/resume", admin, s.resumeSchedule)

	api.GET("/sim/quote", read, s.getQuote)
	api.POST("/sim/quote", admin, s.setQuote)

	// The optional surfaces (Config.Console, MCP, Docs): one switched off
	// is not registered at all, so its paths fall to NoRoute and answer
	// 404 not_found in the envelope, as any unknown path does, and nothing
	// behind it (the MCP server, the Swagger UI handler) is built.

	// The web console (console.go): static files, not rate limited (a
	// browser fetches them at once); its API calls are.
	if s.cfg.Console {
		r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusFound, "/console/") })
		r.GET("/console/*file", consoleHandler())
	}

	// MCP for LLM agents (mcp.go): the key is checked there, each tool
	// checks its scope.
	if s.cfg.MCP {
		r.Any("/mcp", s.rateLimit, s.mcpHandler())
	}

	if s.cfg.MetricsAuth {
		r.GET("/metrics", s.rateLimit, read, s.metricsHandler())
	} else {
		r.GET("/metrics", s.rateLimit, s.rebindGuard, s.metricsHandler())
	}

	// The spec (/docs/doc.json) goes with the UI: it is the UI's data,
	// served under its path, and what it tells a stranger (every route,
	// every operation and its parameters, the terminals supporting each)
	// is what an operator who turns the docs off means to stop
	// advertising. Clients need neither: the operations and their schemas
	// are also at GET /api/v1/operations/ (behind the read scope), and the
	// spec ships in the repository as docs/swagger.json.
	if s.cfg.Docs {
		r.GET("/docs", s.rebindGuard, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/docs/index.html") })
		// EasyTHS served ReDoc here; brokerd ships one UI, Swagger's.
		r.GET("/redoc", s.rebindGuard, func(c *gin.Context) { c.Redirect(http.StatusFound, "/docs/index.html") })
		r.GET("/docs/*any", s.rebindGuard, s.docsHandler())
	}
	return r
}

func (s *Server) notFound(c *gin.Context) {
	hint := "the API is under /api/v1; see /docs"
	if !s.cfg.Docs {
		hint = "the API is under /api/v1" // no pointer to docs that are switched off
	}
	s.fail(c, codeNotFound, fmt.Sprintf("no such endpoint: %s %s (%s)",
		c.Request.Method, truncate(c.Request.URL.Path, 200), hint), nil)
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	s.fail(c, codeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s (allowed: %s)",
		c.Request.Method, truncate(c.Request.URL.Path, 200), c.Writer.Header().Get("Allow")), nil)
}
