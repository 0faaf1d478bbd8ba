package automation

import (
	"context"
	"slices"
	"testing"
)

type namedTerminal string

func (n namedTerminal) Name() string                  { return string(n) }
func (namedTerminal) Driver() string                  { return "fake" }
func (namedTerminal) State() State                    { return StateReady }
func (namedTerminal) Supports(string) bool            { return true }
func (namedTerminal) Reconnect(context.Context) error { return nil }
func (namedTerminal) Close() error                    { return nil }

func TestDirectory(t *testing.T) {
	d, err := NewDirectory([]Terminal{namedTerminal("b"), namedTerminal("a")})
	if err != nil {
		t.Fatal(err)
	}
	names := d.Names()
	if !slices.Equal(names, []string{"b", "a"}) {
		t.Errorf("Names = %v, want config order [b a]", names)
	}
	names[0] = "x"
	if d.Names()[0] != "b" {
		t.Error("a caller changed the directory through Names")
	}
	if got, ok := d.Terminal("a"); !ok || got.Name() != "a" {
		t.Errorf("Terminal(a) = %v, %v", got, ok)
	}
	if got, ok := d.Terminal("c"); ok || got != nil {
		t.Errorf("Terminal(c) = %v, %v; want nil, false", got, ok)
	}
}

func TestDirectoryRefuses(t *testing.T) {
	for name, list := range map[string][]Terminal{
		"nil":   {namedTerminal("a"), nil},
		"twice": {namedTerminal("a"), namedTerminal("a")},
	} {
		if _, err := NewDirectory(list); err == nil {
			t.Errorf("%s: NewDirectory accepted it", name)
		}
	}
}
