package corpus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// expectActionAnnotation optionally pins the action a violates.yaml object must get.
const expectActionAnnotation = "test.kgate.dev/expect-action"

// TestRuleCases runs the CLI over the project's own cases for the rules the shared
// corpus does not cover: test/testdata/rules/<RULE-ID>/violates.yaml and pass.yaml.
// Every object of violates.yaml must be reported by the rule (with the action its
// test.kgate.dev/expect-action annotation names, if any) and every object of
// pass.yaml must be in the rule's scope and pass it. Objects named ctx-* are context
// for referential rules (a StorageClass a PVC names, a namespace's policies) and
// are not judged.
func TestRuleCases(t *testing.T) {
	root := filepath.Join("..", "testdata", "rules")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildCLI(t)
	implemented := implementedRules(t, bin)
	for _, d := range dirs {
		id := d.Name()
		t.Run(id, func(t *testing.T) {
			if !implemented[id] {
				t.Fatalf("cases for %s, which kgate policies does not list", id)
			}
			for _, file := range []string{"violates.yaml", "pass.yaml"} {
				path := filepath.Join(root, id, file)
				if _, err := os.Stat(path); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				out := runCase(t, bin, path)
				if out.Summary.Objects == 0 {
					t.Fatalf("%s holds no object", path)
				}
				judged := 0
				for _, o := range out.objects {
					if strings.HasPrefix(o.name, "ctx-") {
						continue
					}
					judged++
					actions := o.findings[id]
					switch file {
					case "violates.yaml":
						if len(actions) == 0 {
							t.Errorf("%s doc %d (%s %s): not reported by %s; other findings: %v", path, o.doc, o.kind, o.name, id, o.findings)
						} else if want := o.expect; want != "" && !contains(actions, want) {
							t.Errorf("%s doc %d (%s %s): actions %v, want %s", path, o.doc, o.kind, o.name, actions, want)
						}
					case "pass.yaml":
						if len(actions) > 0 {
							t.Errorf("%s doc %d (%s %s): reported by %s (%v), want a pass", path, o.doc, o.kind, o.name, id, actions)
						} else if !o.passes[id] {
							t.Errorf("%s doc %d (%s %s): not in the scope of %s, want a pass", path, o.doc, o.kind, o.name, id)
						}
					}
				}
				if judged == 0 {
					t.Errorf("%s: every object is context (ctx-*); nothing is judged", path)
				}
			}
		})
	}
}

type caseObject struct {
	doc        int
	kind, name string
	expect     string
	findings   map[string][]string // rule -> actions
	passes     map[string]bool
}

type caseOutput struct {
	Findings []struct {
		Rule   string `json:"rule"`
		Action string `json:"action"`
		Doc    int    `json:"doc"`
	} `json:"findings"`
	Passes []struct {
		Rule string `json:"rule"`
		Doc  int    `json:"doc"`
	} `json:"passes"`
	Summary struct {
		Objects int `json:"objects"`
	} `json:"summary"`
	objects []*caseObject
}

func runCase(t *testing.T, bin, path string) caseOutput {
	t.Helper()
	cmd := exec.Command(bin, "check", "-o", "json", "--passes", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate check %s: %v\n%s%s", path, err, stdout.String(), stderr.String())
	}
	var out caseOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("kgate check %s: %v", path, err)
	}
	// The object list comes from kgate itself (every object is in scope of some
	// rule or not), so read names and annotations with a plain YAML-to-JSON pass.
	for i, obj := range splitObjects(t, path) {
		o := &caseObject{doc: i, kind: obj.Kind, name: obj.Metadata.Name, expect: obj.Metadata.Annotations[expectActionAnnotation],
			findings: map[string][]string{}, passes: map[string]bool{}}
		out.objects = append(out.objects, o)
	}
	for _, f := range out.Findings {
		if f.Doc < len(out.objects) {
			out.objects[f.Doc].findings[f.Rule] = append(out.objects[f.Doc].findings[f.Rule], f.Action)
		}
	}
	for _, p := range out.Passes {
		if p.Doc < len(out.objects) {
			out.objects[p.Doc].passes[p.Rule] = true
		}
	}
	if len(out.objects) != out.Summary.Objects {
		t.Fatalf("%s: %d documents but kgate read %d objects (cases hold one object per document)", path, len(out.objects), out.Summary.Objects)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type caseMeta struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
}

func splitObjects(t *testing.T, path string) []caseMeta {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []caseMeta
	dec := yaml.NewDecoder(f)
	for {
		var m caseMeta
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m.Kind != "" {
			out = append(out, m)
		}
	}
}
