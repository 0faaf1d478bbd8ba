package binance

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerd/brokerd/automation"
)

func TestOptions(t *testing.T) {
	env := automation.Env{Getenv: func(k string) string {
		return map[string]string{"K": "key", "S": "secret"}[k]
	}}
	base := "url = \"ws://127.0.0.1:1/ws-fapi/v1\"\nrest_url = \"http://127.0.0.1:1\"\napi_key_env = \"K\"\n"
	tests := []struct {
		name, toml, wantErr string
	}{
		{"hmac", base + `secret_env = "S"`, ""},
		{"all options", base + "secret_env = \"S\"\nstream_url = \"ws://127.0.0.1:1/ws\"\nrecv_window = \"10s\"\nmax_connection_age = \"2s\"\nrequest_timeout = \"3s\"", ""},
		{"unknown key", base + "secret_env = \"S\"\nsecret = \"inline\"", "secret"},
		{"no signing key", base, "secret_env"},
		{"both keys", base + "secret_env = \"S\"\nprivate_key_file = \"k.pem\"", "private_key_file"},
		{"secret variable unset", base + `secret_env = "UNSET"`, "UNSET"},
		{"bad url", "url = \"https://x\"\nrest_url = \"http://x\"\napi_key_env = \"K\"\nsecret_env = \"S\"", "url"},
		{"recv window too long", base + "secret_env = \"S\"\nrecv_window = \"61s\"", "recv_window"},
		{"age over a day", base + "secret_env = \"S\"\nmax_connection_age = \"25h\"", "max_connection_age"},
		{"bad duration", base + "secret_env = \"S\"\nrecv_window = \"soon\"", "soon"},
		{"missing key file", base + `private_key_file = "/nonexistent/key.pem"`, "private_key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			term, err := Open(t.Context(), "b", tomlOptions(tt.toml), env)
			if term != nil {
				defer term.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Open: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Open: %v, want an error naming %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret\n") {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
	if got := DefaultOptions(); time.Duration(got.RecvWindow) != 5*time.Second || time.Duration(got.MaxConnectionAge) != 23*time.Hour {
		t.Errorf("defaults %+v", got)
	}
}
