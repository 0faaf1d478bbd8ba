package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/brokerd/brokerd/server"
)

// Config is config.toml. Every key is documented in the shipped file.
type Config struct {
	API       APIConfig        `toml:"api"`
	Queue     QueueConfig      `toml:"queue"`
	Store     StoreConfig      `toml:"store"`
	Log       LogConfig        `toml:"log"`
	Terminals []TerminalConfig `toml:"terminals"`
	// Risk is [risk] (one table, every terminal) or [[risk]] (per
	// terminal); risk.ParseConfig reads it, strictly.
	Risk      any              `toml:"risk"`
	Schedules []ScheduleConfig `toml:"schedules"`
}

type APIConfig struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// Key is a single Bearer key with every scope; env API_KEY overrides it.
	Key string `toml:"key"`
	// Keys are further keys, each with its scopes (read, trade, admin).
	Keys        []KeyConfig `toml:"keys"`
	RateLimit   float64     `toml:"rate_limit"`
	CORSOrigins []string    `toml:"cors_origins"`
	// Docs, Console and MCP serve Swagger UI (/docs), the web console
	// (/console) and the MCP endpoint (/mcp); each off answers 404.
	Docs        bool `toml:"docs"`
	Console     bool `toml:"console"`
	MCP         bool `toml:"mcp"`
	MetricsAuth bool `toml:"metrics_auth"`
	// Hosts are names brokerd is reached by (besides IP addresses and
	// localhost): with a key, the routes that need none answer only them.
	Hosts []string `toml:"hosts"`
}

type KeyConfig struct {
	Name   string   `toml:"name"`
	Key    string   `toml:"key"`
	Scopes []string `toml:"scopes"`
}

type QueueConfig struct {
	MaxSize          int      `toml:"max_size"`
	OperationTimeout Duration `toml:"operation_timeout"`
	ResultTTL        Duration `toml:"result_ttl"`
	ResumeMaxAge     Duration `toml:"resume_max_age"`
}

type StoreConfig struct {
	Path     string `toml:"path"`
	KeepDays int    `toml:"keep_days"`
}

type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

type TerminalConfig struct {
	Name    string         `toml:"name"`
	Driver  string         `toml:"driver"`
	Options map[string]any `toml:"options"`
}

// Duration is a time.Duration written as a string in TOML: "30s", "3h".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like \"30s\", \"500ms\" or \"3h\")", b)
	}
	if v < 0 {
		return fmt.Errorf("%q: a duration cannot be negative", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// defaultConfig is what a key left out of config.toml means.
func defaultConfig() Config {
	return Config{
		API: APIConfig{Host: "127.0.0.1", Port: 7648, Docs: true, Console: true, MCP: true},
		Queue: QueueConfig{
			MaxSize:          1000,
			OperationTimeout: Duration{30 * time.Second},
			ResultTTL:        Duration{3 * time.Hour},
			ResumeMaxAge:     Duration{10 * time.Minute},
		},
		Store: StoreConfig{Path: "brokerd.db", KeepDays: 0},
		Log:   LogConfig{Level: "info", Format: "text"},
	}
}

// loadConfig reads path strictly: an unknown or mistyped key is an error
// that names it. getenv supplies API_KEY.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if k := getenv("API_KEY"); k != "" {
		cfg.API.Key = k
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func parseConfig(raw []byte) (Config, error) {
	cfg := defaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(raw)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, explainTOML(err, raw)
	}
	if err := checkArrayTables(raw); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// durationKeys are the keys written as duration strings.
var durationKeys = [][2]string{{"queue", "operation_timeout"}, {"queue", "result_ttl"}, {"queue", "resume_max_age"}}

// explainTOML turns go-toml's errors into one line that names the key and
// the line, as a person editing the file needs.
func explainTOML(err error, raw []byte) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var keys []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
		}
		return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	var decErr *toml.DecodeError
	if errors.As(err, &decErr) {
		row, col := decErr.Position()
		key := strings.Join(decErr.Key(), ".")
		if words, ok := explainMismatch(key, decErr.Error()); ok && key != "" {
			return fmt.Errorf("line %d, column %d: %s", row, col, words)
		}
		if key != "" {
			return fmt.Errorf("line %d, column %d, key %s: %s", row, col, key, decErr.Error())
		}
		return fmt.Errorf("line %d, column %d: %s", row, col, decErr.Error())
	}
	// go-toml reports a number given for a duration without its key: find it.
	var loose map[string]any
	if toml.Unmarshal(raw, &loose) == nil {
		for _, k := range durationKeys {
			table, _ := loose[k[0]].(map[string]any)
			if v, ok := table[k[1]]; ok {
				if _, isString := v.(string); !isString {
					return fmt.Errorf("key %s.%s: %v is not a duration: write it as a string like \"30s\"", k[0], k[1], v)
				}
			}
		}
	}
	return err
}

var validScopes = map[string]bool{"read": true, "trade": true, "admin": true}

func (c Config) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.API.Port < 0 || c.API.Port > 65535 {
		bad("api.port %d is not a TCP port (0-65535)", c.API.Port)
	}
	if c.API.RateLimit < 0 {
		bad("api.rate_limit cannot be negative")
	}
	for i, k := range c.API.Keys {
		if k.Key == "" {
			bad("api.keys[%d].key is empty", i)
		}
		if len(k.Scopes) == 0 {
			bad("api.keys[%d].scopes is empty (use read, trade, admin)", i)
		}
		for _, s := range k.Scopes {
			if !validScopes[s] {
				bad("api.keys[%d].scopes: %q is not a scope (use read, trade, admin)", i, s)
			}
		}
	}
	if c.Queue.MaxSize <= 0 {
		bad("queue.max_size must be at least 1")
	}
	if c.Queue.OperationTimeout.Duration <= 0 {
		bad("queue.operation_timeout must be positive")
	}
	if c.Store.Path == "" {
		bad("store.path is empty")
	}
	if c.Store.KeepDays < 0 {
		bad("store.keep_days cannot be negative (0 keeps everything)")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format %q is not text or json", c.Log.Format)
	}
	if len(c.Terminals) == 0 {
		bad("no [[terminals]]: configure at least one (driver = \"sim\" needs nothing else)")
	}
	seen := map[string]bool{}
	for i, t := range c.Terminals {
		if t.Name == "" {
			bad("terminals[%d].name is empty", i)
		}
		if seen[t.Name] {
			bad("terminals[%d].name %q is used twice", i, t.Name)
		}
		seen[t.Name] = true
	}
	if _, err := c.riskLimits(); err != nil {
		bad("%v", err)
	}
	if _, err := c.scheduleSpecs(); err != nil {
		bad("%v", err)
	}
	noKey := c.API.Key == "" && len(c.API.Keys) == 0
	if noKey && server.AllowsAnyOrigin(c.API.CORSOrigins) {
		bad("api.cors_origins = [\"*\"] without an API key would let any web page trade: set [api] key, or list the origins")
	}
	if c.Queue.ResultTTL.Duration <= 0 {
		bad("queue.result_ttl must be positive (finished operations are answered from the journal after it; it only bounds memory)")
	}
	if !isLoopback(c.API.Host) && noKey {
		bad("api.host %q is reachable from other machines but no API key is set: set [api] key (or env API_KEY), or bind to 127.0.0.1", c.API.Host)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// isLoopback reports whether host only accepts connections from this
// machine. An empty host or 0.0.0.0 listens everywhere.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
