// Package plugins holds one plugin per operation: a declarative parameter
// schema, written once, that drives validation at submit, the operation
// listing and the API docs, and an Execute against a terminal.
package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// Param describes one parameter of an operation. The same description
// validates a request, lists the operation and documents it.
type Param struct {
	Name     string `json:"-"`
	Type     string `json:"type"` // "string", "integer", "number", "boolean"
	Required bool   `json:"required"`
	// Enum lists the allowed values, when the set is closed.
	Enum []any `json:"enum,omitempty"`
	// Minimum / Maximum bound numbers; ExclusiveMinimum makes Minimum strict.
	Minimum          *float64 `json:"minimum,omitempty"`
	ExclusiveMinimum bool     `json:"exclusive_minimum,omitempty"`
	Maximum          *float64 `json:"maximum,omitempty"`
	MultipleOf       float64  `json:"multiple_of,omitempty"`
	// Pattern is a regular expression a string must match entirely.
	Pattern string `json:"pattern,omitempty"`
	// Default is used when the parameter is absent.
	Default       any    `json:"default,omitempty"`
	Description   string `json:"description"`    // Chinese, as EasyTHS documents it
	DescriptionEn string `json:"description_en"` // English
	Example       any    `json:"example,omitempty"`
}

// FieldError names one bad field and says why it is bad.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Result is what an operation returns: the data scripts read, and a message
// a person reads.
type Result struct {
	Data    any
	Message string
}

// Plugin is one operation.
type Plugin struct {
	Name          string
	Description   string // Chinese
	DescriptionEn string
	Version       string
	Params        []Param
	// SideEffect marks operations that change the account (orders, cancels,
	// repo, condition orders): a timeout of one is an unknown outcome.
	SideEffect bool
	// Check applies rules that span fields (lot size by code, notional
	// cap, profit above loss) to params already validated one by one and
	// with defaults filled in.
	Check func(p Params) []FieldError
	// Execute carries the operation out on a terminal.
	Execute func(ctx context.Context, t automation.Terminal, p Params) (Result, error)
}

// Params are validated parameters, defaults filled in, keyed by name.
// Numbers are float64 or int64 as the schema types them; strings are strings.
type Params map[string]any

// Registry knows every plugin by name.
type Registry struct {
	plugins map[string]*Plugin
	order   []string
}

// Lookup returns the named plugin.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	p, ok := r.plugins[name]
	return p, ok
}

// Names lists the plugins in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }
