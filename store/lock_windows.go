//go:build windows

package store

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockRange is the byte the lock covers: at 4 GiB, beyond the file's
// content, so that a second brokerd can still read the holder's pid
// (Windows locks are mandatory for the bytes they cover).
func lockRange() *windows.Overlapped { return &windows.Overlapped{OffsetHigh: 1} }

// lockExclusive takes a LockFileEx lock, which belongs to the handle: two
// opens of the file conflict even within one process.
func lockExclusive(f *os.File) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockRange())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLockHeld
	}
	return err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockRange())
}
