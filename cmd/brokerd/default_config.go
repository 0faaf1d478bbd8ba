package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// defaultConfigTOML is the shipped config.toml, built in: brokerd runs on it
// when started without a config file (TestEmbeddedConfigIsTheShippedOne
// keeps the two equal).
//
//go:embed default_config.toml
var defaultConfigTOML []byte

// defaultConfigPath is the -config default.
const defaultConfigPath = "config.toml"

// loadConfigOrDefault is loadConfig, except that brokerd started without
// -config and without ./config.toml, or with an empty one (nothing but
// comments and blank lines), runs on the embedded default: every key of the
// config is optional, so no file must mean "all defaults", which include
// the sim terminal. source says which was used, for the first log line.
func loadConfigOrDefault(path string, explicit bool, getenv func(string) string) (cfg Config, source string, err error) {
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		source = fmt.Sprintf("embedded default (no %s here; -config PATH names another)", path)
	case err == nil && blankTOML(raw):
		source = fmt.Sprintf("embedded default (%s is empty)", path)
	default:
		cfg, err = loadConfig(path, getenv)
		return cfg, path, err
	}
	cfg, err = parseConfig(defaultConfigTOML)
	if err != nil {
		return Config{}, "", fmt.Errorf("the embedded default config: %w", err)
	}
	if k := getenv("API_KEY"); k != "" {
		cfg.API.Key = k
	}
	if err := cfg.validate(); err != nil {
		return Config{}, "", fmt.Errorf("the embedded default config: %w", err)
	}
	return cfg, source, nil
}

// blankTOML reports whether a file holds no key at all.
func blankTOML(raw []byte) bool {
	for line := range strings.SplitSeq(string(raw), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}
