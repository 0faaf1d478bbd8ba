//go:build !(linux || darwin)

package main

import "math"

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE to raise
// (Windows has no per-process socket limit of that kind).
func raiseFileLimit(uint64) (uint64, error) { return math.MaxUint64, nil }
