package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0019): what
// local_sort.go promises, on a real SQLite table laid out as FerretDB lays it out.

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func localCases(t *testing.T) (*sql.DB, *metadata.Collection) {
	t.Helper()

	var docs []*types.Document
	for i := 0; i < 300; i++ {
		// received_at repeats, so the _id decides within a millisecond; inserted out of order
		at := 1_764_000_000_000 + (i*7919)%100
		id := fmt.Sprintf("CP-%04d", (i*7919)%300)
		state := []string{"classified", "dispatched"}[i%2]
		docs = append(docs, must.NotFail(types.NewDocument("_id", id, "received_at", int64(at), "state", state)))
	}

	order := []metadata.IndexKeyPair{{Field: "received_at"}, {Field: "_id"}}
	indexes := []metadata.IndexInfo{
		{Name: "order", Key: order},
		{Name: "state", Key: append([]metadata.IndexKeyPair{{Field: "state"}}, order...)},
	}

	return ferretTable(t, "c", indexes, docs)
}

func sortDoc() *types.Document {
	return must.NotFail(types.NewDocument("received_at", int64(1), "_id", int64(1)))
}

// walked returns the (received_at, _id) pairs the statement yields, and its query plan.
func walked(t *testing.T, db *sql.DB, q string, args []any) ([]string, string) {
	t.Helper()

	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	var got []string
	for rows.Next() {
		var at, id string
		if err = rows.Scan(&at, &id); err != nil {
			t.Fatal(err)
		}
		got = append(got, at+" "+id)
	}

	var plan []string
	planRows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer planRows.Close()
	for planRows.Next() {
		var id, parent, notused int
		var detail string
		if err = planRows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}

	return got, strings.Join(plan, "; ")
}

func TestLocalOrderByWalksTheHintedIndexInOrder(t *testing.T) {
	db, meta := localCases(t)

	for name, hint := range map[string]any{
		"by name":        "order",
		"by key pattern": must.NotFail(types.NewDocument("received_at", int32(1), "_id", int32(1))),
	} {
		orderBy := localOrderBy(meta, sortDoc(), hint)
		if orderBy == "" {
			t.Fatalf("%s: no ORDER BY", name)
		}

		q := `SELECT _ferretdb_sjson->>'received_at', _ferretdb_sjson->>'_id' FROM "c"` + orderBy
		got, plan := walked(t, db, q, nil)
		if len(got) != 300 {
			t.Fatalf("%s: %d rows", name, len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("%s: out of order at %d: %q then %q", name, i, got[i-1], got[i])
			}
		}
		if !strings.Contains(plan, "USING INDEX c_order") || strings.Contains(plan, "TEMP B-TREE") {
			t.Fatalf("%s: plan %q", name, plan)
		}
	}
}

func TestLocalOrderByAfterAnEqualityUsesTheLeadingFieldsIndex(t *testing.T) {
	db, meta := localCases(t)

	filter := must.NotFail(types.NewDocument("state", "dispatched"))
	where, args := localPushdown(meta, filter)
	orderBy := localOrderBy(meta, sortDoc(), "state")

	q := `SELECT _ferretdb_sjson->>'received_at', _ferretdb_sjson->>'_id' FROM "c"` + where + orderBy + ` LIMIT 5`
	got, plan := walked(t, db, q, args)
	if len(got) != 5 {
		t.Fatalf("%d rows", len(got))
	}
	if !strings.Contains(plan, "USING INDEX c_state") || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("plan %q", plan)
	}
}

func TestLocalOrderByNeedsAHintMatchingTheSort(t *testing.T) {
	_, meta := localCases(t)

	for name, c := range map[string]struct {
		sort *types.Document
		hint any
	}{
		"no hint":         {sortDoc(), nil},
		"unknown index":   {sortDoc(), "nope"},
		"other keys":      {must.NotFail(types.NewDocument("state", int64(1))), "order"},
		"other direction": {must.NotFail(types.NewDocument("received_at", int64(-1), "_id", int64(-1))), "order"},
		"shorter sort":    {must.NotFail(types.NewDocument("received_at", int64(1))), "order"},
		"hint mismatch":   {sortDoc(), must.NotFail(types.NewDocument("_id", int32(1)))},
		"no sort":         {nil, "order"},
	} {
		if got := localOrderBy(meta, c.sort, c.hint); got != "" {
			t.Errorf("%s: %q", name, got)
		}
	}
}
