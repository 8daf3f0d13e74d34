package policies

import (
	"context"
	"strings"
	"testing"
)

// TestRegoLibrary runs every *_test.rego of the built-in library.
func TestRegoLibrary(t *testing.T) {
	run, err := RunTests(context.Background(), TestOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	results := run.Results
	if len(results) == 0 {
		t.Fatal("no Rego tests found")
	}
	for _, r := range results {
		name := strings.TrimPrefix(r.Package, "data.") + "." + r.Name
		if r.Fail || r.Error != nil {
			t.Errorf("%s (%s): fail=%v err=%v\n%s", name, r.Location, r.Fail, r.Error, r.Output)
		}
	}
	t.Logf("%d Rego tests", len(results))
}
