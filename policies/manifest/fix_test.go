package manifest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Fixing one document keeps comments, key order and quoting, and leaves the
// other documents byte for byte.
func TestFixKeepsCommentsAndOrder(t *testing.T) {
	src, err := os.ReadFile("testdata/fix-input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := Parse("fix-input.yaml", src)
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	err = f.Docs[1].ApplyPatch([]policies.PatchOp{
		{Op: "replace", Path: "/parameters/type", Value: "gp3"},
		{Op: "add", Path: "/parameters/encrypted", Value: "true"},
		{Op: "add", Path: "/volumeBindingMode", Value: "WaitForFirstConsumer"},
		{Op: "add", Path: "/metadata/annotations", Value: map[string]any{}},
		{Op: "add", Path: "/metadata/annotations/kgate.dev~1mutated", Value: "STORAGE-001"},
		{Op: "remove", Path: "/parameters/fsType"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Changed() {
		t.Fatal("file not marked changed")
	}
	out, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "fix-output.yaml", out)
	again := Parse("fix-output.yaml", out)
	if len(again.Errors) > 0 || len(again.Docs) != 3 {
		t.Fatalf("fixed file does not parse back: %v", again.Errors)
	}
	params := again.Docs[1].Object["parameters"].(map[string]any)
	if params["type"] != "gp3" || params["encrypted"] != "true" || params["fsType"] != nil {
		t.Errorf("parameters after fix = %v", params)
	}
}
