package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// defaultWALCheckInterval is how often the journal makes sure its WAL file
// is still the one SQLite writes. A WAL removed under a running brokerd (a
// cleanup script, an antivirus) goes unnoticed by SQLite: its connection
// keeps writing into the unlinked file, so commits are acknowledged that a
// crash then loses, and a connection opened later creates a new, empty WAL
// beside an index that describes the old one.
const defaultWALCheckInterval = time.Second

// walWatch remembers which file the WAL was when the journal opened.
type walWatch struct {
	mu   sync.Mutex
	path string
	file os.FileInfo // nil until the WAL has been seen
	stop chan struct{}
	done chan struct{}
}

func newWALWatch(path string) *walWatch {
	w := &walWatch{path: path + "-wal", stop: make(chan struct{}), done: make(chan struct{})}
	if fi, err := os.Stat(w.path); err == nil {
		w.file = fi
	}
	return w
}

// watchWAL checks the WAL every interval until Close stops it.
func (s *Store) watchWAL(interval time.Duration) {
	defer close(s.wal.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.wal.stop:
			return
		case <-tick.C:
			s.checkWAL()
		}
	}
}

// checkWAL compares the WAL file at its path with the one the journal
// opened (os.SameFile: the inode on Unix, the file index on Windows). A
// WAL gone or replaced condemns the journal, after an attempt to save what
// the removed file holds.
func (s *Store) checkWAL() {
	if s.damage.get() != nil {
		return
	}
	w := s.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := os.Stat(w.path)
	switch {
	case w.file == nil:
		if err == nil {
			w.file = fi // first seen now: this is the one SQLite writes
		}
		return
	case errors.Is(err, fs.ErrNotExist):
		s.walLost("removed")
	case err != nil:
		return // cannot tell: ask again at the next tick
	case !os.SameFile(w.file, fi):
		s.walLost("replaced by another file")
	}
}

// walLost condemns the journal whose WAL was removed or replaced. It first
// asks the writer's connection, which still holds the removed file open,
// to checkpoint it into the database: what was acknowledged is then in the
// database file itself and survives even a crash.
func (s *Store) walLost(how string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	saved := "its content was copied into " + s.path + ", so nothing acknowledged is lost"
	var busy, logFrames, checkpointed int
	err := s.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(FULL)").Scan(&busy, &logFrames, &checkpointed)
	switch {
	case err != nil:
		saved = fmt.Sprintf("copying its content into %s failed (%v): do not kill brokerd", s.path, err)
	case busy != 0 || checkpointed < logFrames:
		saved = fmt.Sprintf("only %d of its %d pages could be copied into %s yet: do not kill brokerd", checkpointed, logFrames, s.path)
	}
	s.damage.set(fmt.Errorf("%w: its WAL file %s was %s while brokerd ran (a cleanup script or an antivirus?); %s. "+
		"Nothing more is recorded or acknowledged. Stop brokerd gracefully (Ctrl-C or SIGTERM, never kill -9): closing the journal "+
		"writes the rest into %s; then start it again, and keep cleanup tools away from %s-*",
		ErrDamaged, s.wal.path, how, saved, s.path, s.path))
}
