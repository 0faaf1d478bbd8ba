package easytrader

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Options are an easytrader terminal's [terminals.options], as DRIVERS.md
// fixes them, plus probe_every.
type Options struct {
	// URL is easytrader's server.py, such as "http://192.168.1.20:1430".
	URL string `toml:"url"`
	// Prepare makes the driver POST /prepare at connect (and after the
	// agent is found logged out); false: the agent is already logged in.
	Prepare bool `toml:"prepare"`
	// Broker is /prepare's broker, an easytrader.use name
	// (default "universal_client").
	Broker string `toml:"broker"`
	// UserEnv and PasswordEnv name the environment variables holding the
	// login for /prepare; both optional.
	UserEnv     string `toml:"user_env"`
	PasswordEnv string `toml:"password_env"`
	// ExePath is the client's xiadan.exe for /prepare; optional.
	ExePath string `toml:"exe_path"`
	// RequestTimeout bounds one HTTP call to the agent (default "15s").
	RequestTimeout duration `toml:"request_timeout"`
	// ProbeEvery is how often /balance is read to tell the terminal's
	// health (default "30s").
	ProbeEvery duration `toml:"probe_every"`
}

func defaultOptions() Options {
	return Options{
		Broker:         "universal_client",
		RequestTimeout: duration(15 * time.Second),
		ProbeEvery:     duration(30 * time.Second),
	}
}

func (o Options) validate() (*url.URL, error) {
	if o.URL == "" {
		return nil, errors.New("options.url: the agent's address is required, such as \"http://192.168.1.20:1430\"")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("options.url: %q is not an http(s) URL such as \"http://192.168.1.20:1430\"", o.URL)
	}
	if o.Prepare && o.Broker == "" {
		return nil, errors.New("options.broker: /prepare needs an easytrader broker name such as \"universal_client\"")
	}
	if o.RequestTimeout <= 0 {
		return nil, fmt.Errorf("options.request_timeout: must be positive, got %s", o.RequestTimeout)
	}
	if o.ProbeEvery <= 0 {
		return nil, fmt.Errorf("options.probe_every: must be positive, got %s", o.ProbeEvery)
	}
	return u, nil
}

// duration is an option written as a string: "15s", "500ms".
type duration = automation.Duration
