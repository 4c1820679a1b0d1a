package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
)

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004).
//
// localPushdown narrows a query to an index when the filter has `{f: "s"}` or
// `{f: {$in: ["s", ...]}}` on `_id` or on the leading field of one of the collection's indexes.
// The handler re-applies the whole filter in Go after the query, so narrowing can only cost
// false positives, never wrong results, provided the narrowing keeps every match: the pipeline
// stores only scalars in indexed fields (no multikey arrays), and only plain ASCII strings are
// pushed down, whose JSON text is the same whether Go or SQLite writes it. Anything else returns
// no clause: the table is scanned, as upstream does.
func localPushdown(meta *metadata.Collection, filter *types.Document) (string, []any) {
	fields := []string{"_id"}
	for _, index := range meta.Settings.Indexes {
		if f := index.Key[0].Field; f != "_id" && !strings.ContainsAny(f, ".$'\"") {
			fields = append(fields, f)
		}
	}

	for _, field := range fields {
		v, err := filter.Get(field)
		if err != nil {
			continue
		}

		column := metadata.DefaultColumn + "->'" + field + "'"

		if values, ok := plainValues(v); ok {
			if len(values) == 0 {
				return " WHERE 0", nil
			}

			marks := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")

			return fmt.Sprintf(` WHERE %s IN (%s)`, column, marks), values
		}
	}

	return "", nil
}

// plainValues returns the JSON texts a filter value matches: one for a plain string or
// ObjectID, each member's for `{$in: [...]}` of those; false for anything else.
func plainValues(v any) ([]any, bool) {
	if one, ok := plainValue(v); ok {
		return []any{one}, true
	}

	d, ok := v.(*types.Document)
	if !ok || d.Len() != 1 {
		return nil, false
	}

	in, err := d.Get("$in")
	if err != nil {
		return nil, false
	}

	members, ok := in.(*types.Array)
	if !ok || members.Len() > 30000 {
		return nil, false
	}

	values := make([]any, members.Len())

	for i := range values {
		m, err := members.Get(i)
		if err != nil {
			return nil, false
		}

		if values[i], ok = plainValue(m); !ok {
			return nil, false
		}
	}

	return values, true
}

func plainValue(v any) (any, bool) {
	switch v := v.(type) {
	case types.ObjectID:
	case string:
		for _, r := range v {
			if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' {
				return nil, false
			}
		}
	default:
		return nil, false
	}

	b, err := sjson.MarshalSingleValue(v)
	if err != nil {
		return nil, false
	}

	return string(b), true
}
