package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run executes kgate in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand(strings.NewReader(stdin), &stdout, &stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := exitOK
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		code = exit.code
	case err != nil:
		stderr.WriteString(err.Error())
		code = exitUsage
	}
	return stdout.String(), stderr.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (check the change, then go test -update):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCheckOutputs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
	}{
		{"text.txt", []string{"check", "testdata/manifests"}, "", exitDeny},
		{"json.json", []string{"check", "-o", "json", "testdata/manifests"}, "", exitDeny},
		{"junit.xml", []string{"check", "-o", "junit", "testdata/manifests"}, "", exitDeny},
		{"sarif.json", []string{"check", "-o", "sarif", "testdata/manifests"}, "", exitDeny},
		{"github.txt", []string{"check", "-o", "github", "testdata/manifests"}, "", exitDeny},
		{"passes.json", []string{"check", "-o", "json", "--passes", "testdata/manifests/storage.yaml"}, "", exitOK},
		{"broken.txt", []string{"check", "testdata/broken.yaml", "testdata/missing.yaml"}, "", exitUsage},
		{"stdin.json", []string{"check", "-o", "json", "-"}, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: s}\nprovisioner: kubernetes.io/aws-ebs\n", exitDeny},
		{"fix.yaml", []string{"check", "--fix", "testdata/manifests/storage.yaml", "testdata/manifests/services.yaml"}, "", exitOK},
		{"explain-efa-001.txt", []string{"explain", "efa-001"}, "", exitOK},
		{"exempt.txt", []string{"check", "testdata/exempt.yaml"}, "", exitDeny},
		{"exempt-github.txt", []string{"check", "-o", "github", "testdata/exempt.yaml"}, "", exitDeny},
		{"passes.txt", []string{"check", "--passes", "testdata/manifests/storage.yaml"}, "", exitOK},
		{"exempt.json", []string{"check", "-o", "json", "testdata/exempt.yaml"}, "", exitDeny},
		{"explain-unknown.txt", []string{"explain", "NOPE-1"}, "", exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, tc.wantCode, stderr)
			}
			golden(t, tc.name, stdout)
		})
	}
}

// The fixed manifests pass the rules whose mutations were applied.
func TestFixThenCheckPasses(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := run(t, "", "check", "--fix-dir", dir, "testdata/manifests/storage.yaml", "testdata/manifests/services.yaml")
	if code != exitOK || !strings.Contains(stderr, "fixed ") {
		t.Fatalf("fix run: code %d, stderr %s", code, stderr)
	}
	stdout, _, code := run(t, "", "check", "-o", "json", dir)
	if code != exitOK {
		t.Errorf("fixed manifests: exit %d\n%s", code, stdout)
	}
	for _, id := range []string{"STORAGE-001", "NET-001", "TOPO-001", "STORAGE-003", "STORAGE-004"} {
		if strings.Contains(stdout, `"rule": "`+id+`"`) {
			t.Errorf("%s still reported after --fix:\n%s", id, stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"check"},
		{"check", "-o", "yaml", "x"},
		{"check", "--params", "testdata/missing-params.yaml", "testdata/manifests"},
		{"check", "--policies", "testdata/nope", "testdata/manifests"},
	} {
		_, stderr, code := run(t, "", args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, stderr)
		}
	}
}

// docs/rules.md is generated from the METADATA; a rule change without `make docs`
// fails here.
func TestRulesDocIsCurrent(t *testing.T) {
	stdout, stderr, code := run(t, "", "policies", "-o", "markdown")
	if code != exitOK {
		t.Fatalf("kgate policies -o markdown: %d %s", code, stderr)
	}
	want, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Error("docs/rules.md is stale: run make docs")
	}
}

func TestCertsCreatesThenKeeps(t *testing.T) {
	dir := t.TempDir()
	first, stderr, code := run(t, "", "certs", "--cert-dir", dir, "--host", "127.0.0.1")
	if code != exitOK || !strings.Contains(stderr, "wrote tls.crt") {
		t.Fatalf("certs: %d %s", code, stderr)
	}
	crt, _ := os.ReadFile(filepath.Join(dir, "tls.crt"))
	second, stderr, code := run(t, "", "certs", "--cert-dir", dir)
	if code != exitOK || stderr != "" || second != first {
		t.Errorf("a current certificate must be kept and its CA bundle printed again: %d %q", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "tls.crt")); string(again) != string(crt) {
		t.Error("the certificate was replaced although it is current")
	}
}
