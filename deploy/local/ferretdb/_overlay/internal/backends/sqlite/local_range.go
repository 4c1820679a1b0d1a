package sqlite

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
)

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0022).
//
// localRange adds to a hinted index walk (localOrderBy) the filter's date bounds on the walk's
// first sort key — `{received_at: {$gte: t}}`, `{next_due: {$gt: a, $lte: b}}` — as SQL range
// conditions on the index's own expression, so SQLite starts the walk at the keyset and stops it
// at the bound instead of reading every row before the page or after the last match. The handler
// still applies the whole filter in Go, so a condition pushed here may only ever drop rows the
// filter drops too. That holds for the values the hint's user keeps in the field: dates of
// 13-digit milliseconds (2001-09-09 to 2286-11-20), whose JSON text orders as the dates do; null
// and strings never match a date bound in MongoDB either. Only 13-digit date bounds are pushed.
func localRange(where string, args []any, filter, sort *types.Document) (string, []any) {
	if filter == nil || sort == nil || sort.Len() == 0 {
		return where, args
	}

	field := sort.Keys()[0]
	if strings.ContainsAny(field, ".$'\"") {
		return where, args
	}

	v, err := filter.Get(field)
	if err != nil {
		return where, args
	}

	bounds, ok := v.(*types.Document)
	if !ok {
		return where, args
	}

	column := metadata.DefaultColumn + "->'" + field + "'"

	for _, op := range bounds.Keys() {
		sqlOp, known := rangeOps[op]
		if !known {
			continue
		}

		bound, _ := bounds.Get(op)

		at, ok := bound.(time.Time)
		if !ok || at.UnixMilli() < minMillis13 || at.UnixMilli() > maxMillis13 {
			continue
		}

		clause := fmt.Sprintf("%s %s ?", column, sqlOp)
		if where == "" {
			where = " WHERE " + clause
		} else {
			where += " AND " + clause
		}

		args = append(args, strconv.FormatInt(at.UnixMilli(), 10))
	}

	return where, args
}

// rangeOps are the MongoDB bounds pushed down, as SQL comparisons of the index's JSON text.
var rangeOps = map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

// The dates whose milliseconds are written with 13 digits (their JSON texts order as numbers).
const (
	minMillis13 = 1_000_000_000_000
	maxMillis13 = 9_999_999_999_999
)
