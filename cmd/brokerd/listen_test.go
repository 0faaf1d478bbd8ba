package main

import (
	"net"
	"strings"
	"testing"
)

// TestListenHintPerCause: a failed listen's hint fits its cause, from real
// failures of this machine's network stack.
func TestListenHintPerCause(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name, host, addr, want string
	}{
		{"port taken", "127.0.0.1", busy.Addr().String(), "another brokerd or EasyTHS"},
		// 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
		{"address not on this host", "192.0.2.10", "192.0.2.10:0", "192.0.2.10 is not an address of this machine: set [api] host"},
		{"name that does not resolve", "brokerd.invalid", "brokerd.invalid:0", "cannot be resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", tt.addr)
			if err == nil {
				ln.Close()
				t.Skipf("listening on %s succeeded here", tt.addr)
			}
			hint := listenHint(tt.host, err)
			if !strings.Contains(hint, tt.want) {
				t.Errorf("%v: hint %q, want %q", err, hint, tt.want)
			}
			if tt.name != "port taken" && strings.Contains(hint, "another brokerd") {
				t.Errorf("%v: the busy-port hint for another cause: %q", err, hint)
			}
		})
	}
}
