package gateway

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Options are a gateway terminal's [terminals.options] (DRIVERS.md, the
// gateway section). Decode them onto DefaultOptions so that absent keys keep
// their defaults.
type Options struct {
	// URL is the gateway's WebSocket address, ws:// or wss://
	// ("ws://127.0.0.1:9878/ws/v1"). Terminals with the same url share one
	// socket.
	URL string `toml:"url"`
	// Platform is the gateway's name of the venue interface to log in
	// ("huobi_future", "okex", "binance", …).
	Platform string `toml:"platform"`
	// Symbols are the pairs the login subscribes to and trades ("BTC/USDT").
	Symbols []string `toml:"symbols"`
	// AccessKeyEnv and SecretKeyEnv name the environment variables holding
	// the venue's keys; the keys themselves are never written in config.
	AccessKeyEnv string `toml:"access_key_env"`
	SecretKeyEnv string `toml:"secret_key_env"`
	// Futures says the platform holds long and short positions at once:
	// place_order's position_side LONG or SHORT then picks the sign of the
	// gateway's quantity (SHORT is negative), and quantities must be whole
	// contracts (the gateway would truncate them). Default false (spot).
	Futures bool `toml:"futures"`
	// LoginTimeout is how long a login may go without READY (state 6)
	// before the terminal shows as error with the reason (default "30s").
	// It keeps waiting: a late READY makes it ready.
	LoginTimeout duration `toml:"login_timeout"`
	// RequestTimeout is every request's own deadline (default "10s"): the
	// gateway leaves some requests unanswered.
	RequestTimeout duration `toml:"request_timeout"`
	// PingEvery is the JSON ping's period (default "5s"); PongTimeout is how
	// long a ping may go unanswered before the socket is redialled (default
	// "15s"). Both belong to the shared socket: terminals with the same url
	// must agree on them.
	PingEvery   duration `toml:"ping_every"`
	PongTimeout duration `toml:"pong_timeout"`
	// ReconnectMin and ReconnectMax bound the backoff between dials
	// (defaults "500ms" and "30s"; each wait is jittered). Shared per url.
	ReconnectMin duration `toml:"reconnect_min"`
	ReconnectMax duration `toml:"reconnect_max"`
}

// DefaultOptions are the options with every default filled in.
func DefaultOptions() Options {
	return Options{
		LoginTimeout:   duration(30 * time.Second),
		RequestTimeout: duration(10 * time.Second),
		PingEvery:      duration(5 * time.Second),
		PongTimeout:    duration(15 * time.Second),
		ReconnectMin:   duration(500 * time.Millisecond),
		ReconnectMax:   duration(30 * time.Second),
	}
}

// Validate reports the first option that cannot work, naming it.
func (o Options) Validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return optionError("url", `is required, such as "ws://127.0.0.1:9878/ws/v1"`)
	case err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "":
		return optionError("url", "must be a ws:// or wss:// address, got %q", o.URL)
	case strings.TrimSpace(o.Platform) == "":
		return optionError("platform", `is required, such as "huobi_future"`)
	case len(o.Symbols) == 0:
		return optionError("symbols", `must list at least one pair, such as ["BTC/USDT"]`)
	case o.AccessKeyEnv == "":
		return optionError("access_key_env", "must name the environment variable holding the access key")
	case o.SecretKeyEnv == "":
		return optionError("secret_key_env", "must name the environment variable holding the secret key")
	}
	for i, s := range o.Symbols {
		if strings.TrimSpace(s) == "" {
			return optionError(fmt.Sprintf("symbols[%d]", i), "is empty")
		}
	}
	for _, d := range []struct {
		key string
		d   duration
	}{
		{"login_timeout", o.LoginTimeout}, {"request_timeout", o.RequestTimeout},
		{"ping_every", o.PingEvery}, {"pong_timeout", o.PongTimeout},
		{"reconnect_min", o.ReconnectMin}, {"reconnect_max", o.ReconnectMax},
	} {
		if d.d <= 0 {
			return optionError(d.key, "must be a positive duration, got %s", d.d)
		}
	}
	if o.PongTimeout <= o.PingEvery {
		return optionError("pong_timeout", "must be longer than ping_every (%s), got %s", o.PingEvery, o.PongTimeout)
	}
	if o.ReconnectMax < o.ReconnectMin {
		return optionError("reconnect_max", "must not be shorter than reconnect_min (%s), got %s", o.ReconnectMin, o.ReconnectMax)
	}
	return nil
}

// socketConfig is the part of the options that belongs to the shared
// socket, not to one login.
type socketConfig struct {
	url                     string
	pingEvery, pongTimeout  time.Duration
	reconnectMin, reconnect time.Duration
}

func (o Options) socket() socketConfig {
	return socketConfig{
		url:          o.URL,
		pingEvery:    time.Duration(o.PingEvery),
		pongTimeout:  time.Duration(o.PongTimeout),
		reconnectMin: time.Duration(o.ReconnectMin),
		reconnect:    time.Duration(o.ReconnectMax),
	}
}

func optionError(key, format string, args ...any) error {
	return fmt.Errorf("gateway option %s: %s", key, fmt.Sprintf(format, args...))
}

// duration is an option written as a string: "500ms", "30s".
type duration = automation.Duration
