package webhook

import (
	"reflect"
	"testing"
)

var objectSeeds = []string{
	``, `  `, `null`, `[]`, `"text"`, `1`, `{}`, ` {"a":1} `, `{"a":1}}`, `{"a":1} x`, `{"a":1}{}`,
	`{"a":{"b":[1,-2.5e+3,0,true,false,null,"x",{},[]],"c":"\u00e9\n\ud83d\ude00\ud800"},"a2":9007199254740993}`,
	`{"k\u00e9y":1,"dup":1,"dup":{"x":2}}`, "{\"bad\":\"caf\xe9\",\"\xff\":1}", `{"a":01}`, `{"a":"\x"}`,
	"{\"a\":\"\t\"}", `{"a":[1,]}`, `{"a":1,}`, `{"a" 1}`, `{"a":tru}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`,
	apiServerReview,
}

// TestDecodeObjectMatchesEncodingJSON decodes values with decode and with
// encoding/json: the results and errors are the same.
func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, raw := range objectSeeds {
		sameAsEncodingJSON(t, []byte(raw))
	}
	if _, ok := decodeObject([]byte(apiServerReview)); !ok {
		t.Error("decodeObject left an API server's review to encoding/json")
	}
}

func sameAsEncodingJSON(t *testing.T, raw []byte) {
	t.Helper()
	got, err := decode(raw)
	want, wantErr := decodeJSON(raw)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q: error %v, encoding/json's %v", raw, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded\n%#v\nencoding/json decoded\n%#v", raw, got, want)
	}
}

// FuzzDecodeObject checks that decode, with its one-pass decoder, decodes
// whatever it is given as encoding/json does. Run it with
// go test -run '^$' -fuzz FuzzDecodeObject -fuzztime 1m ./webhook/
func FuzzDecodeObject(f *testing.F) {
	for _, raw := range objectSeeds {
		f.Add([]byte(raw))
	}
	f.Fuzz(sameAsEncodingJSON)
}
