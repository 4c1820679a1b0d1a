package sjson

import "unicode/utf8"

// localPlainString returns the value of a JSON string token that needs no decoding: quoted, with
// no escape, no quote and no control character inside, and valid UTF-8 (which encoding/json
// would otherwise repair). Every other token is left to encoding/json (docs/adr/0036).
//
// Most stored strings are plain (identifiers, timestamps, codes, the packed clock sheets of
// cases), and a json.Decoder per string, as upstream decodes each one, costs more than the
// document's own parse.
func localPlainString(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return "", false
	}

	inner := data[1 : len(data)-1]
	ascii := true

	for _, b := range inner {
		switch {
		case b < 0x20, b == '"', b == '\\':
			return "", false
		case b >= utf8.RuneSelf:
			ascii = false
		}
	}

	if !ascii && !utf8.Valid(inner) {
		return "", false
	}

	return string(inner), true
}
