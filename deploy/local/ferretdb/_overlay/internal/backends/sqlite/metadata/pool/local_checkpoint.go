package pool

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, WAL addendum;
// started by patches/0005-bounded-write-ahead-log.patch).

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/util/localwrite"
)

// Checkpoint policy of every database's write-ahead log.
const (
	// checkpointEvery is how often the size of the log is looked at.
	checkpointEvery = time.Second
	// checkpointAbove is the log size from which it is checkpointed and truncated.
	checkpointAbove = 4 << 20
	// checkpointWait bounds how long a checkpoint waits for the readers of older snapshots while
	// it holds off writers (at most this long per checkpointEvery, and only while the log is above
	// checkpointAbove); one that cannot finish in time gives up and is tried at the next tick.
	checkpointWait = 100 * time.Millisecond
	// busyTimeout is the pool's own busy_timeout (uri.go), restored after a checkpoint.
	busyTimeout = 10000
)

// checkpointWAL keeps the write-ahead log of the database file bounded until db is closed:
// every `every`, a log larger than `above` bytes is checkpointed and truncated.
//
// SQLite's automatic checkpoint (PASSIVE, after a commit) copies pages back into the database
// but restarts the log only when no reader still uses it; with readers always overlapping, as
// under sustained load, the log is never restarted and grows without limit (567 MB in one bench),
// and every read pays for searching the longer log. A TRUNCATE checkpoint holds off writers,
// waits for the readers of older snapshots to finish (new ones read the database file), then
// empties the log. It holds the write commands' lock meanwhile (localwrite.Mu), so it waits
// only for readers, at most checkpointWait, and writers wait at most that long for it.
func checkpointWAL(db *sql.DB, file string, every time.Duration, above int64, l *slog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()

	for range ticker.C {
		// Closed (the database was dropped, or the server stops): nothing left to bound.
		if err := db.PingContext(context.Background()); err != nil && closed(err) {
			return
		}

		if fi, err := os.Stat(file + "-wal"); err != nil || fi.Size() < above {
			continue
		}

		// Under the write commands' lock: SQLite's busy handler polls, so against writers that
		// take turns without a gap it lost every time and the log outgrew the bound (issue 15).
		localwrite.Mu.Lock()
		_, err := truncateWAL(context.Background(), db)
		localwrite.Mu.Unlock()

		if err != nil && !closed(err) {
			l.Warn("WAL checkpoint failed", slog.String("file", file), slog.String("error", err.Error()))
		}
	}
}

// closed tells database/sql's "database is closed" error (not exported) from the others.
func closed(err error) bool {
	return strings.Contains(err.Error(), "database is closed")
}

// databaseFile returns the file of a database's SQLite URI (see Pool.databaseURI).
func databaseFile(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}

	if u.Path != "" {
		return u.Path
	}

	return u.Opaque
}

// truncateWAL checkpoints the log and truncates it to zero bytes, waiting at most
// checkpointWait for older readers; false when they kept it from finishing (tried again later).
func truncateWAL(ctx context.Context, db *sql.DB) (bool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()

	wait := strconv.FormatInt(checkpointWait.Milliseconds(), 10)
	if _, err = conn.ExecContext(ctx, "PRAGMA busy_timeout = "+wait); err != nil {
		return false, err
	}

	var busy, logFrames, checkpointed int
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed)

	// The connection goes back to the pool: with the pool's own timeout again.
	if _, restoreErr := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.Itoa(busyTimeout)); err == nil {
		err = restoreErr
	}

	return err == nil && busy == 0, err
}
