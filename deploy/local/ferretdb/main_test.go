package main

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestSQLiteURL(t *testing.T) {
	got := sqliteURL("/data/ferretdb")
	if !strings.HasPrefix(got, "file:/data/ferretdb/?") {
		t.Fatalf("sqliteURL = %q: not a file: URI of the directory", got)
	}

	q, err := url.ParseQuery(strings.SplitN(got, "?", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"synchronous(normal)", "journal_size_limit(16777216)"} {
		if pragmas := q["_pragma"]; !slices.Contains(pragmas, want) {
			t.Errorf("pragmas %v lack %s", pragmas, want)
		}
	}
}
