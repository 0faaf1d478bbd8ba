package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedConfigLoads(t *testing.T) {
	cfg, err := loadConfig("../../config.toml", func(string) string { return "" })
	if err != nil {
		t.Fatalf("the shipped config.toml must load: %v", err)
	}
	if cfg.API.Host != "127.0.0.1" || cfg.API.Port != 7648 {
		t.Errorf("api = %s:%d, want 127.0.0.1:7648", cfg.API.Host, cfg.API.Port)
	}
	// The default terminal is the sim; the paper exchange is beside it.
	if len(cfg.Terminals) != 2 || cfg.Terminals[0].Driver != "sim" || cfg.Terminals[1].Driver != "paper" {
		t.Errorf("terminals = %+v, want the sim and the paper exchange", cfg.Terminals)
	}
	if cfg.Queue.OperationTimeout.Duration != 30*time.Second || cfg.Queue.ResultTTL.Duration != 3*time.Hour {
		t.Errorf("queue durations = %v, %v", cfg.Queue.OperationTimeout, cfg.Queue.ResultTTL)
	}
}

func TestConfigErrors(t *testing.T) {
	const sim = "\n[[terminals]]\nname = \"sim\"\ndriver = \"sim\"\n"
	tests := []struct {
		name, toml, want string
	}{
		{"unknown key", "[api]\nhots = \"x\"\n" + sim, "unknown key api.hots (line 2)"},
		{"unknown table", "[queue]\nmax_size = 5\n[qeueu]\nx = 1\n" + sim, "unknown key qeueu"},
		{"mistyped value", "[api]\nport = \"seven\"\n" + sim, "api.port"},
		{"quoted port", "[api]\nport = \"7653\"\n" + sim, "line 2, column 8: api.port must be a whole number without quotes, not a string: remove the quotes"},
		{"quoted boolean", "[api]\ndocs = \"yes\"\n" + sim, "api.docs must be true or false, without quotes, not a string"},
		{"a string for a list", "[api]\ncors_origins = \"https://a.example\"\n" + sim, `api.cors_origins must be a list of strings such as ["a", "b"], not a string`},
		{"terminals as a table", "[terminals]\nname = \"sim\"\ndriver = \"sim\"\n", "[terminals] is written as a single table, but terminals is a list: write [[terminals]]"},
		{"terminals as a table with options", "[terminals]\nname = \"sim\"\ndriver = \"sim\"\n[terminals.options]\nlatency = \"0s\"\n", "write [[terminals]]"},
		{"api.keys as a table", "[api.keys]\nkey = \"0123456789abcdef\"\nscopes = [\"read\"]\n" + sim, "write [[api.keys]]"},
		{"bad duration", "[queue]\noperation_timeout = \"30 seconds\"\n" + sim, "not a duration"},
		{"duration as number", "[queue]\noperation_timeout = 30\n" + sim, "queue.operation_timeout"},
		{"no terminals", "[api]\nport = 1\n", "no [[terminals]]"},
		{"duplicate terminal", sim + sim, "used twice"},
		{"open host without key", "[api]\nhost = \"0.0.0.0\"\n" + sim, "no API key is set"},
		{"bad scope", "[[api.keys]]\nkey = \"k\"\nscopes = [\"root\"]\n" + sim, "\"root\" is not a scope"},
		{"bad level", "[log]\nlevel = \"loud\"\n" + sim, "log.level"},
		{"negative max_size", "[queue]\nmax_size = 0\n" + sim, "queue.max_size"},
		{"zero result_ttl", "[queue]\nresult_ttl = \"0s\"\n" + sim, "queue.result_ttl"},
		{"any origin without a key", "[api]\ncors_origins = [\"*\"]\n" + sim, "any web page"},
		// The CORS policy trims spaces and trailing slashes: every spelling
		// it reads as "*" must be refused too.
		{"any origin spelled \"* \"", "[api]\ncors_origins = [\"* \"]\n" + sim, "any web page"},
		{"any origin spelled \" *\"", "[api]\ncors_origins = [\" *\"]\n" + sim, "any web page"},
		{"any origin spelled \"*/\"", "[api]\ncors_origins = [\"*/\"]\n" + sim, "any web page"},
		{"any origin spelled \"*//\"", "[api]\ncors_origins = [\"*//\"]\n" + sim, "any web page"},
		{"any origin spelled with tabs", "[api]\ncors_origins = [\"\\t*/ \\n\"]\n" + sim, "any web page"},
		{"any origin after a listed one", "[api]\ncors_origins = [\"https://desk.example\", \" */\"]\n" + sim, "any web page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("[api]\nhost = \"0.0.0.0\"\n[[terminals]]\nname = \"sim\"\ndriver = \"sim\"\n"), 0o600)
	env := func(k string) string {
		if k == "API_KEY" {
			return "from-env"
		}
		return ""
	}
	cfg, err := loadConfig(path, env)
	if err != nil {
		t.Fatalf("API_KEY must satisfy the key requirement: %v", err)
	}
	if cfg.API.Key != "from-env" {
		t.Errorf("key = %q, want from-env", cfg.API.Key)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"0.0.0.0": false, "": false, "192.168.1.5": false, "::": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestEmbeddedConfigIsTheShippedOne: brokerd without a config file runs on
// exactly the config.toml the repository ships and documents.
func TestEmbeddedConfigIsTheShippedOne(t *testing.T) {
	shipped, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != string(defaultConfigTOML) {
		t.Fatal("cmd/brokerd/default_config.toml differs from config.toml: copy config.toml over it")
	}
}

func TestNoConfigFileRunsTheEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.toml")
	if err := os.WriteFile(empty, []byte("# nothing here yet\n\n   \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		explicit bool
		source   string // what the first log line says; "" for an error
	}{
		{"no ./config.toml", filepath.Join(dir, "config.toml"), false, "embedded default (no "},
		{"an empty config", empty, false, "embedded default (" + empty + " is empty)"},
		{"an empty config named by -config", empty, true, "embedded default (" + empty + " is empty)"},
		{"a missing file named by -config", filepath.Join(dir, "typo.toml"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, source, err := loadConfigOrDefault(tt.path, tt.explicit, func(string) string { return "" })
			if tt.source == "" {
				if err == nil {
					t.Fatalf("a missing -config file was not an error (source %q)", source)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(source, tt.source) {
				t.Errorf("source %q, want %q…", source, tt.source)
			}
			if cfg.API.Host != "127.0.0.1" || cfg.API.Port != 7648 || len(cfg.Terminals) != 2 || cfg.Terminals[0].Driver != "sim" || cfg.Terminals[1].Driver != "paper" {
				t.Errorf("not the default: %+v", cfg)
			}
		})
	}
}

// TestFirstLogLineSaysTheEmbeddedDefault: run without a config file says
// so in its very first log line.
func TestFirstLogLineSaysTheEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// A cancelled ctx: run stops right after its first steps (the journal
	// refuses a done ctx); the first log line is written before them.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logs lockedBuffer
	_ = run(ctx, nil, func(string) string { return "" }, io.Discard, &logs)
	first, _, _ := strings.Cut(logs.String(), "\n")
	if !strings.Contains(first, "embedded default") {
		t.Errorf("first log line %q does not say the embedded default is used", first)
	}
}
