package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004): what
// patches/0001 and 0002 and local_pushdown.go promise, checked on a real SQLite table laid
// out as FerretDB lays it out (same column, same index expressions, rows written by
// prepareInsertStatement).

import (
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func localTable(t *testing.T) (*sql.DB, *metadata.Collection) {
	t.Helper()

	var docs []*types.Document
	for i, key := range []string{"k-1", "k-1", "k-2", "k-3"} {
		id := "c-" + string(rune('0'+i))
		doc := must.NotFail(types.NewDocument("_id", id, "complainant_key", key, "status", "open"))
		docs = append(docs, doc)
	}
	docs = append(docs, must.NotFail(types.NewDocument("_id", "投诉-9", "complainant_key", "k-9")))

	key := []metadata.IndexKeyPair{{Field: "complainant_key"}}

	return ferretTable(t, "t", []metadata.IndexInfo{{Name: "key", Key: key}}, docs)
}

// selected returns the `_id`s the WHERE clause selects, sorted, and the query plan.
func selected(t *testing.T, db *sql.DB, where string, args []any) ([]string, string) {
	t.Helper()

	rows, err := db.Query(`SELECT _ferretdb_sjson FROM "t"`+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	var ids []string
	for rows.Next() {
		var raw string
		if err = rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID string `json:"_id"`
		}
		if err = json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, doc.ID)
	}
	if err = rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)

	plan, err := db.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "t"`+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()

	var steps []string
	for plan.Next() {
		var id, parent, unused int
		var detail string
		if err = plan.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}

	return ids, strings.Join(steps, "; ")
}

func TestLocalIDColumnSearchesTheUniqueIndex(t *testing.T) {
	db, _ := localTable(t)

	where := ` WHERE ` + metadata.IDColumn + ` = ?`
	ids, plan := selected(t, db, where, []any{`"c-2"`})

	if !slices.Equal(ids, []string{"c-2"}) {
		t.Errorf("ids = %v, want [c-2]", ids)
	}
	if !strings.Contains(plan, "USING INDEX t__id_") {
		t.Errorf("an _id look-up scans the table: %s", plan)
	}
}

func TestLocalPushdownNarrowsToAnIndexAndKeepsEveryMatch(t *testing.T) {
	db, meta := localTable(t)

	for name, tc := range map[string]struct {
		filter *types.Document
		ids    []string
		index  string
	}{
		"_id with other keys": {
			filter: must.NotFail(types.NewDocument("_id", "c-1", "status", "open")),
			ids:    []string{"c-1"},
			index:  "t__id_",
		},
		"_id $in": {
			filter: must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray("c-0", "c-3", "missing")),
			)))),
			ids:   []string{"c-0", "c-3"},
			index: "t__id_",
		},
		"indexed field": {
			filter: must.NotFail(types.NewDocument("complainant_key", "k-1", "status", "open")),
			ids:    []string{"c-0", "c-1"},
			index:  "t_key",
		},
		"indexed field $in": {
			filter: must.NotFail(types.NewDocument("complainant_key", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray("k-2", "k-3")),
			)))),
			ids:   []string{"c-2", "c-3"},
			index: "t_key",
		},
	} {
		t.Run(name, func(t *testing.T) {
			where, args := localPushdown(meta, tc.filter)
			if where == "" {
				t.Fatalf("%v not pushed down", tc.filter)
			}

			ids, plan := selected(t, db, where, args)
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
			if !strings.Contains(plan, "USING INDEX "+tc.index) {
				t.Errorf("plan %q does not search %s", plan, tc.index)
			}
		})
	}
}

func TestLocalPushdownLeavesTheRestToTheHandler(t *testing.T) {
	db, meta := localTable(t)

	empty := must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$in", must.NotFail(types.NewArray())))))
	where, args := localPushdown(meta, empty)
	if ids, _ := selected(t, db, where, args); len(ids) != 0 {
		t.Errorf("$in of nothing selected %v", ids)
	}

	// No clause (the table is scanned, the handler filters): operators other than $in,
	// strings SQLite might spell differently in JSON, fields without an index, numbers.
	for name, filter := range map[string]*types.Document{
		"range":        must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$gt", "c-1")))),
		"non-ASCII":    must.NotFail(types.NewDocument("_id", "投诉-9")),
		"quote":        must.NotFail(types.NewDocument("complainant_key", `k"1`)),
		"not indexed":  must.NotFail(types.NewDocument("status", "open")),
		"number":       must.NotFail(types.NewDocument("complainant_key", int32(1))),
		"mixed $in":    must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$in", must.NotFail(types.NewArray("c-1", int32(2))))))),
		"$in and $nin": must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$in", must.NotFail(types.NewArray("c-1")), "$nin", must.NotFail(types.NewArray("c-2")))))),
		"dotted field": must.NotFail(types.NewDocument("complainant_key.x", "k-1")),
		"empty filter": must.NotFail(types.NewDocument()),
	} {
		if where, _ := localPushdown(meta, filter); where != "" {
			t.Errorf("%s: pushed down as %q", name, where)
		}
	}
}
