package clientconn

import (
	"context"
	"runtime/pprof"
	"testing"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

func TestLocalCommandLabels(t *testing.T) {
	filter := wirebson.MustDocument(
		"_id", wirebson.MustDocument("$in", wirebson.MustArray("a", "b")),
		"status", "pending",
		"due", wirebson.MustDocument("$lte", int64(5), "$gt", int64(1)),
	)
	section := wirebson.MustDocument("find", "cases", "filter", filter, "$db", "complaints")

	raw, err := section.Encode()
	if err != nil {
		t.Fatal(err)
	}

	msg, err := wire.NewOpMsg(raw)
	if err != nil {
		t.Fatal(err)
	}

	var got map[string]string

	withCommandLabels(context.Background(), msg, "find", func(ctx context.Context) {
		got = map[string]string{}
		pprof.ForLabels(ctx, func(k, v string) bool { got[k] = v; return true })
	})

	want := map[string]string{"shape": "find cases _id:$in,status,due:$gt:$lte"}

	update := wirebson.MustDocument(
		"update", "cases", "$db", "complaints",
		"updates", wirebson.MustArray(wirebson.MustDocument("q", wirebson.MustDocument("_id", "x", "version", int32(3)))),
	)
	if raw, err := update.Encode(); err != nil {
		t.Fatal(err)
	} else if m, err := wire.NewOpMsg(raw); err != nil {
		t.Fatal(err)
	} else if got := commandShape(m, "update"); got != "update cases _id,version" {
		t.Errorf("update shape = %q", got)
	}
	if n := commandCounts.Get(want["shape"]); n == nil || n.String() != "1" {
		t.Errorf("count of %q = %v, want 1", want["shape"], n)
	}

	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
