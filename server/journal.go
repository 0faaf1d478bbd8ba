package server

// Journal is what health asks of brokerd's journal (*store.Store).
type Journal interface {
	// Health is nil while the journal is usable, else why it is not and
	// what to do.
	Health() error
}
