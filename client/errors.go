package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// Error is a request brokerd refused or could not carry out: its
// error_code (invalid_params, not_found, conflict, queue_full, timeout,
// unauthorized, …), the HTTP status and brokerd's message.
type Error struct {
	Status  int
	Code    string
	Message string
	// Data is the answer's data: the bad fields of an invalid_params,
	// the operation of a conflict, the status of a timeout.
	Data json.RawMessage
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("brokerd: %s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("brokerd: %s (HTTP %d, %s)", e.Message, e.Status, e.Code)
}

// FieldError is one bad field of an invalid_params answer: params.quantity,
// priority, Idempotency-Key, …
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Fields lists the bad fields of an invalid_params answer (nil for other
// errors).
func (e *Error) Fields() []FieldError {
	var v struct {
		Errors []FieldError `json:"errors"`
	}
	if len(e.Data) == 0 || json.Unmarshal(e.Data, &v) != nil {
		return nil
	}
	return v.Errors
}

// Code is the error_code of err when it is (or wraps) an *Error, else "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrUnreachable is wrapped by the errors of calls that got no answer from
// brokerd: refused connections, resets, DNS failures.
var ErrUnreachable = errors.New("brokerd is unreachable")

type unreachableError struct {
	url string
	err error
	// maybeSent: the connection broke after a request that acts (a submit
	// without a key, a cancel, a pause) may have reached brokerd.
	maybeSent bool
}

func (e *unreachableError) Error() string {
	if e.maybeSent {
		return fmt.Sprintf("brokerd at %s did not answer: %v; the request may have reached it: look (status, history) before sending it again, or send it with an idempotency key", e.url, e.err)
	}
	return fmt.Sprintf("brokerd at %s is unreachable: %v", e.url, e.err)
}

// notSent reports whether err proves the request never left: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }
