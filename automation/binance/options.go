package binance

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Options are the [terminals.options] of a terminal with driver =
// "binance" (DRIVERS.md is the contract). Decode them onto
// DefaultOptions().
type Options struct {
	// URL is the WebSocket API, wss://ws-fapi.binance.com/ws-fapi/v1
	// (testnet wss://testnet.binancefuture.com/ws-fapi/v1).
	URL string `toml:"url"`
	// RESTURL serves /fapi/v1/time (the server-time offset) and
	// /fapi/v1/exchangeInfo (symbol rules), read at every connect.
	RESTURL string `toml:"rest_url"`
	// StreamURL is the user data stream's base (wss://fstream.binance.com/ws);
	// empty turns order updates off.
	StreamURL string `toml:"stream_url"`
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string `toml:"api_key_env"`
	// SecretEnv names the variable holding an HMAC key's secret.
	SecretEnv string `toml:"secret_env"`
	// PrivateKeyFile is an Ed25519 private key (PKCS#8 PEM): requests are
	// then authorised by one session.logon per connection.
	PrivateKeyFile string `toml:"private_key_file"`
	// RecvWindow is how long after its timestamp a request stays valid
	// (at most 60s).
	RecvWindow Duration `toml:"recv_window"`
	// MaxConnectionAge is when a connection is replaced by a new one,
	// ahead of Binance's 24 h limit.
	MaxConnectionAge Duration `toml:"max_connection_age"`
	// RequestTimeout bounds the wait for one answer; an order whose answer
	// does not come in time is then looked up.
	RequestTimeout Duration `toml:"request_timeout"`
}

// DefaultOptions are the options of a terminal configured with nothing but
// its keys.
func DefaultOptions() Options {
	return Options{
		URL:              "wss://ws-fapi.binance.com/ws-fapi/v1",
		RESTURL:          "https://fapi.binance.com",
		RecvWindow:       Duration(5 * time.Second),
		MaxConnectionAge: Duration(23 * time.Hour),
		RequestTimeout:   Duration(10 * time.Second),
	}
}

// Validate reports the first option that cannot work, naming it.
func (o Options) Validate() error {
	if err := checkURL(o.URL, "ws", "wss"); err != nil {
		return optionError("url", "%v", err)
	}
	if err := checkURL(o.RESTURL, "http", "https"); err != nil {
		return optionError("rest_url", "%v", err)
	}
	if o.StreamURL != "" {
		if err := checkURL(o.StreamURL, "ws", "wss"); err != nil {
			return optionError("stream_url", "%v", err)
		}
	}
	if o.APIKeyEnv == "" {
		return optionError("api_key_env", "must name the environment variable holding the API key")
	}
	switch {
	case o.SecretEnv == "" && o.PrivateKeyFile == "":
		return optionError("secret_env", "set secret_env (an HMAC key) or private_key_file (an Ed25519 key)")
	case o.SecretEnv != "" && o.PrivateKeyFile != "":
		return optionError("private_key_file", "set either secret_env or private_key_file, not both")
	}
	if rw := time.Duration(o.RecvWindow); rw <= 0 || rw > time.Minute || rw%time.Millisecond != 0 {
		return optionError("recv_window", "must be whole milliseconds between 1ms and 60s, got %s", rw)
	}
	if a := time.Duration(o.MaxConnectionAge); a < time.Second || a > 24*time.Hour {
		return optionError("max_connection_age", "must be between 1s and 24h, got %s", a)
	}
	if rt := time.Duration(o.RequestTimeout); rt <= 0 {
		return optionError("request_timeout", "must be positive, got %s", rt)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("%q must be a %s URL", raw, strings.Join(schemes, " or "))
}

func optionError(key, format string, args ...any) error {
	return fmt.Errorf("binance option %s: %s", key, fmt.Sprintf(format, args...))
}

// Duration is an option written as a string: "5s", "23h".
type Duration = automation.Duration
