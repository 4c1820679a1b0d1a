package fsql

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0041,
// patches/0013-one-transaction-per-write-command.patch).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// commandKey is the context key of a write command's transaction.
type commandKey struct{}

// command is one write command's transaction: begun (BEGIN IMMEDIATE) by the first statement a
// database runs under the command's context, on one connection kept for the whole command, so
// each statement reads what the earlier ones wrote; committed once, by the end function.
type command struct {
	db   *DB
	conn *sql.Conn
	tx   *Tx // the connection seen as a transaction, for InTransaction inside the command
	done bool
}

// LocalCommand returns a context under which every statement of the first database it touches
// runs in one transaction, and the function that ends it: it commits what the statements did
// (also after an error of one of them, so that what a command leaves is what it left when each
// statement committed on its own), returns the connection to the pool, and may be called again
// (a no-op). Callers hold the server's write lock (localwrite.Mu) for the whole command.
func LocalCommand(ctx context.Context) (context.Context, func() error) {
	c := new(command)
	return context.WithValue(ctx, commandKey{}, c), c.end
}

// localCommand returns the command transaction of ctx on db, begun on its first use, or nil
// when ctx carries none, it is another database's, or it has ended.
func (db *DB) localCommand(ctx context.Context) (*command, error) {
	c, _ := ctx.Value(commandKey{}).(*command)
	if c == nil || c.done || (c.db != nil && c.db != db) {
		return nil, nil
	}

	if c.db != nil {
		return c, nil
	}

	conn, err := db.sqlDB.Conn(ctx)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	// IMMEDIATE: the write lock is taken now, so a read of the command can never be followed by
	// a write that finds a newer snapshot (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries).
	if _, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		discard(conn)
		return nil, lazyerrors.Error(err)
	}

	c.db, c.conn = db, conn
	c.tx = &Tx{q: conn, l: db.l}

	return c, nil
}

// end commits the command's transaction, if it began.
func (c *command) end() error {
	if c.done {
		return nil
	}

	c.done = true

	if c.conn == nil {
		return nil
	}

	// Not the client's context: a closed connection must not leave the transaction open, and
	// the statements that ran are kept as they were when each statement committed on its own.
	ctx := context.Background()

	_, err := c.conn.ExecContext(ctx, "COMMIT")
	if err != nil {
		// An interrupted statement can have rolled the whole transaction back already; a
		// connection whose state is unknown is closed rather than returned to the pool.
		_, rerr := c.conn.ExecContext(ctx, "ROLLBACK")
		if rerr != nil {
			discard(c.conn)
			return lazyerrors.Error(errors.Join(err, rerr))
		}
	}

	if cerr := c.conn.Close(); err == nil && cerr != nil {
		err = cerr
	}

	if err != nil {
		return lazyerrors.Error(err)
	}

	return nil
}

// discard closes conn and keeps it out of the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// querier is what a statement runs on: the pool, a transaction or a command's connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// querier returns the command's connection when ctx carries a command transaction on db,
// else the pool.
func (db *DB) querier(ctx context.Context) (querier, error) {
	c, err := db.localCommand(ctx)
	if err != nil {
		return nil, err
	}

	if c != nil {
		return c.conn, nil
	}

	return db.sqlDB, nil
}

// inCommand runs f inside the command transaction of ctx on db, if there is one (reporting
// true): no transaction of its own, the command commits once at its end. f's statements are
// single SQL statements in the write commands' paths (one document's insert or update), each
// undone by SQLite alone if it fails.
func (db *DB) inCommand(ctx context.Context, f func(*Tx) error) (bool, error) {
	c, err := db.localCommand(ctx)
	if err != nil {
		return true, err
	}

	if c == nil {
		return false, nil
	}

	return true, f(c.tx)
}
