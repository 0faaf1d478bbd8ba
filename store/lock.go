package store

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// errLockHeld: another open file description holds the lock.
var errLockHeld = errors.New("lock is held")

// lockFile is an exclusive OS lock (flock on Unix, LockFileEx on Windows)
// on a file beside the journal. The kernel drops it when the process ends,
// however it ends, so a crash never leaves a stale lock behind. The file
// itself stays: deleting it would let two processes lock two different
// files of the same name.
//
// Why not SQLite's own PRAGMA locking_mode=EXCLUSIVE: it would make the
// writer's connection the only one allowed to read, so every Get, FindByKey
// and History would wait behind commits and their syncs (measured on the
// development VM: 7k Get/s under a stream of appends on the shared
// connection, 60k Get/s with the read pool), and a long History would hold
// up submits.
type lockFile struct {
	f *os.File
}

func acquireLock(path string) (*lockFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		return nil, err
	}
	// Leave our pid for the error message of a second brokerd; the lock,
	// not this content, is what excludes it.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0) //nolint:errcheck // informative only
	}
	return &lockFile{f: f}, nil
}

func (l *lockFile) release() error {
	err := unlock(l.f)
	return errors.Join(err, l.f.Close())
}

// lockHolder reads the pid the lock's holder left in the file, or 0.
func lockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
