package clientconn

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0004, "where the server's
// CPU goes"; taken by patches/0007-profile-labels-per-command.patch).

import (
	"context"
	"expvar"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// withCommandLabels runs handle with a CPU-profile label "shape" naming the command, its
// collection and the shape of its filter ("find cases _id:$in"), so a profile (main.go's
// -debug-listen; `go tool pprof -tags`) splits the server's CPU by command shape. The label
// costs a few allocations per command; it matters only while profiling. Commands are counted
// per shape in expvar's "local_commands" (/debug/vars), to divide a profile's CPU by.
func withCommandLabels(ctx context.Context, msg *wire.OpMsg, command string, handle func(context.Context)) {
	shape := commandShape(msg, command)
	commandCounts.Add(shape, 1)
	pprof.Do(ctx, pprof.Labels("shape", shape), handle)
}

// commandCounts counts commands per shape since the server started.
var commandCounts = expvar.NewMap("local_commands")

// commandShape is "<command> <collection> <filter shape>".
func commandShape(msg *wire.OpMsg, command string) string {
	var coll, filter string

	if doc, err := msg.RawSection0().Decode(); err == nil {
		coll, _ = doc.Get(command).(string)

		switch command {
		case "getMore":
			coll, _ = doc.Get("collection").(string)
		case "find", "count", "aggregate":
			filter = filterShape(doc.Get("filter"))
		case "findAndModify":
			filter = filterShape(doc.Get("query"))
		case "update", "delete":
			filter = filterShape(firstStatement(msg, doc, command+"s").Get("q"))
		}
	}

	return strings.TrimSpace(command + " " + coll + " " + filter)
}

// filterShape names a filter's fields in order, each nested condition by its operators
// ({_id: {$in: […]}, status: "x"} is "_id:$in,status"); values never appear.
func filterShape(v any) string {
	doc := asDocument(v)
	if doc == nil {
		return ""
	}

	fields := make([]string, 0, doc.Len())

	for i := range doc.Len() {
		name, value := doc.GetByIndex(i)

		if inner := asDocument(value); inner != nil && inner.Len() > 0 && strings.HasPrefix(inner.FieldNames()[0], "$") {
			ops := inner.FieldNames()
			sort.Strings(ops)
			name += ":" + strings.Join(ops, ":")
		}

		fields = append(fields, name)
	}

	return strings.Join(fields, ",")
}

// firstStatement is the first of an update's or delete's statements, from the command document
// or from the document sequence drivers send them in; an empty document when there is none.
func firstStatement(msg *wire.OpMsg, doc *wirebson.Document, key string) *wirebson.Document {
	if raw, ok := doc.Get(key).(wirebson.RawArray); ok {
		if arr, err := raw.Decode(); err == nil && arr.Len() > 0 {
			if first := asDocument(arr.Get(0)); first != nil {
				return first
			}
		}
	}

	for _, section := range msg.Sections() {
		if section.Kind == 1 && section.Identifier == key && len(section.Documents()) > 0 {
			if first := asDocument(section.Documents()[0]); first != nil {
				return first
			}
		}
	}

	return wirebson.MakeDocument(0)
}

// asDocument is a decoded document, or nil for any other value.
func asDocument(v any) *wirebson.Document {
	switch v := v.(type) {
	case *wirebson.Document:
		return v
	case wirebson.RawDocument:
		doc, err := v.Decode()
		if err != nil {
			return nil
		}

		return doc
	default:
		return nil
	}
}
