package server

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
)

// SymbolQuotes is a paper exchange terminal whose prices can be set: its
// quotes are exact decimals per venue symbol. /sim/quote with a symbol
// serves any terminal that has these, whatever its driver; cmd/brokerd's
// tests hold the paper driver to it.
type SymbolQuotes interface {
	SetQuote(ctx context.Context, symbol string, price decimal.Decimal) error
	Quote(symbol string) (decimal.Decimal, bool)
}

// SymbolQuoteView is a paper exchange's price.
type SymbolQuoteView struct {
	Terminal string `json:"terminal" example:"paper"`
	Symbol   string `json:"symbol" example:"BTCUSDT"`
	Price    string `json:"price" example:"65000.1"`
} //@name SymbolQuote

var venueSymbol = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:-]{0,39}$`)

// paperBoard finds the paper exchange a request names (or the default).
func (s *Server) paperBoard(c *gin.Context, name string) (string, SymbolQuotes, bool) {
	if name == "" {
		name = s.order[0]
	}
	t, ok := s.terminals.Terminal(name)
	if !ok {
		s.invalid(c, []fieldError{s.unknownTerminal(name)})
		return "", nil, false
	}
	b, ok := t.(SymbolQuotes)
	if !ok {
		s.fail(c, codeUnsupported, fmt.Sprintf("terminal %q (driver %s) is not a paper exchange: its prices cannot be set by symbol", name, t.Driver()), nil)
		return "", nil, false
	}
	return name, b, true
}

// getSymbolQuote answers GET /sim/quote?symbol=.
func (s *Server) getSymbolQuote(c *gin.Context, symbol string) {
	if !venueSymbol.MatchString(symbol) {
		s.invalid(c, []fieldError{{Field: "symbol", Reason: `must be a symbol such as "BTCUSDT"`}})
		return
	}
	name, board, ok := s.paperBoard(c, c.Query("terminal"))
	if !ok {
		return
	}
	price, ok := board.Quote(symbol)
	if !ok {
		s.fail(c, codeNotFound, fmt.Sprintf("terminal %q has no quote for %s: set one with POST /api/v1/sim/quote", name, symbol), nil)
		return
	}
	s.ok(c, "", SymbolQuoteView{Terminal: name, Symbol: symbol, Price: price.String()})
}

// setSymbolQuote answers POST /sim/quote with a symbol: a paper exchange's
// price, exact; resting orders it reaches fill.
func (s *Server) setSymbolQuote(c *gin.Context, fields map[string]json.RawMessage) {
	var errs []fieldError
	var terminal, symbol string
	var price decimal.Decimal
	for key, v := range fields {
		switch key {
		case "terminal":
			if t, ok := str(v); ok || isNull(v) {
				terminal = t
			} else {
				errs = append(errs, fieldError{Field: key, Reason: "must be a string naming a paper terminal"})
			}
		case "symbol":
			if t, ok := str(v); ok && venueSymbol.MatchString(t) {
				symbol = t
			} else {
				errs = append(errs, fieldError{Field: key, Reason: `must be a symbol as a string, such as "BTCUSDT"`})
			}
		case "price":
			text := strings.Trim(string(v), `"`)
			d, err := decimal.NewFromString(text)
			if err != nil || !d.IsPositive() || !plainNumber.MatchString(text) {
				errs = append(errs, fieldError{Field: key, Reason: `must be a decimal greater than 0, such as "65000.1" or 65000.1`})
			}
			price = d
		default:
			errs = append(errs, fieldError{Field: truncate(key, 64), Reason: "unknown field: a paper quote takes terminal, symbol, price"})
		}
	}
	if _, ok := fields["price"]; !ok {
		errs = append(errs, fieldError{Field: "price", Reason: "is required"})
	}
	if len(errs) > 0 {
		sortFieldErrors(errs)
		s.invalid(c, errs)
		return
	}
	name, board, ok := s.paperBoard(c, terminal)
	if !ok {
		return
	}
	if err := board.SetQuote(c.Request.Context(), symbol, price); err != nil {
		s.simFailed(c, "set the quote", err)
		return
	}
	s.log.Info("paper quote set", "terminal", name, "symbol", symbol, "price", price.String(), "key_name", c.GetString(keyNameKey))
	if now, ok := board.Quote(symbol); ok {
		price = now
	}
	s.ok(c, "quote set", SymbolQuoteView{Terminal: name, Symbol: symbol, Price: price.String()})
}

var plainNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
