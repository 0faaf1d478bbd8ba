package automation

import (
	"context"
	"time"
)

// Ledger is the journal's port for drivers that keep state of their own
// (the sim's paper accounts): a live state per terminal, replaced at every
// change, and an append-only archive of finished records. The store
// package implements it in the same SQLite file as the queue's journal.
//
// Every write returns once it is durable, and a write that returns an
// error has stored nothing — also when it gave up because its ctx ended:
// the driver then rolls its change back and reports the action as not
// carried out. (ctx bounds only a write's wait to be taken.)
//
// One exception, which a driver need not know about: a write made with the
// ctx of an operation the queue is executing may be held and committed in
// the same transaction as that operation's outcome (one durable write
// instead of two; a crash keeps both or neither). It then returns nil at
// once. Reads see every write made before them, held or not, and a held
// state is never committed over a newer one. Should the outcome's commit
// fail, the lane is blocked (as for any outcome the journal cannot take)
// and the held writes are committed with the terminal's next write.
type Ledger interface {
	// LoadLedger returns the state last saved for the terminal, or
	// (nil, nil) when nothing is stored.
	LoadLedger(ctx context.Context, terminal string) ([]byte, error)
	// SaveLedger stores the terminal's state, replacing the last one.
	SaveLedger(ctx context.Context, terminal string, state []byte) error
	// ArchiveLedger appends records to the terminal's archive and
	// replaces its state in one transaction: both are stored, or
	// neither. A record whose Seq is already archived fails it.
	ArchiveLedger(ctx context.Context, terminal string, records []LedgerRecord, state []byte) error
	// LoadLedgerArchive returns the bodies of the archived records of
	// kind whose Day is at or after since, by Day and then Seq.
	LoadLedgerArchive(ctx context.Context, terminal, kind string, since time.Time) ([][]byte, error)
	// FindLedgerArchive returns the body of the last archived record of
	// kind with key, or (nil, nil).
	FindLedgerArchive(ctx context.Context, terminal, kind, key string) ([]byte, error)
	// PruneLedgerArchive deletes the archived records whose Day is
	// before before.
	PruneLedgerArchive(ctx context.Context, terminal string, before time.Time) error
}

// LedgerRecord is one finished record (an order, a trade, …) moved from a
// driver's state to its archive.
type LedgerRecord struct {
	// Kind names what the record is; reads select one kind.
	Kind string
	// Day is the instant the record's day starts: reads select from a day
	// on, and pruning deletes the days before a cutoff.
	Day time.Time
	// Seq is the record's place in its terminal's archive, given by the
	// driver: unique per terminal, increasing as records are archived.
	Seq int64
	// Key finds the record by FindLedgerArchive (a client order id); ""
	// for none.
	Key string
	// Body is the record, opaque to the store (the driver's JSON).
	Body []byte
}
