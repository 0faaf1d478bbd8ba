package automation

import (
	"errors"
	"fmt"
	"slices"
)

// Directory is the configured terminals by name, in config order. It is
// built once at startup and never changes, so it is safe for concurrent
// use; it holds no state of its own, asking each terminal when asked.
// The HTTP API reaches the terminals only through it, so a new driver
// needs nothing there.
type Directory struct {
	names  []string
	byName map[string]Terminal
}

// NewDirectory indexes terminals by name. A nil terminal or a name listed
// twice is refused: a name must say which terminal is meant.
func NewDirectory(terminals []Terminal) (*Directory, error) {
	d := &Directory{names: make([]string, 0, len(terminals)), byName: make(map[string]Terminal, len(terminals))}
	for _, t := range terminals {
		if t == nil {
			return nil, errors.New("automation: a terminal is nil")
		}
		name := t.Name()
		if _, dup := d.byName[name]; dup {
			return nil, fmt.Errorf("automation: terminal %q is listed twice", name)
		}
		d.byName[name] = t
		d.names = append(d.names, name)
	}
	return d, nil
}

// Names lists the terminals in config order. The slice is the caller's.
func (d *Directory) Names() []string { return slices.Clone(d.names) }

// Terminal finds a terminal by name; nil and false when none has it.
func (d *Directory) Terminal(name string) (Terminal, bool) {
	t, ok := d.byName[name]
	return t, ok
}
