// Package corpus runs the kgate CLI over the shared corpus of real-world manifests
// and compares its verdicts with the expected ones.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type verdict struct {
	Verdict string `json:"verdict"`
	Edge    bool   `json:"edge"`
	Reason  string `json:"reason"`
}

type expectedObject struct {
	File       string             `json:"file"`
	Doc        *int               `json:"doc"`
	Item       *int               `json:"item"`
	Kind       *string            `json:"kind"`
	Name       string             `json:"name"`
	ParseError bool               `json:"parse_error"`
	Rules      map[string]verdict `json:"rules"`
}

type expectedNamespace struct {
	Set       string `json:"set"`
	Namespace string `json:"namespace"`
	verdict
}

// located is the part of a finding or a pass the comparison needs.
type located struct {
	Rule      string `json:"rule"`
	File      string `json:"file"`
	Doc       int    `json:"doc"`
	Item      *int   `json:"item"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
}

type checkOutput struct {
	Findings []located `json:"findings"`
	Errors   []struct {
		File string `json:"file"`
	} `json:"errors"`
	Passes  []located `json:"passes"`
	Summary struct {
		Objects int `json:"objects"`
	} `json:"summary"`
}

func key(file string, doc int, item *int) string {
	if item == nil {
		return fmt.Sprintf("%s#%d", file, doc)
	}
	return fmt.Sprintf("%s#%d.%d", file, doc, *item)
}

// TestCorpus runs `kgate check -o json --passes` once per corpus folder (each
// folder is one manifest set) and compares every verdict of the rules kgate
// implements. Non-edge disagreements fail; edge ones are listed (see docs/corpus.md).
func TestCorpus(t *testing.T) {
	corpus := corpusDir(t)
	bin := buildCLI(t)
	implemented := implementedRules(t, bin)

	expected := readJSONL[expectedObject](t, filepath.Join(corpus, "expected.jsonl"))
	expectedNS := readJSONL[expectedNamespace](t, filepath.Join(corpus, "expected-namespaces.jsonl"))

	sets := map[string]bool{}
	for _, e := range expected {
		sets[strings.SplitN(e.File, "/", 2)[0]] = true
	}
	verdicts := map[string]map[string]string{} // object key -> rule -> verdict
	nsVerdicts := map[string]string{}          // set/namespace -> NETPOL-001 verdict
	errorFiles := map[string]bool{}
	objects := 0
	for set := range sets {
		out := runCheck(t, bin, corpus, set)
		objects += out.Summary.Objects
		for _, e := range out.Errors {
			errorFiles[e.File] = true
		}
		for _, p := range out.Passes {
			k := key(p.File, p.Doc, p.Item)
			if verdicts[k] == nil {
				verdicts[k] = map[string]string{}
			}
			verdicts[k][p.Rule] = "pass"
			if p.Rule == "NETPOL-001" && p.Kind != "Namespace" && nsVerdicts[set+"/"+p.Namespace] == "" {
				nsVerdicts[set+"/"+p.Namespace] = "pass"
			}
		}
		for _, f := range out.Findings {
			k := key(f.File, f.Doc, f.Item)
			if verdicts[k] == nil {
				verdicts[k] = map[string]string{}
			}
			verdicts[k][f.Rule] = "violates"
			if f.Rule == "NETPOL-001" && f.Kind != "Namespace" {
				nsVerdicts[set+"/"+f.Namespace] = "violates"
			}
		}
	}

	var edges []string
	checked := 0
	for _, e := range expected {
		if e.ParseError {
			if !errorFiles[e.File] {
				t.Errorf("%s: expected a parse error, kgate reported none", e.File)
			}
			continue
		}
		k := key(e.File, *e.Doc, e.Item)
		for _, id := range sortedKeys(e.Rules) {
			if !implemented[id] {
				continue
			}
			want := e.Rules[id]
			got := verdicts[k][id]
			if got == "" {
				got = "n/a"
			}
			checked++
			if got == want.Verdict {
				continue
			}
			msg := fmt.Sprintf("%s %s (%s %s): got %s, want %s (%s)", id, k, deref(e.Kind), e.Name, got, want.Verdict, want.Reason)
			if want.Edge {
				edges = append(edges, msg)
				continue
			}
			t.Error(msg)
		}
	}
	if implemented["NETPOL-001"] {
		for _, e := range expectedNS {
			got := nsVerdicts[e.Set+"/"+e.Namespace]
			if got == "" {
				got = "n/a"
			}
			checked++
			if got != e.Verdict {
				msg := fmt.Sprintf("NETPOL-001 set %s namespace %s: got %s, want %s (%s)", e.Set, e.Namespace, got, e.Verdict, e.Reason)
				if e.Edge {
					edges = append(edges, msg)
				} else {
					t.Error(msg)
				}
			}
		}
		if len(nsVerdicts) != len(expectedNS) {
			t.Errorf("NETPOL-001: kgate judged %d (set, namespace) pairs, expected-namespaces.jsonl has %d", len(nsVerdicts), len(expectedNS))
		}
	}
	wantObjects := 0
	for _, e := range expected {
		if !e.ParseError {
			wantObjects++
		}
	}
	if objects != wantObjects {
		t.Errorf("kgate read %d objects, expected.jsonl lists %d", objects, wantObjects)
	}
	sort.Strings(edges)
	for _, m := range edges {
		t.Logf("edge case differs (see docs/corpus.md): %s", m)
	}
	t.Logf("%d verdicts compared over %d objects for %d rules; %d edge cases differ", checked, objects, len(implemented), len(edges))
	if checked == 0 {
		t.Fatal("no verdict compared")
	}
}

func corpusDir(t *testing.T) string {
	dir := os.Getenv("KGATE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "expected.jsonl")); err != nil {
		t.Fatalf("corpus not found at %s (set KGATE_CORPUS): %v", abs, err)
	}
	return abs
}

func buildCLI(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "kgate")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/kgate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build kgate: %v\n%s", err, out)
	}
	return bin
}

func implementedRules(t *testing.T, bin string) map[string]bool {
	out, err := exec.Command(bin, "policies", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kgate policies: %v", err)
	}
	var list struct {
		Rules []struct {
			ID string `json:"id"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range list.Rules {
		ids[r.ID] = true
	}
	return ids
}

func runCheck(t *testing.T, bin, corpus, set string) checkOutput {
	cmd := exec.Command(bin, "check", "-o", "json", "--passes", set)
	cmd.Dir = corpus
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 2) {
		t.Fatalf("kgate check %s: %v\n%s", set, err, stderr.String())
	}
	var out checkOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("kgate check %s: output is not the JSON contract: %v\n%s", set, err, stdout.String())
	}
	return out
}

func readJSONL[T any](t *testing.T, path string) []T {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
