package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/automation"
)

// Envelope is the shape of every JSON answer. Every key is always present:
// message, data and error_code are null when empty.
type Envelope struct {
	Success   bool    `json:"success"`
	Message   *string `json:"message" swaggertype:"string" extensions:"x-nullable"`
	Data      any     `json:"data" swaggertype:"object"`
	ErrorCode *string `json:"error_code" swaggertype:"string" extensions:"x-nullable"`
	Timestamp string  `json:"timestamp" example:"2026-01-02T10:30:00.123456+08:00"`
} //@name Envelope

// ErrorEnvelope is the envelope of a failed request (for the docs).
type ErrorEnvelope struct {
	Success   bool   `json:"success" example:"false"`
	Message   string `json:"message" example:"params.quantity: must be a multiple of 100"`
	Data      any    `json:"data" swaggertype:"object" extensions:"x-nullable"`
	ErrorCode string `json:"error_code" example:"invalid_params"`
	Timestamp string `json:"timestamp" example:"2026-01-02T10:30:00.123456+08:00"`
} //@name ErrorEnvelope

// Error codes of the API (all defined in automation); each has one HTTP
// status (codeStatus).
const (
	codeInvalidParams      = string(automation.CodeInvalidParams)
	codeNotFound           = string(automation.CodeNotFound)
	codeUnknownOperation   = string(automation.CodeUnknownOperation)
	codeUnsupported        = string(automation.CodeUnsupported)
	codeConflict           = string(automation.CodeConflict)
	codeQueueFull          = string(automation.CodeQueueFull)
	codeUnavailable        = string(automation.CodeUnavailable)
	codeJournalUnavailable = string(automation.CodeJournalUnavailable)
	codeUnauthorized       = string(automation.CodeUnauthorized)
	codeForbidden          = string(automation.CodeForbidden)
	codeRateLimited        = string(automation.CodeRateLimited)
	codeTimeout            = string(automation.CodeTimeout)
	codeBadRequest         = string(automation.CodeBadRequest)
	codeTooLarge           = string(automation.CodeTooLarge)
	codeMethodNotAllowed   = string(automation.CodeMethodNotAllowed)
	codeNotConnected       = string(automation.CodeNotConnected)
	codeInternal           = string(automation.CodeInternal)
)

// codeStatus is the HTTP status of an answer refused with each code. The
// operation failure codes that never refuse a request themselves (an
// operation that failed is answered 200 with its error_code) are listed
// too, for the day one does.
var codeStatus = map[string]int{
	codeInvalidParams:      http.StatusUnprocessableEntity,
	codeNotFound:           http.StatusNotFound,
	codeUnknownOperation:   http.StatusNotFound,
	codeUnsupported:        http.StatusUnprocessableEntity,
	codeConflict:           http.StatusConflict,
	codeQueueFull:          http.StatusServiceUnavailable,
	codeUnavailable:        http.StatusServiceUnavailable,
	codeJournalUnavailable: http.StatusServiceUnavailable,
	codeUnauthorized:       http.StatusUnauthorized,
	codeForbidden:          http.StatusForbidden,
	codeRateLimited:        http.StatusTooManyRequests,
	codeTimeout:            http.StatusRequestTimeout,
	codeBadRequest:         http.StatusBadRequest,
	codeTooLarge:           http.StatusRequestEntityTooLarge,
	codeMethodNotAllowed:   http.StatusMethodNotAllowed,
	codeNotConnected:       http.StatusBadGateway,
	codeInternal:           http.StatusInternalServerError,
	codeRiskLimit:          http.StatusUnprocessableEntity,

	string(automation.CodeRejected):       http.StatusUnprocessableEntity,
	string(automation.CodeOutcomeUnknown): http.StatusBadGateway,
	string(automation.CodeInterrupted):    http.StatusServiceUnavailable,
	string(automation.CodeExpired):        http.StatusGone,
	string(automation.CodeCancelled):      http.StatusConflict,
	string(automation.CodeHalted):         http.StatusConflict,
}

// timeFormat is RFC 3339 with microseconds and a numeric offset (never
// "Z"), which every Python's datetime.fromisoformat reads.
const timeFormat = "2006-01-02T15:04:05.000000-07:00"

// chinaTime is the one time zone of every timestamp brokerd writes: the
// envelope's, an operation's times, events, and the results' (the plugins
// write China time too): UTC+8, the exchanges' zone, wherever brokerd
// runs. A fixed zone needs no tzdata on Windows.
var chinaTime = time.FixedZone("CST", 8*60*60)

func formatTime(t time.Time) string { return t.In(chinaTime).Format(timeFormat) }

// timeOrNil is t formatted, or nil for the zero time.
func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// stringOrNil is s, or nil when it is empty.
func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ok answers 200 with a successful envelope.
func (s *Server) ok(c *gin.Context, message string, data any) {
	s.reply(c, http.StatusOK, Envelope{Success: true, Message: stringOrNil(message), Data: data})
}

// fail answers the status of code with a failed envelope.
func (s *Server) fail(c *gin.Context, code, message string, data any) {
	status, known := codeStatus[code]
	if !known {
		status = http.StatusInternalServerError
	}
	s.reply(c, status, Envelope{Message: stringOrNil(message), Data: data, ErrorCode: stringOrNil(code)})
}

// failRetry is fail with a Retry-After header, in seconds.
func (s *Server) failRetry(c *gin.Context, code, message string, after time.Duration) {
	secs := int64((after + time.Second - 1) / time.Second)
	c.Header("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	s.fail(c, code, message, nil)
}

func (s *Server) reply(c *gin.Context, status int, env Envelope) {
	env.Timestamp = formatTime(s.now())
	c.Abort()
	c.JSON(status, env)
}

// fieldErrors is the data of an invalid_params answer: every bad field, or
// the first maxReportedFields of them and how many more there were.
type fieldErrors struct {
	Errors []fieldError `json:"errors"`
	// More is how many bad fields are not listed (0: none left out).
	More int `json:"more,omitempty" example:"0"`
} //@name FieldErrors

type fieldError struct {
	Field  string `json:"field" example:"params.quantity"`
	Reason string `json:"reason" example:"must be a multiple of 100"`
} //@name FieldError

// maxReportedFields bounds an invalid_params answer: a body of 60,000
// unknown keys must not buy a 10 MB answer (nor the time to build it), and
// nobody reads past the first screenful anyway.
const maxReportedFields = 50

// invalid answers 422 invalid_params naming every bad field, up to
// maxReportedFields of them and then how many more.
func (s *Server) invalid(c *gin.Context, errs []fieldError) {
	more := 0
	if len(errs) > maxReportedFields {
		more = len(errs) - maxReportedFields
		errs = errs[:maxReportedFields]
	}
	var msg strings.Builder
	msg.WriteString("invalid request: ")
	for i, e := range errs {
		if i > 0 {
			msg.WriteString("; ")
		}
		msg.WriteString(e.Field)
		msg.WriteString(": ")
		msg.WriteString(e.Reason)
	}
	if more > 0 {
		fmt.Fprintf(&msg, "; and %d more", more)
	}
	s.fail(c, codeInvalidParams, msg.String(), fieldErrors{Errors: errs, More: more})
}
