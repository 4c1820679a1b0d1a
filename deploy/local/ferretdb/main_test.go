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
	if pragmas := q["_pragma"]; !slices.Contains(pragmas, "synchronous(normal)") {
		t.Errorf("pragmas %v lack synchronous(normal)", pragmas)
	}
}
