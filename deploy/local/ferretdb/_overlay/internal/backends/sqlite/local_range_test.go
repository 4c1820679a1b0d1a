package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0022): what
// local_range.go promises, on the table of local_sort_test.go.

import (
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

const rangeBase = 1_764_000_000_000

func at(offset int64) time.Time {
	return time.UnixMilli(rangeBase + offset)
}

func TestLocalRangeStartsAndStopsTheWalkAtTheBounds(t *testing.T) {
	db, meta := localCases(t)

	for name, c := range map[string]struct {
		filter *types.Document
		hint   string
		rows   int
		index  string
	}{
		"keyset": {
			must.NotFail(types.NewDocument("received_at", must.NotFail(types.NewDocument("$gte", at(50))))),
			"order", 150, "c_order",
		},
		"window after an equality": {
			must.NotFail(types.NewDocument(
				"state", "dispatched",
				"received_at", must.NotFail(types.NewDocument("$gt", at(10), "$lte", at(20))),
			)),
			"state", 15, "c_state",
		},
	} {
		where, args := localPushdown(meta, c.filter)
		where, args = localRange(where, args, c.filter, sortDoc())
		orderBy := localOrderBy(meta, sortDoc(), c.hint)

		q := `SELECT _ferretdb_sjson->>'received_at', _ferretdb_sjson->>'_id' FROM "c"` + where + orderBy
		got, plan := walked(t, db, q, args)
		if len(got) != c.rows {
			t.Fatalf("%s: %d rows, want %d", name, len(got), c.rows)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("%s: out of order at %d: %q then %q", name, i, got[i-1], got[i])
			}
		}
		if !strings.Contains(plan, "SEARCH") || !strings.Contains(plan, "USING INDEX "+c.index) ||
			strings.Contains(plan, "TEMP B-TREE") {
			t.Fatalf("%s: plan %q", name, plan)
		}
	}
}

func TestLocalRangePushesOnlyThirteenDigitDateBoundsOnTheFirstSortKey(t *testing.T) {
	for name, filter := range map[string]*types.Document{
		"a number":        must.NotFail(types.NewDocument("received_at", must.NotFail(types.NewDocument("$gte", int64(rangeBase))))),
		"twelve digits":   must.NotFail(types.NewDocument("received_at", must.NotFail(types.NewDocument("$lte", time.UnixMilli(999_999_999_999))))),
		"an equality":     must.NotFail(types.NewDocument("received_at", at(1))),
		"another key":     must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$gt", at(1))))),
		"other operators": must.NotFail(types.NewDocument("received_at", must.NotFail(types.NewDocument("$ne", at(1))))),
	} {
		where, args := localRange("", nil, filter, sortDoc())
		if where != "" || len(args) != 0 {
			t.Errorf("%s: %q %v", name, where, args)
		}
	}

	where, args := localRange(" WHERE x = ?", []any{"a"}, must.NotFail(types.NewDocument(
		"received_at", must.NotFail(types.NewDocument("$gte", at(1), "$lt", at(2))),
	)), sortDoc())
	want := ` WHERE x = ? AND _ferretdb_sjson->'received_at' >= ? AND _ferretdb_sjson->'received_at' < ?`
	if where != want || len(args) != 3 || args[1] != "1764000000001" || args[2] != "1764000000002" {
		t.Errorf("%q %v", where, args)
	}
}
