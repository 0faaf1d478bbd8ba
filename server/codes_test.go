package server

import (
	"net/http"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

// Every code brokerd gives has exactly one HTTP status, pinned here: a
// script that branches on the status and one that branches on error_code
// must agree.
func TestEveryCodeHasItsStatus(t *testing.T) {
	want := map[automation.Code]int{
		automation.CodeInvalidParams:      http.StatusUnprocessableEntity,
		automation.CodeUnsupported:        http.StatusUnprocessableEntity,
		automation.CodeRejected:           http.StatusUnprocessableEntity,
		automation.CodeNotFound:           http.StatusNotFound,
		automation.CodeUnknownOperation:   http.StatusNotFound,
		automation.CodeConflict:           http.StatusConflict,
		automation.CodeCancelled:          http.StatusConflict,
		automation.CodeHalted:             http.StatusConflict,
		automation.CodeQueueFull:          http.StatusServiceUnavailable,
		automation.CodeUnavailable:        http.StatusServiceUnavailable,
		automation.CodeJournalUnavailable: http.StatusServiceUnavailable,
		automation.CodeInterrupted:        http.StatusServiceUnavailable,
		automation.CodeUnauthorized:       http.StatusUnauthorized,
		automation.CodeForbidden:          http.StatusForbidden,
		automation.CodeRateLimited:        http.StatusTooManyRequests,
		automation.CodeTimeout:            http.StatusRequestTimeout,
		automation.CodeBadRequest:         http.StatusBadRequest,
		automation.CodeTooLarge:           http.StatusRequestEntityTooLarge,
		automation.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
		automation.CodeNotConnected:       http.StatusBadGateway,
		automation.CodeOutcomeUnknown:     http.StatusBadGateway,
		automation.CodeExpired:            http.StatusGone,
		automation.CodeInternal:           http.StatusInternalServerError,
		automation.CodeRiskLimit:          http.StatusUnprocessableEntity,
	}
	if len(want) != len(automation.Codes) {
		t.Fatalf("%d codes pinned, automation defines %d", len(want), len(automation.Codes))
	}
	for _, code := range automation.Codes {
		if got, ok := codeStatus[string(code)]; !ok || got != want[code] {
			t.Errorf("%s: status %d (known %v), want %d", code, got, ok, want[code])
		}
	}
	if len(codeStatus) != len(automation.Codes) {
		t.Errorf("codeStatus has %d codes, automation %d: a code defined only in server", len(codeStatus), len(automation.Codes))
	}
}
