package server

import (
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/automation"
)

// StockQuotes is a simulated terminal whose A-share prices can be set (the
// sim): /sim/quote with a stock_code serves any terminal that has these,
// whatever its driver. cmd/brokerd's tests hold the sim to it.
type StockQuotes interface {
	SetQuote(code string, price float64) error
	Quote(code string) (float64, error)
}

var stockCode = regexp.MustCompile(`^[0-9]{6}$`)

// QuoteRequest sets a simulated price.
type QuoteRequest struct {
	// Terminal is a sim terminal (default: the first configured).
	Terminal  string  `json:"terminal" example:"sim"`
	StockCode string  `json:"stock_code" example:"600000"`
	Price     float64 `json:"price" example:"10.5"`
} //@name QuoteRequest

// QuoteView is a simulated price.
type QuoteView struct {
	Terminal  string  `json:"terminal" example:"sim"`
	StockCode string  `json:"stock_code" example:"600000"`
	Price     float64 `json:"price" example:"10.5"`
} //@name Quote

// simBoard finds the sim terminal a request names (or the default).
func (s *Server) simBoard(c *gin.Context, name string) (string, StockQuotes, bool) {
	if name == "" {
		name = s.order[0]
	}
	t, ok := s.terminals.Terminal(name)
	if !ok {
		s.invalid(c, []fieldError{s.unknownTerminal(name)})
		return "", nil, false
	}
	b, ok := t.(StockQuotes)
	if !ok {
		s.fail(c, codeUnsupported, fmt.Sprintf("terminal %q (driver %s) is not a simulator: its prices cannot be set", name, t.Driver()), nil)
		return "", nil, false
	}
	return name, b, true
}

// getQuote reads a simulated price.
//
//	@Summary		Read a simulated price
//	@Description	The sim terminal's current price of a stock; with ?symbol= instead, a paper exchange's price of a symbol (data is then {terminal, symbol, price} with price an exact decimal string).
//	@Tags			sim
//	@Produce		json
//	@Param			stock_code	query		string	false	"6-digit stock code (the sim)"
//	@Param			symbol		query		string	false	"a symbol such as BTCUSDT (a paper exchange)"
//	@Param			terminal	query		string	false	"a sim terminal (default: the first configured)"
//	@Success		200			{object}	Envelope{data=QuoteView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"bad code, unknown terminal, or not a sim"
//	@Security		BearerAuth
//	@Router			/sim/quote [get]
func (s *Server) getQuote(c *gin.Context) {
	if symbol := c.Query("symbol"); symbol != "" {
		s.getSymbolQuote(c, symbol)
		return
	}
	code := c.Query("stock_code")
	if !stockCode.MatchString(code) {
		s.invalid(c, []fieldError{{Field: "stock_code", Reason: "must be a 6-digit stock code such as 600000"}})
		return
	}
	name, board, ok := s.simBoard(c, c.Query("terminal"))
	if !ok {
		return
	}
	price, err := board.Quote(code)
	if err != nil {
		s.simFailed(c, "read the quote", err)
		return
	}
	s.ok(c, "", QuoteView{Terminal: name, StockCode: code, Price: price})
}

// setQuote sets a simulated price.
//
//	@Summary		Set a simulated price
//	@Description	Sets the sim terminal's last price of a stock: open orders, condition orders and stop-loss/profit orders react to it as to a market move. For a paper exchange send {"terminal": "paper", "symbol": "BTCUSDT", "price": "65000.1"} instead (price an exact decimal, as a string or a number): resting orders it reaches fill.
//	@Tags			sim
//	@Accept			json
//	@Produce		json
//	@Param			request	body		QuoteRequest	true	"the price"
//	@Success		200		{object}	Envelope{data=QuoteView}
//	@Failure		400		{object}	ErrorEnvelope
//	@Failure		401		{object}	ErrorEnvelope
//	@Failure		403		{object}	ErrorEnvelope
//	@Failure		422		{object}	ErrorEnvelope	"bad code or price, unknown terminal, or not a sim"
//	@Security		BearerAuth
//	@Router			/sim/quote [post]
func (s *Server) setQuote(c *gin.Context) {
	raw, err := s.readBody(c)
	if errors.Is(err, errTooLarge) {
		s.fail(c, codeTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes), nil)
		return
	}
	if fields, ferrs, err := decodeObject(raw); err == nil && ferrs == nil && fields["symbol"] != nil {
		s.setSymbolQuote(c, fields) // a paper exchange's price
		return
	}
	req, errs, err := decodeQuote(raw)
	if err != nil {
		s.fail(c, codeBadRequest, `the body is not valid JSON: send {"stock_code": "600000", "price": 10.5}`, nil)
		return
	}
	if len(errs) > 0 {
		s.invalid(c, errs)
		return
	}
	name, board, ok := s.simBoard(c, req.Terminal)
	if !ok {
		return
	}
	if err := board.SetQuote(req.StockCode, req.Price); err != nil {
		s.simFailed(c, "set the quote", err)
		return
	}
	s.log.Info("sim quote set", "terminal", name, "stock_code", req.StockCode, "price", req.Price, "key_name", c.GetString(keyNameKey))
	price, err := board.Quote(req.StockCode)
	if err != nil {
		price = req.Price
	}
	s.ok(c, "quote set", QuoteView{Terminal: name, StockCode: req.StockCode, Price: price})
}

// decodeQuote reads a QuoteRequest strictly, naming every bad field.
func decodeQuote(raw []byte) (QuoteRequest, []fieldError, error) {
	var req QuoteRequest
	fields, errs, err := decodeObject(raw)
	if err != nil || errs != nil {
		return req, errs, err
	}
	bad := func(f, r string) { errs = append(errs, fieldError{Field: f, Reason: r}) }
	for name, v := range fields {
		switch name {
		case "terminal":
			if s, ok := str(v); ok || isNull(v) {
				req.Terminal = s
			} else {
				bad(name, "must be a string naming a sim terminal")
			}
		case "stock_code":
			if s, ok := str(v); ok && stockCode.MatchString(s) {
				req.StockCode = s
			} else {
				bad(name, `must be a 6-digit stock code as a string, such as "600000"`)
			}
		case "price":
			if f, ok := number(v); ok && f > 0 && !math.IsInf(f, 0) {
				req.Price = f
			} else {
				bad(name, "must be a number greater than 0")
			}
		default:
			bad(truncate(name, 64), "unknown field: a quote takes terminal, stock_code, price")
		}
	}
	if _, ok := fields["stock_code"]; !ok {
		bad("stock_code", "is required")
	}
	if _, ok := fields["price"]; !ok {
		bad("price", "is required")
	}
	sortFieldErrors(errs)
	return req, errs, nil
}

// simFailed answers a sim control the sim refused. The sim's checks of a
// code or price come back as plain errors with a message for the trader:
// 422. A coded error says itself what it is.
func (s *Server) simFailed(c *gin.Context, what string, err error) {
	var coded *automation.Error
	if !errors.As(err, &coded) {
		s.fail(c, codeInvalidParams, err.Error(), nil)
		return
	}
	switch coded.Code {
	case automation.CodeInternal:
		s.internal(c, what, err)
	case automation.CodeUnsupported:
		s.fail(c, codeUnsupported, err.Error(), nil)
	default:
		s.fail(c, codeInvalidParams, err.Error(), nil)
	}
}
