// Package plugins holds one plugin per operation: a declarative parameter
// schema, written once, that drives validation at submit, the operation
// listing and the API docs, and an Execute against a terminal.
//
// The A-share set (the 15 operations of EasyTHS) lives in one file per
// operation (buy.go, sell.go, …); the rules they share (stock codes, lots,
// price ticks, the notional cap) are in rules.go, the schema engine in
// validate.go, the tables that return_type str/markdown render in table.go.
//
// Decisions a script author meets (details where they are made):
//   - Every bad field is reported at once, as params.<name> with a reason;
//     unknown and repeated parameters are errors (validate.go).
//   - Numbers may be sent as strings in plain decimal notation ("10.50");
//     stock codes must be strings, never numbers (validate.go).
//   - A price with more decimals than its tick allows is refused, never
//     rounded (rules.go).
//   - null, and "" for an optional string, mean "not given".
//   - Params.JSON is canonical (sorted keys, defaults filled in), so the
//     same request always hashes the same.
//   - return_type json and dict give rows; str and markdown a table, as a
//     string, in the same key of the result (table.go).
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

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
	// NumberHint, for a string parameter, is the reason given when a
	// number is sent instead (a stock code loses its leading zeros).
	NumberHint string `json:"-"`
	// Default is used when the parameter is absent.
	Default       any    `json:"default,omitempty"`
	Description   string `json:"description"`    // Chinese, as EasyTHS documents it
	DescriptionEn string `json:"description_en"` // English
	Example       any    `json:"example,omitempty"`

	pattern *regexp.Regexp // Pattern, compiled when the plugin is registered
}

// The parameter types a schema may use.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	// TypeDecimal is an exact decimal (prices and quantities of the
	// exchange set): a JSON number or a string in plain notation, read as
	// a decimal.Decimal, never a float64, and answered as a string.
	TypeDecimal = "decimal"
)

// FieldError names one bad field and says why it is bad.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e FieldError) String() string { return e.Field + ": " + e.Reason }

// Result is what an operation returns: the data scripts read, and a message
// a person reads.
type Result struct {
	Data    any
	Message string
}

// Call is one execution of a plugin.
type Call struct {
	Terminal automation.Terminal
	// Params are validated, defaults filled in.
	Params Params
	// Now is the instant the execution starts: results are stamped with
	// it and relative time ranges (近一周, …) count back from it.
	Now time.Time
	// ClientOrderID is the caller's idempotency key; order plugins pass
	// it to the venue as the client order id.
	ClientOrderID string
	// OperationID is the queue's id of the operation: the exchange set
	// derives the client order id from it when there is no key.
	OperationID string
}

// Plugin is one operation.
type Plugin struct {
	Name          string // the operation name: "buy"
	Title         string // EasyTHS's plugin name: "BuyOperation"
	Description   string // Chinese
	DescriptionEn string
	Version       string
	Params        []Param
	// Example is a valid params object, shown in the API docs.
	Example map[string]any
	// SideEffect marks operations that change the account (orders, cancels,
	// repo, condition orders): a timeout of one is an unknown outcome.
	SideEffect bool
	// Check applies rules that span fields (lot size by code, notional
	// cap, profit above loss) to params already validated one by one and
	// with defaults filled in. A field that failed on its own is absent
	// from p, so Check must look before it leans on one.
	Check func(p Params) []FieldError
	// Defaults fills in, before Check, the defaults that depend on another
	// field (a LIMIT order's time in force), so that the canonical params
	// hold them. Nil: none.
	Defaults func(p Params)
	// Fits applies the rules that depend on the target terminal (a
	// symbol's tick and step, whether it takes an offset) to params that
	// passed the schema and Check. Nil: no such rules.
	Fits func(p Params, t automation.Terminal) []FieldError
	// Accepts reports whether a terminal is of the kind the plugin drives
	// (a StockBroker for the A-share set); nil accepts every terminal.
	Accepts func(t automation.Terminal) bool
	// Execute carries the operation out on a terminal.
	Execute func(ctx context.Context, c Call) (Result, error)
}

// Params are validated parameters, defaults filled in, keyed by name.
// Strings are string, integers int64, numbers float64, decimals
// decimal.Decimal, booleans bool;
// an optional parameter without a default is absent.
type Params map[string]any

// JSON is the canonical encoding of p: keys sorted, so that the same
// request always encodes (and hashes) the same. Params made by Validate
// always encode; a hand-made map holding something JSON cannot carry (NaN)
// encodes as null, which no operation with a required field accepts.
func (p Params) JSON() json.RawMessage {
	if p == nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(map[string]any(p)) // maps marshal with sorted keys
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func (p Params) str(name string) string {
	s, _ := p[name].(string)
	return s
}

func (p Params) int(name string) int64 {
	n, _ := p[name].(int64)
	return n
}

func (p Params) float(name string) float64 {
	f, _ := p[name].(float64)
	return f
}

func (p Params) decimal(name string) decimal.Decimal {
	d, _ := p[name].(decimal.Decimal)
	return d
}

func (p Params) bool(name string) bool {
	b, _ := p[name].(bool)
	return b
}

// has reports whether the parameter holds a valid value.
func (p Params) has(name string) bool {
	v, ok := p[name]
	_, bad := v.(badValue)
	return ok && !bad
}

// given reports whether the parameter was sent, valid or not: a rule
// such as "exactly one of" must not ask for a field that was sent but bad.
func (p Params) given(name string) bool {
	_, ok := p[name]
	return ok
}

// ErrUnknownOperation is returned (wrapped with the name) for an operation
// no plugin implements.
var ErrUnknownOperation = &automation.Error{Code: automation.CodeUnknownOperation, Message: "unknown operation"}

// ValidationError is the error for parameters that do not pass their
// schema; it lists every bad field.
type ValidationError struct {
	Operation string
	Fields    []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return fmt.Sprintf("invalid parameters for %s: %s", e.Operation, strings.Join(parts, "; "))
}

// ErrorCode makes the queue and the server report invalid_params.
func (e *ValidationError) ErrorCode() string { return string(automation.CodeInvalidParams) }

// Registry knows every plugin by name. It is read-only once built and safe
// for concurrent use.
type Registry struct {
	plugins map[string]*Plugin
	order   []string
	// now is the registry's clock: Execute stamps results with it and
	// turns time ranges into dates with it (WithClock).
	now func() time.Time
}

// Set is a family's operations: the A-share set (StockSet) or the exchange
// set (ExchangeSet). A registry is made of sets whose names are disjoint.
type Set struct {
	Family  string // "stock", "exchange"
	Plugins []*Plugin
}

// StockSet is the 15 A-share operations of EasyTHS, in the order of
// automation.StockOperations.
func StockSet() Set {
	return Set{Family: "stock", Plugins: []*Plugin{
		buyPlugin(), sellPlugin(), marketBuyPlugin(), marketSellPlugin(),
		holdingQueryPlugin(), fundsQueryPlugin(), orderQueryPlugin(), orderCancelPlugin(),
		historicalCommissionQueryPlugin(), reverseRepoBuyPlugin(), reverseRepoQueryPlugin(),
		conditionBuyPlugin(), stopLossProfitPlugin(), conditionOrderQueryPlugin(), conditionOrderCancelPlugin(),
	}}
}

// NewRegistry returns a registry of the given sets' operations, in their
// order. Two sets naming the same operation is a programming error: it
// panics.
func NewRegistry(sets ...Set) *Registry {
	r := &Registry{plugins: make(map[string]*Plugin), now: time.Now}
	for _, set := range sets {
		for _, p := range set.Plugins {
			r.register(p)
		}
	}
	return r
}

// register adds p, compiling its patterns. The plugins are this package's
// own, so a broken schema is a programming error caught by every test.
func (r *Registry) register(p *Plugin) {
	if _, dup := r.plugins[p.Name]; dup {
		panic("plugins: duplicate plugin " + p.Name)
	}
	for i := range p.Params {
		if p.Params[i].Pattern != "" {
			p.Params[i].pattern = regexp.MustCompile(p.Params[i].Pattern)
		}
	}
	r.plugins[p.Name] = p
	r.order = append(r.order, p.Name)
}

// Lookup returns the named plugin.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	p, ok := r.plugins[name]
	return p, ok
}

// Names lists the plugins in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

func (r *Registry) unknown(name string) error {
	return fmt.Errorf("%w %q (known operations: %s)", ErrUnknownOperation, name, strings.Join(r.order, ", "))
}

// Validate checks raw params (a JSON object; empty or null means none)
// against the named operation's schema and, when t is given, against what
// terminal t takes (Fits). It returns the normalized params, or every bad
// field; the error is only for an unknown operation.
func (r *Registry) Validate(name string, raw json.RawMessage, t automation.Terminal) (Params, []FieldError, error) {
	p, ok := r.plugins[name]
	if !ok {
		return nil, nil, r.unknown(name)
	}
	params, errs := p.ValidateFor(raw, t)
	return params, errs, nil
}

// Supported reports whether terminal t can carry out the named operation:
// the plugin exists, drives terminals of t's kind, and t's driver says yes.
func (r *Registry) Supported(name string, t automation.Terminal) bool {
	p, ok := r.plugins[name]
	return ok && p.Supports(t)
}

// Supports reports whether terminal t can carry p out: p drives terminals
// of t's kind, and t's driver says yes.
func (p *Plugin) Supports(t automation.Terminal) bool {
	if t == nil || (p.Accepts != nil && !p.Accepts(t)) {
		return false
	}
	return t.Supports(p.Name)
}

// ExecOptions carries what an execution may need beyond its params.
type ExecOptions struct {
	// ClientOrderID is passed to the venue with orders (the idempotency
	// key), so that an unknown outcome can be reconciled.
	ClientOrderID string
	// OperationID is the queue's id of the operation.
	OperationID string
}

// Execute validates raw again (it is normally the canonical JSON stored at
// submit) and runs the named operation on t. It returns ErrUnknownOperation
// for an unknown name, an error wrapping automation.ErrUnsupported when t
// cannot carry the operation out, a *ValidationError for bad params, and
// otherwise what the plugin returns.
func (r *Registry) Execute(ctx context.Context, t automation.Terminal, name string, raw json.RawMessage) (Result, error) {
	return r.ExecuteWith(ctx, t, name, raw, ExecOptions{})
}

// ExecuteWith is Execute with options.
func (r *Registry) ExecuteWith(ctx context.Context, t automation.Terminal, name string, raw json.RawMessage, opts ExecOptions) (Result, error) {
	p, ok := r.plugins[name]
	if !ok {
		return Result{}, r.unknown(name)
	}
	if !p.Supports(t) {
		return Result{}, unsupported(t, name)
	}
	params, errs := p.Validate(raw)
	if len(errs) > 0 {
		return Result{}, &ValidationError{Operation: name, Fields: errs}
	}
	return r.Run(ctx, t, p, params, opts)
}

// Run carries out plugin p on terminal t with params it validated (at
// submit, by ValidateFor), without checking them again.
func (r *Registry) Run(ctx context.Context, t automation.Terminal, p *Plugin, params Params, opts ExecOptions) (Result, error) {
	// Nothing is sent once the caller has given up, and the error says so:
	// a bare context error would read as "outcome unknown" for an order.
	if ctx.Err() != nil {
		return Result{}, notSent(context.Cause(ctx))
	}
	res, err := p.Execute(ctx, Call{Terminal: t, Params: params, Now: r.now(), ClientOrderID: opts.ClientOrderID, OperationID: opts.OperationID})
	return withVenueCode(res, err), err
}

// withVenueCode keeps a venue's own error code ("-2010") in the data of a
// failed operation, as data.venue_code, beside what the plugin put there.
func withVenueCode(res Result, err error) Result {
	var coded *automation.Error
	if err == nil || !errors.As(err, &coded) || coded.VenueCode == "" {
		return res
	}
	data := map[string]any{}
	if res.Data != nil {
		if b, merr := json.Marshal(res.Data); merr == nil {
			_ = json.Unmarshal(b, &data) // an object, or left empty
		}
	}
	data["venue_code"] = coded.VenueCode
	res.Data = data
	return res
}

// WithClock sets the registry's clock (time.Now by default): results are
// stamped with it and relative time ranges (近一周, …) count back from it.
// Call it before the registry is shared.
func (r *Registry) WithClock(now func() time.Time) *Registry {
	r.now = now
	return r
}

func unsupported(t automation.Terminal, name string) error {
	if t == nil {
		return &automation.Error{Code: automation.CodeUnsupported, Message: "no terminal to run " + name, Err: automation.ErrUnsupported}
	}
	return &automation.Error{
		Code:    automation.CodeUnsupported,
		Message: fmt.Sprintf("terminal %q (driver %s) does not support %s", t.Name(), t.Driver(), name),
		Err:     automation.ErrUnsupported,
	}
}

// paramNames lists the names of p's parameters in schema order.
func (p *Plugin) paramNames() []string {
	names := make([]string, len(p.Params))
	for i, q := range p.Params {
		names[i] = q.Name
	}
	return names
}

func (p *Plugin) param(name string) (*Param, bool) {
	i := slices.IndexFunc(p.Params, func(q Param) bool { return q.Name == name })
	if i < 0 {
		return nil, false
	}
	return &p.Params[i], true
}

// notSent is the error for an operation given up before the terminal was
// called: a deadline that passed while it waited, or a shutdown. It takes
// the context's cause, which tells the two apart even when the deadline
// came from the queue's clock (a cancellation whose cause is the deadline).
func notSent(err error) error {
	code, why := automation.CodeInterrupted, "brokerd stopped it"
	if errors.Is(err, context.DeadlineExceeded) {
		code, why = automation.CodeTimeout, "its deadline passed"
	}
	return &automation.Error{Code: code, Message: "nothing was sent to the terminal: " + why + " before it started", Err: err}
}
