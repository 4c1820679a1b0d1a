package main

import (
	"bytes"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"modernc.org/libc"
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
	for _, want := range []string{
		"synchronous(normal)", "journal_size_limit(16777216)", "mmap_size(1073741824)", "temp_store(memory)",
	} {
		if pragmas := q["_pragma"]; !slices.Contains(pragmas, want) {
			t.Errorf("pragmas %v lack %s", pragmas, want)
		}
	}
}

// TestPatchedMemoryRoutines checks memcmp and memcpy of the build's libc
// (deps/modernc.org/libc): SQLite's JSON cache and B-tree keys depend on their results.
func TestPatchedMemoryRoutines(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()

	const n = 4099 // odd: the tail past the vector width counts too
	left, right := make([]byte, n), make([]byte, n)
	a, b := uintptr(unsafe.Pointer(&left[0])), uintptr(unsafe.Pointer(&right[0]))
	defer runtime.KeepAlive(left)
	defer runtime.KeepAlive(right)
	for i := range left {
		left[i] = byte(i*7 + 1)
	}

	if got := libc.Xmemcpy(tls, b, a, n); got != b || !bytes.Equal(left, right) {
		t.Fatalf("memcpy returned %#x (want %#x), copy equal %v", got, b, bytes.Equal(left, right))
	}
	if c := libc.Xmemcmp(tls, a, b, n); c != 0 {
		t.Errorf("memcmp of equal ranges = %d", c)
	}
	for _, at := range []int{0, 1, 31, 32, 2048, n - 1} {
		right[at] = left[at] + 1 // unsigned: 0xff+1 wraps below
		want := 1
		if left[at] == 0xff {
			want = -1
		}
		if c := int(libc.Xmemcmp(tls, b, a, n)); sign(c) != want {
			t.Errorf("memcmp with byte %d changed: %d, want sign %d", at, c, want)
		}
		if c := int(libc.Xmemcmp(tls, a, b, n)); sign(c) != -want {
			t.Errorf("memcmp reversed, byte %d: %d, want sign %d", at, c, -want)
		}
		if c := libc.Xmemcmp(tls, a, b, Tsize(at)); c != 0 {
			t.Errorf("memcmp of the %d bytes before the change = %d", at, c)
		}
		right[at] = left[at]
	}
	if c := libc.Xmemcmp(tls, a, b, 0); c != 0 {
		t.Errorf("memcmp of nothing = %d", c)
	}
}

// Tsize is libc's size_t.
type Tsize = uint64

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}

	return 0
}
