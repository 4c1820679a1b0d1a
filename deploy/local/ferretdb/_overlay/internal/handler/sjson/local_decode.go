package sjson

import "encoding/json"

// localUnmarshal decodes one JSON value held whole in memory (docs/adr/0036).
//
// Upstream wraps every document, array and scalar in a json.Decoder over a bytes.Reader and then
// checks the reader is drained: the decoder copies the bytes into a buffer of its own, growing it
// as it goes (a tenth of the server's decoding time in a bench of the pipeline). json.Unmarshal
// scans and decodes the slice in place, and it too rejects anything after the value but
// whitespace — which a document written by sjson.Marshal never has.
func localUnmarshal(data []byte, v any) error {
	return json.Unmarshal(data, v)
}
