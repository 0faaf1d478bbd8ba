package grafana

import (
	"fmt"
	"strings"
	"unicode"
)

// The dashboard's test parses PromQL with this small parser rather than
// import Prometheus itself (a large dependency for one test). It covers
// what dashboards use: selectors with matchers, ranges and subqueries,
// offsets, function calls, aggregations with by/without before or after
// their arguments, binary operators with bool/on/ignoring/group_left/right,
// numbers, durations and strings. It reports the metric names and the label
// names the expression refers to.

// query is what an expression refers to.
type query struct {
	metrics map[string]bool
	// labels maps a label name to the metrics it is used with; a label of
	// by/without/on applies to every metric of the expression.
	labels map[string]bool
	// selectorLabels pairs a metric with the labels its selector matches.
	selectorLabels map[string][]string
}

type tokenKind int

const (
	tIdent tokenKind = iota
	tNumber
	tString
	tPunct // ( ) { } [ ] , :
	tOp
	tEOF
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(rune(s[j])) {
				j++
			}
			out = append(out, token{tIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			// numbers and durations (5m, 1h30m, 0.95, 1e3)
			j := i + 1
			for j < len(s) && (isIdentPart(rune(s[j])) || s[j] == '.') {
				j++
			}
			out = append(out, token{tNumber, s[i:j], i})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && rune(s[j]) != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{tString, s[i+1 : j], i})
			i = j + 1
		case strings.ContainsRune("(){}[],:", c):
			out = append(out, token{tPunct, string(c), i})
			i++
		default:
			for _, op := range []string{"==", "!=", "=~", "!~", ">=", "<=", "+", "-", "*", "/", "%", "^", ">", "<", "=", "@"} {
				if strings.HasPrefix(s[i:], op) {
					out = append(out, token{tOp, op, i})
					i += len(op)
					goto next
				}
			}
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		next:
		}
	}
	return append(out, token{kind: tEOF, pos: len(s)}), nil
}

func isIdentStart(c rune) bool { return c == '_' || c == ':' || unicode.IsLetter(c) }
func isIdentPart(c rune) bool {
	return c == '_' || c == ':' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

var functions = map[string]bool{
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true,
	"histogram_quantile": true, "abs": true, "ceil": true, "floor": true, "round": true, "clamp": true,
	"clamp_min": true, "clamp_max": true, "absent": true, "vector": true, "scalar": true, "time": true,
	"sort": true, "sort_desc": true, "label_replace": true, "label_join": true, "changes": true, "resets": true,
	"avg_over_time": true, "max_over_time": true, "min_over_time": true, "sum_over_time": true,
	"count_over_time": true, "last_over_time": true, "quantile_over_time": true,
}

var aggregations = map[string]bool{
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "group": true, "stddev": true,
	"stdvar": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true,
}

var binaryKeywords = map[string]bool{"and": true, "or": true, "unless": true}

type parser struct {
	toks []token
	i    int
	q    query
}

// parsePromQL parses expr and returns what it refers to.
func parsePromQL(expr string) (query, error) {
	toks, err := lex(expr)
	if err != nil {
		return query{}, err
	}
	p := &parser{toks: toks, q: query{metrics: map[string]bool{}, labels: map[string]bool{}, selectorLabels: map[string][]string{}}}
	if err := p.expr(); err != nil {
		return query{}, err
	}
	if t := p.peek(); t.kind != tEOF {
		return query{}, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
	}
	return p.q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(kind tokenKind, text string) error {
	t := p.next()
	if t.kind != kind || text != "" && t.text != text {
		return fmt.Errorf("want %q at %d, got %q", text, t.pos, t.text)
	}
	return nil
}

func (p *parser) is(kind tokenKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

// expr is unary (op unary)*, without precedence: only the references
// matter here.
func (p *parser) expr() error {
	if err := p.unary(); err != nil {
		return err
	}
	for {
		t := p.peek()
		if t.kind == tOp && t.text != "=" && t.text != "@" || t.kind == tIdent && binaryKeywords[t.text] {
			p.next()
			if p.peek().kind == tIdent && p.peek().text == "bool" {
				p.next()
			}
			if t := p.peek(); t.kind == tIdent && (t.text == "on" || t.text == "ignoring") {
				p.next()
				if err := p.labelList(); err != nil {
					return err
				}
				if t := p.peek(); t.kind == tIdent && (t.text == "group_left" || t.text == "group_right") {
					p.next()
					if p.is(tPunct, "(") {
						if err := p.labelList(); err != nil {
							return err
						}
					}
				}
			}
			if err := p.unary(); err != nil {
				return err
			}
			continue
		}
		return nil
	}
}

func (p *parser) unary() error {
	if t := p.peek(); t.kind == tOp && (t.text == "-" || t.text == "+") {
		p.next()
	}
	if err := p.primary(); err != nil {
		return err
	}
	return p.postfix()
}

// postfix: [range], [range:step], offset D.
func (p *parser) postfix() error {
	for {
		switch {
		case p.is(tPunct, "["):
			p.next()
			if err := p.expect(tNumber, ""); err != nil {
				return err
			}
			if p.is(tPunct, ":") {
				p.next()
				if p.peek().kind == tNumber {
					p.next()
				}
			}
			if err := p.expect(tPunct, "]"); err != nil {
				return err
			}
		case p.peek().kind == tIdent && p.peek().text == "offset":
			p.next()
			if t := p.peek(); t.kind == tOp && t.text == "-" {
				p.next()
			}
			if err := p.expect(tNumber, ""); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *parser) primary() error {
	t := p.next()
	switch {
	case t.kind == tNumber || t.kind == tString:
		return nil
	case t.kind == tPunct && t.text == "(":
		if err := p.expr(); err != nil {
			return err
		}
		return p.expect(tPunct, ")")
	case t.kind == tPunct && t.text == "{":
		p.i--
		_, err := p.matchers()
		return err
	case t.kind == tIdent && aggregations[t.text]:
		if err := p.grouping(); err != nil {
			return err
		}
		if err := p.args(); err != nil {
			return err
		}
		return p.grouping()
	case t.kind == tIdent && functions[t.text] && p.is(tPunct, "("):
		return p.args()
	case t.kind == tIdent && p.is(tPunct, "("):
		return fmt.Errorf("unknown function %q at %d", t.text, t.pos)
	case t.kind == tIdent:
		p.q.metrics[t.text] = true
		if p.is(tPunct, "{") {
			labels, err := p.matchers()
			if err != nil {
				return err
			}
			p.q.selectorLabels[t.text] = append(p.q.selectorLabels[t.text], labels...)
		}
		return nil
	}
	return fmt.Errorf("unexpected %q at %d", t.text, t.pos)
}

// grouping is an optional by (...) or without (...).
func (p *parser) grouping() error {
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		p.next()
		return p.labelList()
	}
	return nil
}

func (p *parser) labelList() error {
	if err := p.expect(tPunct, "("); err != nil {
		return err
	}
	for !p.is(tPunct, ")") {
		t := p.next()
		if t.kind != tIdent {
			return fmt.Errorf("want a label name at %d, got %q", t.pos, t.text)
		}
		p.q.labels[t.text] = true
		if p.is(tPunct, ",") {
			p.next()
		}
	}
	p.next()
	return nil
}

func (p *parser) args() error {
	if err := p.expect(tPunct, "("); err != nil {
		return err
	}
	for !p.is(tPunct, ")") {
		if err := p.expr(); err != nil {
			return err
		}
		if p.is(tPunct, ",") {
			p.next()
		} else if !p.is(tPunct, ")") {
			return fmt.Errorf("want , or ) at %d", p.peek().pos)
		}
	}
	p.next()
	return nil
}

func (p *parser) matchers() ([]string, error) {
	if err := p.expect(tPunct, "{"); err != nil {
		return nil, err
	}
	var labels []string
	for !p.is(tPunct, "}") {
		name := p.next()
		if name.kind != tIdent {
			return nil, fmt.Errorf("want a label name at %d, got %q", name.pos, name.text)
		}
		op := p.next()
		if op.kind != tOp || (op.text != "=" && op.text != "!=" && op.text != "=~" && op.text != "!~") {
			return nil, fmt.Errorf("want a matcher after %s at %d", name.text, op.pos)
		}
		if err := p.expect(tString, ""); err != nil {
			return nil, err
		}
		labels = append(labels, name.text)
		p.q.labels[name.text] = true
		if p.is(tPunct, ",") {
			p.next()
		}
	}
	p.next()
	return labels, nil
}
