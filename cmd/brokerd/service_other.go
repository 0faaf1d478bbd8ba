//go:build !windows

package main

import (
	"fmt"
	"io"
)

// manageService handles the Windows service commands; elsewhere it says
// what to use instead.
func manageService(args []string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) == 0 || !serviceCommands[args[0]] {
		return false, nil
	}
	return true, fmt.Errorf("%s: %w", args[0], errNotWindows)
}
