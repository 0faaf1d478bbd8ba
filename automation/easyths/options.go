package easyths

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Options are an easyths terminal's [terminals.options], as DRIVERS.md
// fixes them, plus probe_every.
type Options struct {
	// URL is the EasyTHS server, such as "http://192.168.1.20:7648".
	URL string `toml:"url"`
	// APIKeyEnv names the environment variable holding EasyTHS's Bearer
	// key; empty when it has none.
	APIKeyEnv string `toml:"api_key_env"`
	// RequestTimeout bounds one HTTP call, and one wait on an operation's
	// /result (default "60s"; the operation's own deadline still rules).
	RequestTimeout duration `toml:"request_timeout"`
	// ProbeEvery is how often /api/v1/system/health is read (default "30s").
	ProbeEvery duration `toml:"probe_every"`
}

func defaultOptions() Options {
	return Options{RequestTimeout: duration(60 * time.Second), ProbeEvery: duration(30 * time.Second)}
}

func (o Options) validate() (*url.URL, error) {
	if o.URL == "" {
		return nil, errors.New("options.url: the EasyTHS server's address is required, such as \"http://192.168.1.20:7648\"")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("options.url: %q is not an http(s) URL such as \"http://192.168.1.20:7648\"", o.URL)
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
