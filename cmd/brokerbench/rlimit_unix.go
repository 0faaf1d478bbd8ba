//go:build linux || darwin

package main

import "syscall"

// raiseFileLimit raises this process's soft RLIMIT_NOFILE to want (up to
// the hard limit; beyond it only when privileged) and returns the soft
// limit in force. Go already raises the soft limit to the hard one at
// start; setting it explicitly also passes it to the processes the bench
// starts (brokerd, the baseline), which otherwise get the original one.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if want > lim.Max {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return want, nil
		}
	}
	lim.Cur = max(lim.Cur, min(want, lim.Max))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}
