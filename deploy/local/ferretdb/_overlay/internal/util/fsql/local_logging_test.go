package fsql

// Added by the complaint pipeline's local build of FerretDB (patches/0008-no-debug-formatting-of-sql-arguments.patch).

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"

	_ "modernc.org/sqlite"
)

// countingHandler counts what a logger asks of it: attributes bound eagerly, and records.
type countingHandler struct {
	level   slog.Level
	bound   *int // WithAttrs calls: each renders its attributes, enabled or not
	records *int // Handle calls with a statement's arguments
}

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "args" {
			*h.records++
		}
		return true
	})
	return nil
}

func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { *h.bound++; return h }

func (h countingHandler) WithGroup(string) slog.Handler { return h }

func TestLocalArgumentsRenderedOnlyForDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		sqlDB, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			t.Fatal(err)
		}

		var bound, records int

		db := WrapDB(sqlDB, "test", slog.New(countingHandler{level, &bound, &records}))
		ctx := context.Background()
		bound = 0 // WrapDB names its logger once

		if _, err = db.ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
			t.Fatal(err)
		}

		err = db.InTransaction(ctx, func(tx *Tx) error {
			_, e := tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", "x")
			return e
		})
		if err != nil {
			t.Fatal(err)
		}

		rows, err := db.QueryContext(ctx, "SELECT v FROM t WHERE v = ?", "x")
		if err != nil {
			t.Fatal(err)
		}

		_ = rows.Close()
		_ = db.Close()

		if bound != 0 {
			t.Errorf("level %v: %d statements bound their arguments to a logger", level, bound)
		}

		if want := level == slog.LevelDebug; (records > 0) != want {
			t.Errorf("level %v: %d debug records with arguments", level, records)
		}
	}
}
