package config

import "testing"

// FuzzParse feeds arbitrary text to the configuration reader: it must return a
// configuration or an error naming the file, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: kgate.dev/v1alpha1\nkind: Config\nrules:\n  NET-001: {action: warn}\n"))
	f.Add([]byte("apiVersion: kgate.dev/v1alpha1\nkind: Config\nparams: {gpuThreshold: 4}\nexemptions: {annotations: false}\n"))
	f.Add([]byte("rules: [\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.yaml", b)
		if err == nil && c == nil {
			t.Fatal("no configuration and no error")
		}
		if err == nil {
			_, _, _ = c.Resolve(testEngine(t))
		}
	})
}
