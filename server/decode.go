package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/plugins"
	"github.com/brokerd/brokerd/queue"
)

// SubmitRequest is the body of POST /operations/{name}. Every field is
// optional; an empty body is {}.
type SubmitRequest struct {
	// Params are the operation's parameters (see its tag below).
	Params map[string]any `json:"params"`
	// Priority 0–10, higher runs first (default 0).
	Priority int `json:"priority" minimum:"0" maximum:"10" example:"5"`
	// Terminal to run on (default: the first configured).
	Terminal string `json:"terminal" example:"sim"`
	// Timeout in seconds for the execution (default: [queue] operation_timeout).
	Timeout float64 `json:"timeout" example:"30"`
	// ExpireAfter in seconds: cancelled (expired) if not started by then.
	ExpireAfter float64 `json:"expire_after" example:"60"`
	// ClientID is an idempotency key, like the Idempotency-Key header.
	ClientID string `json:"client_id" example:"order-20260102-0001"`
	// NotBefore holds the operation queued until then: an RFC 3339 time,
	// or a number of seconds from now (at most 7 days ahead).
	NotBefore string `json:"not_before" example:"2026-12-02T14:55:00+08:00"`
} //@name SubmitRequest

// submitBody is a decoded SubmitRequest.
type submitBody struct {
	params      json.RawMessage // never empty: {} when absent
	priority    int
	terminal    string
	timeout     time.Duration
	expireAfter time.Duration
	clientID    string
	// not_before: a time, or seconds after the submit (decodeNotBefore).
	notBefore   time.Time
	notBeforeIn time.Duration
}

// Limits of the submit fields.
const (
	maxSeconds  = 24 * 60 * 60 // timeout, expire_after, wait
	maxKeyBytes = 200          // idempotency keys
)

var (
	errMalformed = errors.New("the body is not JSON")
	submitFields = []string{"params", "priority", "terminal", "timeout", "expire_after", "client_id", "not_before"}
)

// decodeSubmit reads a submit body. The body must be JSON (else
// errMalformed, a 400); a field of the wrong type or out of range is named
// in the returned field errors (a 422), all of them at once.
func decodeSubmit(body []byte) (submitBody, []fieldError, error) {
	out := submitBody{params: json.RawMessage("{}")}
	fields, errs, err := decodeObject(body)
	if err != nil || fields == nil {
		return out, errs, err
	}
	twice := make(map[string]bool, len(errs))
	for _, e := range errs {
		twice[e.Field] = true
	}
	bad := func(field, reason string) { errs = append(errs, fieldError{Field: field, Reason: reason}) }
	for name, raw := range fields {
		if twice[name] {
			continue // given twice: already named
		}
		if isNull(raw) {
			continue // null is the default, as if absent
		}
		switch name {
		case "params":
			if raw[0] != '{' {
				bad("params", "must be an object of the operation's parameters")
				continue
			}
			out.params = raw
		case "priority":
			f, ok := number(raw)
			switch {
			case !ok || f != math.Trunc(f):
				bad("priority", "must be an integer from 0 to 10")
			case f < queue.MinPriority || f > queue.MaxPriority:
				bad("priority", fmt.Sprintf("must be from 0 to 10 (higher runs first), not %s", raw))
			default:
				out.priority = int(f)
			}
		case "terminal":
			if s, ok := str(raw); ok {
				out.terminal = s
			} else {
				bad("terminal", "must be a string naming a configured terminal")
			}
		case "timeout", "expire_after":
			f, ok := number(raw)
			if !ok || f <= 0 || f > maxSeconds {
				bad(name, fmt.Sprintf("must be a number of seconds greater than 0 and at most %d", maxSeconds))
				continue
			}
			d := seconds(f)
			if name == "timeout" {
				out.timeout = d
			} else {
				out.expireAfter = d
			}
		case "client_id":
			s, ok := str(raw)
			if !ok {
				bad("client_id", "must be a string (an idempotency key)")
				continue
			}
			if reason := checkKey(s); reason != "" {
				bad("client_id", reason)
				continue
			}
			out.clientID = s
		case "not_before":
			at, in, reason := decodeNotBefore(raw)
			if reason != "" {
				bad("not_before", reason)
				continue
			}
			out.notBefore, out.notBeforeIn = at, in
		default:
			bad(truncate(name, 64), "unknown field: a submit takes "+strings.Join(submitFields, ", "))
		}
	}
	sortFieldErrors(errs)
	return out, errs, nil
}

// decodeObject reads a body that must be a JSON object: empty is {}; not
// JSON at all is errMalformed (400); JSON but not an object is a field
// error (422) and no fields. A key given twice is a field error too (422),
// returned with the fields.
func decodeObject(body []byte) (map[string]json.RawMessage, []fieldError, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return map[string]json.RawMessage{}, nil, nil
	}
	if !json.Valid(body) {
		return nil, nil, errMalformed
	}
	if body[0] != '{' {
		return nil, []fieldError{{Field: "body", Reason: `must be a JSON object such as {"params": {...}}`}}, nil
	}
	fields, repeated := plugins.ObjectMembers(body)
	return fields, duplicateErrors(repeated), nil
}

// sortFieldErrors orders errors by field, so that answers do not depend on
// a map's order.
func sortFieldErrors(errs []fieldError) {
	slices.SortStableFunc(errs, func(a, b fieldError) int { return strings.Compare(a.Field, b.Field) })
}

// checkKey says what is wrong with an idempotency key, "" if nothing. The
// same rule holds for the Idempotency-Key header and client_id: white space
// around a key is refused, never trimmed, so that " ws-1" can neither be
// a second order beside "ws-1" nor silently become it.
func checkKey(k string) string {
	switch {
	case strings.TrimSpace(k) == "":
		return "must not be empty"
	case strings.TrimSpace(k) != k:
		return "must not begin or end with white space (send the key exactly as you will send it again)"
	case len(k) > maxKeyBytes:
		return fmt.Sprintf("must be at most %d bytes", maxKeyBytes)
	case !utf8.ValidString(k):
		return "must be valid UTF-8"
	}
	return ""
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// number decodes a JSON number (not a numeric string).
func number(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func str(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// querySeconds reads a query parameter of seconds (fractional allowed):
// given is false when it is absent.
func querySeconds(c *gin.Context, name string) (d time.Duration, given bool, fe *fieldError) {
	v, ok := c.GetQuery(name)
	if !ok {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxSeconds {
		return 0, false, &fieldError{Field: name, Reason: fmt.Sprintf("must be a number of seconds from 0 to %d, such as 0.5", maxSeconds)}
	}
	return seconds(f), true, nil
}

// readBody reads a request body up to the limit. A larger body is
// errTooLarge.
func (s *Server) readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	// The net/http writer (not gin's wrapper) learns of an oversized body
	// and closes the connection cleanly after the 413.
	var w http.ResponseWriter = c.Writer
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = u.Unwrap()
	}
	r := http.MaxBytesReader(w, c.Request.Body, s.cfg.MaxBodyBytes)
	b, err := io.ReadAll(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	return b, err
}

var errTooLarge = errors.New("request body too large")
