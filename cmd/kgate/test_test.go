package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The worked example of docs/authoring.md passes kgate test; a broken assertion
// is printed with its file:line and the values involved; a rule whose METADATA
// kgate would refuse fails before any test runs.
func TestKgateTestOnTheWorkedExample(t *testing.T) {
	out, stderr, code := run(t, "", "test", "../../examples/policies")
	if code != exitOK || !strings.Contains(out, "PASS:") || !strings.Contains(out, "gpu_team_label.rego") {
		t.Fatalf("kgate test examples/policies: exit %d\n%s%s", code, out, stderr)
	}

	dir := t.TempDir()
	copyDir(t, "../../examples/policies/team", filepath.Join(dir, "team"))
	testFile := filepath.Join(dir, "team", "gpu_team_label_test.rego")
	src, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "\tcount(vs) == 2\n", "\tcount(vs) == 3\n", 1)
	if broken == string(src) {
		t.Fatal("the assertion to break is not in the example test any more")
	}
	writeTestFile(t, testFile, broken)
	out, _, code = run(t, "", "test", dir)
	if code != exitDeny {
		t.Errorf("a failing test must exit %d, got %d", exitDeny, code)
	}
	for _, want := range []string{"FAIL", testFile + ":28", "count(vs) == 3", `"action": "deny"`} {
		if !strings.Contains(out, want) {
			t.Errorf("failure report lacks %q:\n%s", want, out)
		}
	}

	writeTestFile(t, testFile, string(src))
	rule := filepath.Join(dir, "team", "gpu_team_label.rego")
	r, _ := os.ReadFile(rule)
	writeTestFile(t, rule, strings.Replace(string(r), "default_action: deny", "default_action: block", 1))
	_, stderr, code = run(t, "", "test", dir)
	if code != exitUsage || !strings.Contains(stderr, "default_action") {
		t.Errorf("invalid METADATA must fail kgate test with exit %d naming the field, got %d: %s", exitUsage, code, stderr)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(to, e.Name()), string(b))
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
