package manifest

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to the manifest reader: it must never panic,
// every error must carry the file name, and every pointer lookup must return a
// line inside the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(multi))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [1, {kind: X}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("---\n---\n...\n"))
	f.Add([]byte("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}"))
	f.Add([]byte("apiVersion: v1\nkind: X\n<<: {a: 1}\nspec: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := Parse("fuzz.yaml", data)
		for _, e := range file.Errors {
			if e.File != "fuzz.yaml" {
				t.Fatalf("error without file: %+v", e)
			}
		}
		for _, d := range file.Docs {
			for _, p := range []string{"", "/metadata/name", "/spec/containers/0/resources/limits", "/items/~1x/0"} {
				if l := d.LineOf(p); l < 1 {
					t.Fatalf("LineOf(%q) = %d", p, l)
				}
			}
		}
		if _, err := file.Bytes(); err != nil {
			t.Fatalf("Bytes on an unchanged file: %v", err)
		}
	})
}
