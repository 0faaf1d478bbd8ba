package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	ginSwagger "github.com/swaggo/gin-swagger"
	"golang.org/x/net/webdav"

	"github.com/brokerd/brokerd/docs"
	"github.com/brokerd/brokerd/plugins"
)

// Regenerate docs/ (docs.go, and swagger.json merged as served) from the
// annotations; scripts/swag.sh check tells whether they are up to date.
//go:generate sh ../scripts/swag.sh

// The swag spec documents the API once, with one generic
// POST /operations/{name}. The operations' parameters live in the plugins'
// schemas, so the spec served at /docs/doc.json is the swag spec merged with
// one concrete path per operation (POST /operations/buy, …): its parameters,
// their rules and an example request, under a tag of its own.

// specCache builds the merged spec once, on first use.
type specCache struct {
	build func() ([]byte, error)
	once  sync.Once
	doc   []byte
	err   error
}

func (c *specCache) get() ([]byte, error) {
	c.once.Do(func() { c.doc, c.err = c.build() })
	return c.doc, c.err
}

// buildSpec merges the swag spec with the registry's schemas.
func (s *Server) buildSpec() ([]byte, error) {
	return mergeSpec([]byte(docs.SwaggerInfo.ReadDoc()), s.operationList(), true)
}

// MergeSpec merges a swag spec (swagger.json as swag writes it) with the
// operations' schemas the way /docs/doc.json does, for no terminal in
// particular (the served one also says which configured terminals support
// each operation). scripts/swag.sh writes docs/swagger.json with it, so
// that the committed spec is the served one. The output is indented.
func MergeSpec(raw []byte, ops Operations) ([]byte, error) {
	descs := ops.Describe()
	list := OperationList{Operations: make(map[string]OperationInfo, len(descs)), Names: ops.Names()}
	for _, name := range list.Names {
		list.Operations[name] = OperationInfo{Description: descs[name]}
	}
	list.Count = len(list.Operations)
	doc, err := mergeSpec(raw, list, false)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "    "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// mergeSpec adds one concrete path per operation to the swag spec, fixes
// what swag leaves invalid or vague (an empty host, one error example for
// every status, a generic submit body without an example), and says which
// of list's terminals support each operation when withTerminals.
func mergeSpec(raw []byte, list OperationList, withTerminals bool) ([]byte, error) {
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("read the generated spec: %w", err)
	}
	// Swagger 2.0 forbids an empty host: without one, clients use the host
	// that served the spec, which is what brokerd means.
	if h, ok := spec["host"].(string); ok && h == "" {
		delete(spec, "host")
	}
	if sc, ok := spec["schemes"].([]any); ok && len(sc) == 0 {
		delete(spec, "schemes")
	} else if spec["schemes"] == nil {
		delete(spec, "schemes")
	}
	paths, _ := spec["paths"].(map[string]any)
	generic, _ := dig(paths, "/operations/{name}", "post").(map[string]any)
	submitProps, _ := dig(spec, "definitions", "SubmitRequest", "properties").(map[string]any)
	if generic == nil || submitProps == nil {
		return nil, errors.New("the generated spec lacks POST /operations/{name} or SubmitRequest: regenerate docs/ with scripts/swag.sh")
	}
	exampleGenericSubmit(spec, list)
	tags := []any{
		map[string]any{"name": "operations", "description": "submit, follow, cancel and list operations; the history"},
		map[string]any{"name": "queue", "description": "the lanes: statistics, pause and resume"},
		map[string]any{"name": "system", "description": "health, status, information, reconnect, ping"},
		map[string]any{"name": "events", "description": "the Server-Sent Events stream"},
		map[string]any{"name": "sim", "description": "controls of the simulated terminal"},
	}
	generic = deepCopy(generic).(map[string]any)
	for _, name := range list.Names {
		info := list.Operations[name]
		op := deepCopy(generic).(map[string]any)
		tag := "operation: " + name
		op["tags"] = []any{tag}
		op["operationId"] = "submit_" + name
		op["summary"] = fmt.Sprintf("%s — %s", name, info.DescriptionEn)
		op["description"] = operationDescription(name, info, withTerminals)
		op["parameters"] = concreteParameters(op["parameters"], name, info, submitProps)
		paths["/operations/"+name] = map[string]any{"post": op}
		tags = append(tags, map[string]any{"name": tag, "description": info.Description.Description + " — " + info.DescriptionEn})
	}
	spec["tags"] = tags
	// The concrete paths replace the generic one: OpenAPI counts
	// /operations/{name} and DELETE's /operations/{id} as the same path,
	// and a concrete path documents more.
	delete(paths, "/operations/{name}")
	exampleErrors(paths)
	return json.Marshal(spec)
}

// operationDescription explains one operation in its path's description.
func operationDescription(name string, info OperationInfo, withTerminals bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s). %s.\n\n", info.Description.Description, info.Name, info.DescriptionEn)
	if info.SideEffect {
		b.WriteString("**Changes the account**: a timeout ends it `outcome_unknown` (check the account before retrying); send an Idempotency-Key.\n\n")
	}
	switch {
	case !withTerminals:
	case len(info.Terminals) == 0:
		b.WriteString("No configured terminal supports it.\n\n")
	default:
		fmt.Fprintf(&b, "Supported by: %s.\n\n", strings.Join(info.Terminals, ", "))
	}
	b.WriteString("Parameters (params):\n\n")
	for _, pname := range info.ParameterOrder {
		p := info.Parameters[pname]
		req := "optional"
		if p.Required {
			req = "required"
		}
		fmt.Fprintf(&b, "- `%s` (%s, %s): %s — %s\n", pname, p.Type, req, p.Description, p.DescriptionEn)
	}
	return b.String()
}

// concreteParameters replaces the generic path's parameters: no {name},
// and a body whose params are the operation's schema, with an example.
func concreteParameters(generic any, name string, info OperationInfo, submitProps map[string]any) []any {
	params, _ := generic.([]any)
	var out []any
	for _, p := range params {
		pm, _ := p.(map[string]any)
		switch pm["in"] {
		case "path":
			continue
		case "body":
			pm = deepCopy(pm).(map[string]any)
			props := deepCopy(submitProps).(map[string]any)
			props["params"] = paramsSchema(info)
			pm["schema"] = map[string]any{
				"type":       "object",
				"properties": props,
				"example":    map[string]any{"params": info.Example, "priority": 0},
			}
			pm["description"] = "the " + name + " parameters and the submit options; an empty body is {}"
			out = append(out, pm)
		default:
			out = append(out, pm)
		}
	}
	return out
}

// paramsSchema is the JSON schema of an operation's params.
func paramsSchema(info OperationInfo) map[string]any {
	props := map[string]any{}
	required := []any{}
	for _, name := range info.ParameterOrder {
		p := info.Parameters[name]
		props[name] = paramSchema(p)
		if p.Required {
			required = append(required, name)
		}
	}
	s := map[string]any{
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
		"example":              info.Example,
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func paramSchema(p plugins.Param) map[string]any {
	m := map[string]any{"type": p.Type, "description": p.Description + " — " + p.DescriptionEn}
	if p.Type == plugins.TypeDecimal {
		// An exact decimal travels as a string ("0.010"); a JSON number is
		// accepted too.
		m["type"], m["format"] = "string", "decimal"
	}
	if len(p.Enum) > 0 {
		m["enum"] = p.Enum
	}
	if p.Minimum != nil {
		m["minimum"] = *p.Minimum
		if p.ExclusiveMinimum {
			m["exclusiveMinimum"] = true
		}
	}
	if p.Maximum != nil {
		m["maximum"] = *p.Maximum
	}
	if p.MultipleOf != 0 {
		m["multipleOf"] = p.MultipleOf
	}
	if p.Pattern != "" {
		m["pattern"] = "^(?:" + p.Pattern + ")$"
	}
	if p.Default != nil {
		m["default"] = p.Default
	}
	if p.Example != nil {
		m["example"] = p.Example
	}
	return m
}

// dig walks nested JSON objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// deepCopy copies decoded JSON, so that each operation's path can be
// changed without touching the others.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

// swaggerUI holds Swagger UI's static files (swaggerui/README.md says
// where they come from). Embedded, they stay in the binary's read-only
// data, paged in from the executable when a browser asks for them: the
// swaggo/files package they were taken from copies all of its files,
// source maps included, into an in-memory file system at init, about 8.5
// MB of heap in every brokerd whether or not anyone opens /docs.
//
//go:embed swaggerui/*.png swaggerui/*.html swaggerui/*.css swaggerui/*.js
var swaggerUI embed.FS

// swaggerAssets serves swaggerUI's files by their base names.
var swaggerAssets = func() http.Handler {
	sub, err := fs.Sub(swaggerUI, "swaggerui")
	if err != nil {
		panic(err) // the embed pattern above names the directory
	}
	return http.FileServerFS(sub)
}()

// docsHandler serves Swagger UI (gin-swagger) and the merged spec.
func (s *Server) docsHandler() gin.HandlerFunc {
	// gin-swagger renders index.html, index.css and swagger-initializer.js
	// from its templates; it would serve the other files through this
	// webdav handler, which is never reached: they come from swaggerAssets.
	ui := ginSwagger.CustomWrapHandler(&ginSwagger.Config{
		URL:                      "doc.json",
		DocExpansion:             "list",
		Title:                    "brokerd API",
		DefaultModelsExpandDepth: 1,
		DeepLinking:              true,
		PersistAuthorization:     true,
	}, &webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()})
	return func(c *gin.Context) {
		switch name := c.Param("any"); name {
		case "", "/":
			c.Redirect(http.StatusMovedPermanently, "/docs/index.html")
		case "/doc.json":
			doc, err := s.spec.get()
			if err != nil {
				s.internal(c, "build the API spec", err)
				return
			}
			c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
		case "/index.html", "/index.css", "/swagger-initializer.js":
			ui(c)
		case "/favicon-16x16.png", "/favicon-32x32.png", "/oauth2-redirect.html", "/swagger-ui.css", "/swagger-ui.js",
			"/swagger-ui-bundle.js", "/swagger-ui-standalone-preset.js":
			r := c.Request.Clone(c.Request.Context())
			r.URL.Path = name
			swaggerAssets.ServeHTTP(c.Writer, r)
		default:
			s.notFound(c)
		}
	}
}
