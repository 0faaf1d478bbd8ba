package automation

import (
	"errors"
	"fmt"
	"time"
)

// Error is a driver failure with a machine-readable code and a message a
// trader can read. Drivers return it (or wrap it) so that callers can tell a
// rejected order from a lost connection.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, if any
	// VenueCode is the venue's own error code ("-2010" from Binance), ""
	// when the venue gave none; Message then carries the venue's message.
	VenueCode string
	// RetryAfter, when set on a rate_limited error, is how long until the
	// venue's window allows the action again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode gives the code; the queue looks for this method, not the type.
func (e *Error) ErrorCode() string { return string(e.Code) }

// Rejected is the error for an action the broker refused, with its reason.
func Rejected(format string, args ...any) error {
	return &Error{Code: CodeRejected, Message: fmt.Sprintf(format, args...)}
}

// NotConnected is the error for a terminal that cannot be reached.
func NotConnected(format string, args ...any) error {
	return &Error{Code: CodeNotConnected, Message: fmt.Sprintf(format, args...)}
}

// OutcomeUnknown wraps err for an action whose effect at the broker is not
// known (the request may have been sent): it must never be retried blindly.
func OutcomeUnknown(err error, format string, args ...any) error {
	return &Error{Code: CodeOutcomeUnknown, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrUnsupported is returned by a driver for an action it cannot carry out.
var ErrUnsupported = &Error{Code: CodeUnsupported, Message: "operation not supported by this terminal"}

// VenueError is the error for a venue's refusal, keeping its code and
// message.
func VenueError(code Code, venueCode, message string) error {
	return &Error{Code: code, Message: message, VenueCode: venueCode}
}

// RateLimited is the error for an action held back so as not to break the
// venue's rate limit; nothing was sent.
func RateLimited(retryAfter time.Duration, format string, args ...any) error {
	return &Error{Code: CodeRateLimited, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
}

// CodeOf returns the error code carried by err, or CodeInternal.
func CodeOf(err error) Code {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return Code(coded.ErrorCode())
	}
	return CodeInternal
}
