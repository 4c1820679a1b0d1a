package pool

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, WAL addendum).

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/FerretDB/FerretDB/internal/util/localwrite"
)

// walDB opens a database file as the local server does (busy_timeout, WAL, synchronous=NORMAL).
func walDB(t *testing.T) (*sql.DB, string) {
	t.Helper()

	file := filepath.Join(t.TempDir(), "t.sqlite")
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=synchronous(normal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	if _, err = db.Exec("CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}

	return db, file
}

// write commits n rows of 1 KiB, one transaction each, as FerretDB's single-document writes do.
func write(t *testing.T, db *sql.DB, n int) {
	t.Helper()

	row := strings.Repeat("x", 1024)
	for range n {
		if _, err := db.Exec("INSERT INTO t (v) VALUES (?)", row); err != nil {
			t.Fatal(err)
		}
	}
}

// reader opens a read transaction that holds its snapshot until the returned func is called.
func reader(t *testing.T, db *sql.DB) func() {
	t.Helper()

	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}

	var n int
	if err = tx.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}

	return func() { _ = tx.Rollback() }
}

// writeUnderReaders writes rounds × n rows under readers always overlapping: each starts
// before the previous one ends, so SQLite's own automatic checkpoint never finds a moment to
// restart the log. The last reader stays open until the returned func is called.
func writeUnderReaders(t *testing.T, db *sql.DB, rounds, n int) func() {
	t.Helper()

	done := reader(t, db)
	for range rounds {
		write(t, db, n)
		next := reader(t, db)
		done()
		done = next
	}

	return done
}

func walSize(t *testing.T, file string) int64 {
	t.Helper()

	fi, err := os.Stat(file + "-wal")
	if err != nil {
		t.Fatal(err)
	}

	return fi.Size()
}

func TestLocalOverlappingReadersKeepTheLogGrowingUntilTruncated(t *testing.T) {
	db, file := walDB(t)

	done := writeUnderReaders(t, db, 6, 1000)

	grown := walSize(t, file)
	if grown < 5<<20 {
		t.Fatalf("log is %d bytes after 6 MiB of writes with overlapping readers; "+
			"the automatic checkpoint restarted it, so this test shows nothing", grown)
	}

	// A reader still on an old snapshot: the checkpoint gives up within checkpointWait.
	start := time.Now()
	emptied, err := truncateWAL(context.Background(), db)
	if err != nil || emptied {
		t.Fatalf("truncateWAL with a reader on an old snapshot = %v, %v; want false, nil", emptied, err)
	}
	if waited := time.Since(start); waited > 20*checkpointWait {
		t.Errorf("truncateWAL held off writers for %v", waited)
	}

	// That reader done, while new ones keep coming: the log is emptied.
	next := reader(t, db)
	done()
	defer next()

	emptied, err = truncateWAL(context.Background(), db)
	if err != nil || !emptied {
		t.Fatalf("truncateWAL = %v, %v; want true, nil", emptied, err)
	}
	if size := walSize(t, file); size != 0 {
		t.Errorf("log is %d bytes after TRUNCATE", size)
	}

	// The connection went back to the pool with the pool's busy_timeout.
	var timeout int
	if err = db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != busyTimeout {
		t.Errorf("busy_timeout = %d, %v; want %d", timeout, err, busyTimeout)
	}
}

func TestLocalDatabaseFile(t *testing.T) {
	p := &Pool{uri: url.URL{Scheme: "file", Opaque: "/data/", Path: "/data/", RawQuery: "_pragma=x"}}
	if got := databaseFile(p.databaseURI("complaints")); got != "/data/complaints.sqlite" {
		t.Errorf("databaseFile = %q", got)
	}
}

func TestLocalCheckpointerBoundsTheLogAndStopsWithTheDatabase(t *testing.T) {
	db, file := walDB(t)

	writeUnderReaders(t, db, 8, 500)()

	stopped := make(chan struct{})
	go func() {
		checkpointWAL(db, file, 10*time.Millisecond, 1<<20, slog.Default())
		close(stopped)
	}()

	// 4 MiB written; the checkpointer empties the log once it passes 1 MiB and readers allow.
	deadline := time.Now().Add(10 * time.Second)
	for walSize(t, file) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if size := walSize(t, file); size != 0 {
		t.Errorf("log still %d bytes with no reader left", size)
	}

	_ = db.Close()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Error("checkpointer still running after the database was closed")
	}
}

func TestLocalCheckpointerWaitsForTheWriteLock(t *testing.T) {
	db, file := walDB(t)
	write(t, db, 2000)

	// A write command in progress holds the lock: the checkpointer must not run beside it.
	localwrite.Mu.Lock()
	go checkpointWAL(db, file, 10*time.Millisecond, 1<<20, slog.Default())
	time.Sleep(200 * time.Millisecond)
	if size := walSize(t, file); size == 0 {
		localwrite.Mu.Unlock()
		t.Fatal("log truncated while a writer held the lock")
	}
	localwrite.Mu.Unlock()

	deadline := time.Now().Add(10 * time.Second)
	for walSize(t, file) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if size := walSize(t, file); size != 0 {
		t.Errorf("log still %d bytes after the writer let go", size)
	}
}
