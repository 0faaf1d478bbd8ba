package ctpbee

import (
	"fmt"
	"net/url"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Options are a ctpbee terminal's [terminals.options] (DRIVERS.md). The
// CTP credentials are named by *_env options and read from the
// environment; the rest are /login's plain fields.
type Options struct {
	// URL is the ctpbee_backend service, such as "http://192.168.1.30:5000".
	URL string `toml:"url"`
	// AuthorizationEnv names the variable holding /login's authorization
	// code (required).
	AuthorizationEnv string `toml:"authorization_env"`
	// UserIDEnv and PasswordEnv name the variables holding the CTP
	// account and its password (required).
	UserIDEnv   string `toml:"userid_env"`
	PasswordEnv string `toml:"password_env"`
	// BrokerID is the futures company's CTP broker id ("9999" on SimNow).
	BrokerID string `toml:"brokerid"`
	// AuthCodeEnv names the variable holding the CTP authentication code.
	AuthCodeEnv string `toml:"auth_code_env"`
	// AppID is the CTP product name ("simnow_client_test").
	AppID string `toml:"appid"`
	// Interface is ctpbee's interface (default "ctp").
	Interface string `toml:"interface"`
	// TDAddress and MDAddress are the trading and market data fronts.
	TDAddress string `toml:"td_address"`
	MDAddress string `toml:"md_address"`
	// RequestTimeout bounds each HTTP request (default "15s"); an
	// operation's own deadline bounds it further.
	RequestTimeout duration `toml:"request_timeout"`
}

func defaultOptions() Options {
	return Options{Interface: "ctp", RequestTimeout: duration(15 * time.Second)}
}

func (o Options) validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return optionError("url", "is required: the ctpbee_backend service, such as \"http://192.168.1.30:5000\"")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return optionError("url", "must be an http:// or https:// URL, got %q", o.URL)
	}
	for _, r := range []struct{ key, value string }{
		{"authorization_env", o.AuthorizationEnv},
		{"userid_env", o.UserIDEnv},
		{"password_env", o.PasswordEnv},
	} {
		if r.value == "" {
			return optionError(r.key, "is required: the name of the environment variable that holds it")
		}
	}
	if o.Interface == "" {
		return optionError("interface", "must not be empty (ctpbee's interface, such as \"ctp\")")
	}
	if o.RequestTimeout <= 0 {
		return optionError("request_timeout", "must be positive, got %s", time.Duration(o.RequestTimeout))
	}
	return nil
}

func optionError(key, format string, args ...any) error {
	return fmt.Errorf("options.%s %s", key, fmt.Sprintf(format, args...))
}

// duration is an option written as a string: "15s", "500ms".
type duration = automation.Duration
