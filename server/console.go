package server

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The web console (console/): plain HTML, CSS and JavaScript embedded in
// the binary, nothing to build. It calls /api/v1 from the same origin, so
// the browser guard lets it through without a CORS entry, and it stays
// within the rate limit (events push the changes; a 5s refresh of the
// lanes; reads wait out a 429).
//
//go:embed console
var consoleFiles embed.FS

// consoleCSP allows the console's own files and calls only: no inline
// script, no other origin, no framing.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// consoleHandler serves the console's files under /console/.
func consoleHandler() gin.HandlerFunc {
	sub, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		r := c.Request.Clone(c.Request.Context())
		r.URL.Path = c.Param("file")
		files.ServeHTTP(c.Writer, r)
	}
}
