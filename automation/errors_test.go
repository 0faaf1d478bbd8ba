package automation

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCodeOf(t *testing.T) {
	cause := errors.New("connection reset")
	tests := []struct {
		name     string
		err      error
		wantCode Code
		wantText string
	}{
		{"rejected", Rejected("可用资金不足: 需要 %d, 可用 %d", 1050, 900), CodeRejected, "可用资金不足: 需要 1050, 可用 900"},
		{"not connected", NotConnected("terminal %s is not logged in", "ths"), CodeNotConnected, "terminal ths is not logged in"},
		{"outcome unknown keeps its cause", OutcomeUnknown(cause, "order sent, no answer"), CodeOutcomeUnknown, "order sent, no answer: connection reset"},
		{"unsupported", ErrUnsupported, CodeUnsupported, "operation not supported by this terminal"},
		{"wrapped", fmt.Errorf("buy 600000: %w", Rejected("涨停")), CodeRejected, "buy 600000: 涨停"},
		{"plain error", errors.New("boom"), CodeInternal, "boom"},
		{"context error", context.DeadlineExceeded, CodeInternal, "context deadline exceeded"},
		{"cause only", &Error{Code: CodeInternal, Err: cause}, CodeInternal, "connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.wantCode {
				t.Errorf("CodeOf = %q, want %q", got, tt.wantCode)
			}
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("Error() = %q, want %q", got, tt.wantText)
			}
		})
	}
	if !errors.Is(OutcomeUnknown(cause, "x"), cause) {
		t.Error("OutcomeUnknown must unwrap to its cause")
	}
}

func TestOrderOpen(t *testing.T) {
	for status, want := range map[string]bool{
		OrderPending: true, OrderPartFilled: true,
		OrderFilled: false, OrderCancelled: false, OrderPartCancelled: false, OrderRejected: false,
	} {
		if got := (Order{Status: status}).Open(); got != want {
			t.Errorf("Open(%s) = %v, want %v", status, got, want)
		}
	}
	if !StateReady.Healthy() || StateReconnecting.Healthy() {
		t.Error("only ready is healthy")
	}
}
