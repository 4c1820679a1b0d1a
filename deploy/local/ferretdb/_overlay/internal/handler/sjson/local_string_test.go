package sjson

import (
	"encoding/json"
	"testing"
)

// TestLocalPlainString checks the plain-string path against encoding/json, token by token: what
// it takes it decodes the same, and what needs decoding it leaves alone.
func TestLocalPlainString(t *testing.T) {
	for _, token := range []string{
		`""`, `"a"`, `"2026-12-07T17:00:00Z"`, `"中文投诉 宽带掉线"`, `"emoji 🙂 ok"`, `"del \u007f"`,
		`"a\"b"`, `"a\\b"`, `"tab\tescaped"`, `"\u00e9"`, `"line\nbreak"`, `"<html> & co"`,
		"\"raw\ttab\"", "\"bad \xff utf8\"", "\"cut \xe4\xb8\"", `"unterminated`, `x"`, `"`, ``, `"a" `, ` "a"`,
		`12`, `null`,
	} {
		var want string
		wantErr := json.Unmarshal([]byte(token), &want)
		got, ok := localPlainString([]byte(token))
		if !ok {
			continue // left to encoding/json
		}
		if wantErr != nil {
			t.Errorf("%q: taken as %q, but encoding/json rejects it: %v", token, got, wantErr)
			continue
		}
		if got != want {
			t.Errorf("%q: %q, encoding/json: %q", token, got, want)
		}
	}

	for _, token := range []string{`"a\"b"`, `"a\\b"`, "\"raw\ttab\"", "\"bad \xff utf8\"", `"a" `} {
		if _, ok := localPlainString([]byte(token)); ok {
			t.Errorf("%q: taken, but needs encoding/json", token)
		}
	}
	for _, token := range []string{`""`, `"中文投诉 宽带掉线"`, `"2026-12-07T17:00:00Z"`} {
		if _, ok := localPlainString([]byte(token)); !ok {
			t.Errorf("%q: plain, but left to encoding/json", token)
		}
	}

	var s stringType
	if err := s.UnmarshalJSON([]byte(`"a\u0041"`)); err != nil || s != "aA" {
		t.Errorf("escaped string through UnmarshalJSON = %q, %v", s, err)
	}
	if err := s.UnmarshalJSON([]byte(`"plain"`)); err != nil || s != "plain" {
		t.Errorf("plain string through UnmarshalJSON = %q, %v", s, err)
	}
}
