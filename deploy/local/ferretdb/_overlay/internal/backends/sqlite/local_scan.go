package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, fix 11; taken by
// patches/0009-short-read-transactions-for-scans.patch).

import (
	"context"
	"fmt"
	"sync"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/resource"
)

// scanChunk is how many rows one read transaction of a whole-table scan copies.
const scanChunk = 500

// scanIterator decodes rows copied out of SQLite beforehand, so that no read transaction is open
// while documents are decoded and filtered.
//
// A plain query iterator keeps its statement, and so its SQLite read transaction, open while the
// handler decodes and filters each row: a scan of 2,300 case documents held one for seconds.
// While any reader holds an old snapshot, no checkpoint can restart the write-ahead log, so it
// grew with every write made meanwhile (179 MiB in one bench, ADR 0004). Now a narrowed query
// (pushed-down `_id` or indexed field) copies its matching rows in one read transaction and then
// decodes them; a whole-table scan copies chunks of scanChunk rows by rowid, each in its own
// read transaction. Like a MongoDB cursor without a snapshot, a chunked scan sees each chunk as
// of when it is read: a document changed meanwhile is seen once, in the version of its chunk (an
// update keeps its rowid).
type scanIterator struct {
	ctx   context.Context
	db    *fsql.DB
	query string
	token *resource.Token
	rows  [][]byte
	after int64
	m     sync.Mutex
	done  bool
}

// newScanIterator returns an iterator over every document of table, in rowid order.
func newScanIterator(ctx context.Context, db *fsql.DB, table string) types.DocumentsIterator {
	iter := &scanIterator{
		ctx: ctx,
		db:  db,
		query: fmt.Sprintf(
			`SELECT rowid, %s FROM %q WHERE rowid > ? ORDER BY rowid LIMIT %d`,
			metadata.DefaultColumn, table, scanChunk,
		),
		token: resource.NewToken(),
	}
	resource.Track(iter, iter.token)

	return iter
}

// Next implements iterator.Interface.
func (iter *scanIterator) Next() (struct{}, *types.Document, error) {
	iter.m.Lock()
	defer iter.m.Unlock()

	var unused struct{}

	if len(iter.rows) == 0 && !iter.done {
		if err := iter.fetch(); err != nil {
			iter.close()
			return unused, nil, lazyerrors.Error(err)
		}
	}

	if len(iter.rows) == 0 {
		iter.close()
		return unused, nil, iterator.ErrIteratorDone
	}

	b := iter.rows[0]
	iter.rows[0] = nil
	iter.rows = iter.rows[1:]

	doc, err := sjson.Unmarshal(b)
	if err != nil {
		iter.close()
		return unused, nil, lazyerrors.Error(err)
	}

	return unused, doc, nil
}

// newBufferedIterator runs query (selecting the document column only), copies every row it
// returns in that one read transaction, and returns an iterator that decodes them afterwards.
func newBufferedIterator(ctx context.Context, db *fsql.DB, query string, args ...any) (types.DocumentsIterator, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	iter := &scanIterator{ctx: ctx, done: true, token: resource.NewToken()}

	for rows.Next() {
		var b []byte
		if err = rows.Scan(&b); err != nil { // Scan copies into a fresh slice
			return nil, err
		}

		iter.rows = append(iter.rows, b)
	}

	if err = rows.Err(); err != nil {
		return nil, err
	}

	resource.Track(iter, iter.token)

	return iter, nil
}

// fetch copies the next chunk of rows in one read transaction.
func (iter *scanIterator) fetch() error {
	if err := context.Cause(iter.ctx); err != nil {
		return err
	}

	rows, err := iter.db.QueryContext(iter.ctx, iter.query, iter.after)
	if err != nil {
		return err
	}
	defer rows.Close()

	n := 0

	for rows.Next() {
		var b []byte
		if err = rows.Scan(&iter.after, &b); err != nil { // Scan copies into a fresh slice
			return err
		}

		iter.rows = append(iter.rows, b)
		n++
	}

	if err = rows.Err(); err != nil {
		return err
	}

	iter.done = n < scanChunk

	return nil
}

// Close implements iterator.Interface.
func (iter *scanIterator) Close() {
	iter.m.Lock()
	defer iter.m.Unlock()

	iter.close()
}

func (iter *scanIterator) close() {
	iter.rows, iter.done = nil, true
	resource.Untrack(iter, iter.token)
}

// check interfaces
var (
	_ types.DocumentsIterator = (*scanIterator)(nil)
)
