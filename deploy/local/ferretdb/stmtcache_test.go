package main

// The build's SQLite driver keeps prepared statements per connection
// (deps/modernc.org/sqlite/, docs/adr/0041): the same text executed again must behave as a
// freshly prepared one, whatever happened to the previous execution.

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

func TestKeptStatements(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "k.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: every execution meets the kept statement

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	one := func(q string, args ...any) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s %v: %v", q, args, err)
		}
		return v
	}

	exec("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)")
	for i := range 100 { // bindings of one execution never leak into the next
		exec("INSERT INTO t VALUES (?, ?)", fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	for i := range 100 {
		if got, want := one("SELECT v FROM t WHERE id = ?", fmt.Sprint("k", i)), fmt.Sprint("v", i); got != want {
			t.Fatalf("read %d: %q, want %q", i, got, want)
		}
	}

	// A failed execution (a duplicate key) does not spoil the next one of the same text.
	if _, err = db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", "k1", "x"); err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	exec("INSERT INTO t VALUES (?, ?)", "k100", "v100")
	if got := one("SELECT v FROM t WHERE id = ?", "k100"); got != "v100" {
		t.Fatalf("after a failure: %q", got)
	}

	// Two open cursors of one text: each has its own statement and its own rows.
	a, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := a.QueryContext(ctx, "SELECT v FROM t WHERE id >= ? ORDER BY id", "k98")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.QueryContext(ctx, "SELECT v FROM t WHERE id >= ? ORDER BY id", "k99")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, r := range []*sql.Rows{r1, r2} {
		for r.Next() {
			var v string
			if err = r.Scan(&v); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, v)
		}
		if err = r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(seen) != "[v98 v99 v99]" {
		t.Fatalf("two cursors of one text: %v", seen)
	}
	if err = a.Close(); err != nil {
		t.Fatal(err)
	}

	// A cursor closed before its end returns a reset statement: the next one starts over.
	r3, err := db.QueryContext(ctx, "SELECT v FROM t WHERE id >= ? ORDER BY id", "k0")
	if err != nil {
		t.Fatal(err)
	}
	r3.Next()
	if err = r3.Close(); err != nil {
		t.Fatal(err)
	}
	if got := one("SELECT v FROM t WHERE id >= ? ORDER BY id", "k99"); got != "v99" {
		t.Fatalf("after an abandoned cursor: %q", got)
	}

	// A schema change under a kept statement: SQLite prepares it again.
	exec("DROP TABLE t")
	exec("CREATE TABLE t (v TEXT, id TEXT PRIMARY KEY)")
	exec("INSERT INTO t (id, v) VALUES (?, ?)", "k1", "new")
	if got := one("SELECT v FROM t WHERE id = ?", "k1"); got != "new" {
		t.Fatalf("after the table changed: %q", got)
	}

	// Many texts: the bound of the cache, with every text still answering right.
	for i := range 200 {
		q := fmt.Sprintf("SELECT v || '%d' FROM t WHERE id = ?", i)
		if got, want := one(q, "k1"), fmt.Sprint("new", i); got != want {
			t.Fatalf("text %d: %q, want %q", i, got, want)
		}
	}
}
