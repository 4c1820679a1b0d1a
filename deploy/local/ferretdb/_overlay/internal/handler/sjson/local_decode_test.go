package sjson

import (
	"math"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// TestLocalUnmarshalRoundTrip stores a document shaped like the pipeline's (nested documents,
// arrays of documents and strings, escapes, Chinese text, every scalar type the services use) and
// reads it back; trailing bytes after the value are still an error.
func TestLocalUnmarshalRoundTrip(t *testing.T) {
	log := must.NotFail(types.NewArray(
		must.NotFail(types.NewDocument("at", time.UnixMilli(1765100000000).UTC(), "what", "opened")),
		must.NotFail(types.NewDocument("at", time.UnixMilli(1765100060000).UTC(), "what", "引号\"和\\反斜杠")),
	))
	doc := must.NotFail(types.NewDocument(
		"_id", "case-000123",
		"version", int32(7),
		"big", int64(math.MaxInt64),
		"ratio", 0.25,
		"open", true,
		"closed", false,
		"none", types.Null,
		"received_at", time.UnixMilli(1765100000000).UTC(),
		"clocks", "c1|2026-12-07T17:00:00Z|ack;c2|…",
		"text", "宽带三天两头掉线\n请尽快处理\t谢谢",
		"flags", must.NotFail(types.NewArray("vip", "repeat")),
		"empty", must.NotFail(types.NewArray()),
		"log", log,
		"owner", must.NotFail(types.NewDocument("id", "staff-9", "department", "fulfilment", "n", int32(0))),
		"nothing", must.NotFail(types.NewDocument()),
	))

	b, err := Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	again, err := Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("round trip changed the document:\n%s\n%s", b, again)
	}
	if v, _ := got.Get("version"); v != int32(7) {
		t.Errorf("version = %#v", v)
	}
	if v, _ := got.Get("open"); v != true {
		t.Errorf("open = %#v", v)
	}

	for _, bad := range []string{string(b) + "x", string(b) + "{}", `{"$s":`} {
		if _, err := Unmarshal([]byte(bad)); err == nil {
			t.Errorf("Unmarshal accepted %q", bad[max(0, len(bad)-12):])
		}
	}
	var i int32Type
	if err := i.UnmarshalJSON([]byte(`12 13`)); err == nil {
		t.Error("int32 accepted two values")
	}
	var flag boolType
	if err := flag.UnmarshalJSON([]byte(`true`)); err != nil || !bool(flag) {
		t.Errorf("bool = %v, %v", flag, err)
	}
}
