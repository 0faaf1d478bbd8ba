package automation

// Code is a machine-readable error code: of an operation's failure (its
// error_code), and of an API answer. Every code brokerd gives is defined
// here, once; the queue, the plugins and the HTTP layer use these values,
// and the server maps each to one HTTP status (a test pins every one).
type Code string

// Codes of an operation's failure.
const (
	CodeNotConnected   Code = "not_connected"   // the terminal is not reachable or not logged in; nothing was sent
	CodeRejected       Code = "rejected"        // the broker, the venue (or the sim) said no
	CodeTimeout        Code = "timeout"         // the action did not finish in time; nothing was sent
	CodeOutcomeUnknown Code = "outcome_unknown" // an order may or may not have reached the broker
	CodeInterrupted    Code = "interrupted"     // brokerd stopped before or while the action ran; never re-run
	CodeExpired        Code = "expired"         // not started before expire_after
	CodeCancelled      Code = "cancelled"       // cancelled by a client while queued
	CodeHalted         Code = "halted"          // cancelled while queued by the kill switch (POST /risk/halt)
	CodeRateLimited    Code = "rate_limited"    // held back for the venue's rate limits; nothing was sent
	CodeUnsupported    Code = "unsupported"     // the terminal cannot do this
	CodeInternal       Code = "internal"        // anything else (a panic, an error without a code)
)

// Codes of an API answer that refused a request (besides the ones above).
const (
	CodeInvalidParams      Code = "invalid_params"      // 422: a field is bad; data names each
	CodeUnknownOperation   Code = "unknown_operation"   // 404: no plugin of that name
	CodeNotFound           Code = "not_found"           // 404: no operation of that id
	CodeConflict           Code = "conflict"            // 409: idempotency key reused, not cancellable
	CodeQueueFull          Code = "queue_full"          // 503: the lane is at max_size
	CodeUnavailable        Code = "unavailable"         // 503: shutting down
	CodeJournalUnavailable Code = "journal_unavailable" // 503: the journal cannot be written
	CodeUnauthorized       Code = "unauthorized"        // 401
	CodeForbidden          Code = "forbidden"           // 403
	CodeBadRequest         Code = "bad_request"         // 400: the body is not JSON
	CodeTooLarge           Code = "too_large"           // 413
	CodeMethodNotAllowed   Code = "method_not_allowed"  // 405
	CodeRiskLimit          Code = "risk_limit"          // 422: a risk rule refused the order; data names the rule
)

// Codes lists every code, for the test that maps each to its HTTP status.
var Codes = []Code{
	CodeNotConnected, CodeRejected, CodeTimeout, CodeOutcomeUnknown, CodeInterrupted, CodeExpired,
	CodeCancelled, CodeHalted, CodeRateLimited, CodeUnsupported, CodeInternal,
	CodeInvalidParams, CodeUnknownOperation, CodeNotFound, CodeConflict, CodeQueueFull, CodeUnavailable,
	CodeJournalUnavailable, CodeUnauthorized, CodeForbidden, CodeBadRequest, CodeTooLarge, CodeMethodNotAllowed,
	CodeRiskLimit,
}
