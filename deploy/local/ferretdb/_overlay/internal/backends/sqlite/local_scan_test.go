package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, fix 11): a whole-table
// scan holds no read transaction between its chunks, so a checkpoint can restart the log.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func TestLocalScanInShortReadTransactions(t *testing.T) {
	ctx := context.Background()

	sqlDB, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.sqlite")+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })

	if _, err = sqlDB.Exec(`CREATE TABLE "s" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`); err != nil {
		t.Fatal(err)
	}

	total := 2*scanChunk + 7

	var docs []*types.Document
	for i := range total {
		docs = append(docs, must.NotFail(types.NewDocument("_id", fmt.Sprintf("c-%05d", i), "v", int32(1))))
	}

	q, args, err := prepareInsertStatement("s", false, docs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = sqlDB.Exec(q, args...); err != nil {
		t.Fatal(err)
	}

	fdb := fsql.WrapDB(sqlDB, "s", slog.Default())
	t.Cleanup(func() { _ = fdb.Close() }) // resource tracking panics on an unclosed DB

	iter := newScanIterator(ctx, fdb, "s")
	defer iter.Close()

	seen := map[string]int32{}

	for n := 0; ; n++ {
		_, doc, err := iter.Next()
		if errors.Is(err, iterator.ErrIteratorDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}

		seen[must.NotFail(doc.Get("_id")).(string)] = must.NotFail(doc.Get("v")).(int32)

		if n == 10 {
			// Mid-scan: a write to a later chunk, then a checkpoint that must restart the log —
			// impossible while any reader holds a snapshot older than the write.
			last := must.NotFail(types.NewDocument("_id", fmt.Sprintf("c-%05d", total-1), "v", int32(2)))
			b := must.NotFail(sjson.Marshal(last))
			if _, err = sqlDB.Exec(`UPDATE "s" SET _ferretdb_sjson = ? WHERE rowid = ?`, string(b), total); err != nil {
				t.Fatal(err)
			}

			var busy, logFrames, checkpointed int
			if err = sqlDB.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
				t.Fatal(err)
			}
			if busy != 0 {
				t.Fatalf("checkpoint blocked mid-scan (busy=%d): a read transaction is still open", busy)
			}
		}
	}

	if len(seen) != total {
		t.Fatalf("scan returned %d documents, want %d", len(seen), total)
	}

	if v := seen[fmt.Sprintf("c-%05d", total-1)]; v != 2 {
		t.Errorf("the document changed mid-scan read as v=%d, want its new version 2", v)
	}
}

func TestLocalBufferedQueryHoldsNoReadTransaction(t *testing.T) {
	ctx := context.Background()

	sqlDB, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "b.sqlite")+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })

	if _, err = sqlDB.Exec(`CREATE TABLE "b" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`); err != nil {
		t.Fatal(err)
	}

	var docs []*types.Document
	for i := range 20 {
		docs = append(docs, must.NotFail(types.NewDocument("_id", fmt.Sprintf("c-%02d", i))))
	}

	q, args, err := prepareInsertStatement("b", false, docs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = sqlDB.Exec(q, args...); err != nil {
		t.Fatal(err)
	}

	fdb := fsql.WrapDB(sqlDB, "b", slog.Default())
	t.Cleanup(func() { _ = fdb.Close() }) // resource tracking panics on an unclosed DB

	iter, err := newBufferedIterator(ctx, fdb, `SELECT _ferretdb_sjson FROM "b" WHERE rowid <= ?`, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer iter.Close()

	if _, _, err = iter.Next(); err != nil { // one document decoded, four still to come
		t.Fatal(err)
	}

	if _, err = sqlDB.Exec(`DELETE FROM "b" WHERE rowid = 20`); err != nil {
		t.Fatal(err)
	}

	var busy, logFrames, checkpointed int
	if err = sqlDB.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Fatalf("checkpoint blocked while the query's documents were decoded (busy=%d)", busy)
	}

	n := 1
	for {
		if _, _, err = iter.Next(); errors.Is(err, iterator.ErrIteratorDone) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}

	if n != 5 {
		t.Errorf("query returned %d documents, want 5", n)
	}
}
