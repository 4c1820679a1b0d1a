package sqlite

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, 0019): the one
// way the overlay's tests lay out a real SQLite table as FerretDB does.

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
)

// ferretTable creates table name with the statements FerretDB's registry runs for these
// indexes (the `_id_` one first), writes docs with prepareInsertStatement and returns the table
// with its metadata.
func ferretTable(
	t *testing.T, name string, indexes []metadata.IndexInfo, docs []*types.Document,
) (*sql.DB, *metadata.Collection) {
	t.Helper()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), name+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	indexes = append([]metadata.IndexInfo{
		{Name: "_id_", Key: []metadata.IndexKeyPair{{Field: "_id"}}, Unique: true},
	}, indexes...)
	ddl := []string{fmt.Sprintf(
		`CREATE TABLE %q (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`, name,
	)}
	for _, index := range indexes {
		var columns []string
		for _, key := range index.Key {
			columns = append(columns, fmt.Sprintf(`_ferretdb_sjson->%q`, key.Field))
		}
		unique := ""
		if index.Unique {
			unique = "UNIQUE "
		}
		ddl = append(ddl, fmt.Sprintf(
			`CREATE %sINDEX %q ON %q (%s)`, unique, name+"_"+index.Name, name, strings.Join(columns, ", "),
		))
	}
	for _, q := range ddl {
		if _, err = db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	q, args, err := prepareInsertStatement(name, false, docs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}

	meta := &metadata.Collection{Name: name, TableName: name, Settings: metadata.Settings{Indexes: indexes}}

	return db, meta
}
