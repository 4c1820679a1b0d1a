package fsql

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0041).

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// commandDB is a file database in WAL mode (a shared one: ":memory:" is per connection).
func commandDB(t *testing.T) *DB {
	t.Helper()

	dsn := "file:" + filepath.Join(t.TempDir(), "c.sqlite") +
		"?_pragma=journal_mode(wal)&_pragma=busy_timeout(5000)"

	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}

	db := WrapDB(sqlDB, "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { _ = db.Close() })

	ctx := context.Background()
	if _, err = db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, u TEXT UNIQUE)"); err != nil {
		t.Fatal(err)
	}

	if _, err = db.ExecContext(ctx, "INSERT INTO t VALUES (1, 0, 'a'), (2, 0, 'b')"); err != nil {
		t.Fatal(err)
	}

	return db
}

func value(t *testing.T, ctx context.Context, db *DB, id int) int {
	t.Helper()

	var v int
	if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ?", id).Scan(&v); err != nil {
		t.Fatal(err)
	}

	return v
}

// increment reads a row and writes it back, as an update statement does (read, change, write).
func increment(t *testing.T, ctx context.Context, db *DB, id int) {
	t.Helper()

	rows, err := db.QueryContext(ctx, "SELECT v FROM t WHERE id = ?", id)
	if err != nil {
		t.Fatal(err)
	}

	var v int
	for rows.Next() {
		if err = rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
	}

	if err = rows.Close(); err != nil {
		t.Fatal(err)
	}

	err = db.InTransaction(ctx, func(tx *Tx) error {
		_, e := tx.ExecContext(ctx, "UPDATE t SET v = ? WHERE id = ?", v+1, id)
		return e
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLocalCommandSeesItsOwnWritesAndCommitsOnce(t *testing.T) {
	db := commandDB(t)
	outside := context.Background()
	ctx, end := LocalCommand(outside)

	increment(t, ctx, db, 1)
	increment(t, ctx, db, 1) // reads the first statement's write: 2, not 1

	if got := value(t, ctx, db, 1); got != 2 {
		t.Fatalf("inside the command: v = %d, want 2", got)
	}

	if got := value(t, outside, db, 1); got != 0 {
		t.Fatalf("outside before the end: v = %d, want 0 (nothing committed yet)", got)
	}

	if err := end(); err != nil {
		t.Fatal(err)
	}

	if err := end(); err != nil { // a second end is a no-op
		t.Fatal(err)
	}

	if got := value(t, outside, db, 1); got != 2 {
		t.Fatalf("after the end: v = %d, want 2", got)
	}

	// The context of an ended command runs statements on the pool again, each on its own.
	increment(t, ctx, db, 2)

	if got := value(t, outside, db, 2); got != 1 {
		t.Fatalf("after the end, through the old context: v = %d, want 1", got)
	}
}

func TestLocalCommandKeepsTheStatementsBeforeAFailure(t *testing.T) {
	db := commandDB(t)
	outside := context.Background()
	ctx, end := LocalCommand(outside)

	increment(t, ctx, db, 1)

	// A unique-key violation: SQLite undoes this statement only.
	_, err := db.ExecContext(ctx, "UPDATE t SET u = 'a' WHERE id = 2")
	if err == nil {
		t.Fatal("a duplicate key was accepted")
	}

	if err = end(); err != nil {
		t.Fatal(err)
	}

	if got := value(t, outside, db, 1); got != 1 {
		t.Fatalf("the statement before the failure: v = %d, want 1 (kept)", got)
	}

	var u string
	if err = db.QueryRowContext(outside, "SELECT u FROM t WHERE id = 2").Scan(&u); err != nil || u != "b" {
		t.Fatalf("the failed statement: u = %q (%v), want b", u, err)
	}
}

func TestLocalCommandReturnsItsConnection(t *testing.T) {
	db := commandDB(t)

	for range 50 {
		ctx, end := LocalCommand(context.Background())
		increment(t, ctx, db, 1)

		if err := end(); err != nil {
			t.Fatal(err)
		}
	}

	if got := value(t, context.Background(), db, 1); got != 50 {
		t.Fatalf("v = %d, want 50", got)
	}

	if open := db.sqlDB.Stats().InUse; open != 0 {
		t.Fatalf("%d connections still in use", open)
	}

	// A command that ran no statement began nothing.
	_, end := LocalCommand(context.Background())
	if err := end(); err != nil {
		t.Fatal(err)
	}
}
