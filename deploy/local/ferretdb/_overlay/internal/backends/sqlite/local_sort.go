package sqlite

import (
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
)

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0019).
//
// localOrderBy returns an ORDER BY clause over the index a find's `hint` names, when the
// requested sort is that index's keys (all of them, or all but a leading equality field) in the
// index's own directions; "" otherwise. With it SQLite walks the index in order and stops when
// the handler has read enough documents, instead of FerretDB reading, decoding and sorting every
// match in Go. The expressions are the index's own (`->'field'`, JSON text), which order as the
// documents do for the values the hint's user stores there (dates as 13-digit milliseconds,
// ASCII strings without control characters or quotes); the handler checks the order of every
// document it passes on and fails the query rather than answer out of order (local_sorted.go).
func localOrderBy(meta *metadata.Collection, sort *types.Document, hint any) string {
	if sort.Len() == 0 || hint == nil {
		return ""
	}

	var keys []metadata.IndexKeyPair

	for _, index := range meta.Settings.Indexes {
		if hinted(index, hint) {
			keys = index.Key
			break
		}
	}

	if len(keys) == sort.Len()+1 {
		keys = keys[1:] // the leading field: an equality the filter narrows to
	}

	if len(keys) == 0 || len(keys) != sort.Len() {
		return ""
	}

	columns := make([]string, len(keys))

	for i, field := range sort.Keys() {
		v, _ := sort.Get(field)
		order, ok := v.(int64)
		if !ok || keys[i].Field != field || strings.ContainsAny(field, ".$'\"") {
			return ""
		}

		if (order == -1) != keys[i].Descending {
			return ""
		}

		columns[i] = metadata.DefaultColumn + "->'" + field + "'"
		if order == -1 {
			columns[i] += " DESC"
		}
	}

	return " ORDER BY " + strings.Join(columns, ", ")
}

// hinted reports whether a find's `hint` (an index name or key pattern) names the index.
func hinted(index metadata.IndexInfo, hint any) bool {
	switch hint := hint.(type) {
	case string:
		return hint == index.Name
	case *types.Document:
		if hint.Len() != len(index.Key) {
			return false
		}

		for i, field := range hint.Keys() {
			v, _ := hint.Get(field)
			var order float64

			switch v := v.(type) {
			case int32:
				order = float64(v)
			case int64:
				order = float64(v)
			case float64:
				order = v
			default:
				return false
			}

			if index.Key[i].Field != field || (order < 0) != index.Key[i].Descending {
				return false
			}
		}

		return true
	default:
		return false
	}
}
