package store

import (
	"context"
	"database/sql"
	"errors"
)

// statements are prepared once: SQLite spends as long compiling a statement
// as running one of ours, and the writer runs thousands a second.
type statements struct {
	// On the writer's connection.
	insert, markRunning, finish, status, prune, saveLedger *sql.Stmt
	insertArchive, pruneArchive                            *sql.Stmt
	// On the read pool (database/sql prepares them on each connection).
	byID, byKey, loadLedger, selectArchive, findArchive *sql.Stmt
}

func prepareStatements(ctx context.Context, write, read *sql.DB) (*statements, error) {
	var st statements
	var errs []error
	prep := func(db *sql.DB, dst **sql.Stmt, query string) {
		var err error
		*dst, err = db.PrepareContext(ctx, query)
		errs = append(errs, err)
	}
	prep(write, &st.insert, insertOperation)
	prep(write, &st.markRunning, markRunning)
	prep(write, &st.finish, finishOperation)
	prep(write, &st.status, selectStatus)
	prep(write, &st.prune, pruneFinished)
	prep(write, &st.saveLedger, saveLedger)
	prep(write, &st.insertArchive, insertArchive)
	prep(write, &st.pruneArchive, pruneArchive)
	prep(read, &st.byID, selectByID)
	prep(read, &st.byKey, selectByKey)
	prep(read, &st.loadLedger, loadLedger)
	prep(read, &st.selectArchive, selectArchive)
	prep(read, &st.findArchive, findArchive)
	if err := errors.Join(errs...); err != nil {
		st.close()
		return nil, err
	}
	return &st, nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.insert, st.markRunning, st.finish, st.status, st.prune,
		st.saveLedger, st.insertArchive, st.pruneArchive, st.byID, st.byKey, st.loadLedger,
		st.selectArchive, st.findArchive} {
		if s != nil {
			s.Close()
		}
	}
}
