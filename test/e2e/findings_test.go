package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgate-dev/kgate/policies/manifest"
)

// sameFindings applies the book's objects of the kinds referential rules read
// (so the webhook's inventory and kgate check's see the same objects), then sends
// every other object through the webhook with a server dry run and compares the
// rules that deny, warn and mutate with kgate check's on the same set.
func sameFindings(t *testing.T, c *cluster, cfg, policiesDir string) {
	book := bookDir(t)
	inventoryKinds := inventoryKinds(t, c.bin)
	set := t.TempDir()
	writeFile(t, filepath.Join(set, "00-namespace.yaml"), bookNamespace)
	type object struct {
		file string
		doc  *manifest.Document
	}
	var probes []object
	source := map[*manifest.Document]string{}
	files, _ := filepath.Glob(filepath.Join(book, "*.yaml"))
	slices.Sort(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f := manifest.Parse(file, data)
		if len(f.Errors) > 0 {
			continue
		}
		var kept []string
		for _, d := range f.Docs {
			b, err := json.Marshal(d.Object) // JSON is YAML to kubectl and kgate check
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			if inventoryKinds[d.Kind()] && d.Kind() != "Namespace" {
				// Context: stored for real; it joins the set only if admitted.
				if _, _, err := c.kubectl(text, "apply", "-f", "-"); err != nil {
					continue
				}
			} else {
				probes = append(probes, object{filepath.Base(file), d})
				source[d] = text
			}
			kept = append(kept, text)
		}
		writeFile(t, filepath.Join(set, filepath.Base(file)), strings.Join(kept, "\n---\n"))
	}
	time.Sleep(time.Second) // the inventory cache rebuilds 200 ms after a change

	want := checkFindings(t, c.bin, set, cfg, policiesDir)
	compared := 0
	for _, p := range probes {
		got, ok := dryRunFindings(t, c, source[p.doc])
		if !ok {
			continue // kind not served by the test control plane (no CRD)
		}
		compared++
		key := p.file + "#" + p.doc.Name()
		w := want[key]
		slices.Sort(w)
		t.Logf("%s %s: %v", key, p.doc.Kind(), got)
		if !slices.Equal(got, w) {
			t.Errorf("%s %s: webhook %v, kgate check %v", key, p.doc.Kind(), got, w)
		}
	}
	if compared < 10 {
		t.Errorf("only %d objects compared", compared)
	}
	t.Logf("%d objects: the webhook's deny, warn and mutate findings equal kgate check's", compared)
}

// checkFindings runs kgate check on the set and returns, per file#name, the
// sorted "RULE action" entries of deny, warn and mutate findings.
func checkFindings(t *testing.T, bin, dir, cfg, policiesDir string) map[string][]string {
	cmd := exec.Command(bin, "check", "-o", "json", "--config", cfg, "--policies", policiesDir, ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate check: %v\n%s", err, out)
	}
	var rep struct {
		Findings []struct {
			Rule, Action, File, Name string
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Action == "deny" || f.Action == "warn" || f.Action == "mutate" {
			k := filepath.Base(f.File) + "#" + f.Name
			e := f.Rule + " " + f.Action
			if !slices.Contains(m[k], e) {
				m[k] = append(m[k], e)
			}
		}
	}
	return m
}

var (
	warningRE = regexp.MustCompile(`(?m)^Warning: ([A-Z]+-[0-9]+) .*?( \(not fixed: the mutating webhook did not run\))?$`)
	deniedRE  = regexp.MustCompile(`denied the request: (.*)$`)
	ruleRE    = regexp.MustCompile(`(?:^|; )([A-Z]+-[0-9]+) /`)
)

// dryRunFindings creates the object with a server dry run and reads kgate's
// answer: denials from the error, warnings from kubectl's stderr, mutations from
// the kgate.dev/mutated annotation of the returned object.
func dryRunFindings(t *testing.T, c *cluster, doc string) ([]string, bool) {
	out, stderr, err := c.kubectl(doc, "create", "--dry-run=server", "-o", "json", "-f", "-")
	if strings.Contains(stderr, "ensure CRDs are installed") || strings.Contains(stderr, "the server doesn't have a resource type") {
		return nil, false
	}
	var got []string
	add := func(e string) {
		if !slices.Contains(got, e) {
			got = append(got, e)
		}
	}
	for _, m := range warningRE.FindAllStringSubmatch(stderr, -1) {
		if m[2] != "" {
			add(m[1] + " mutate") // a mutation the validating webhook saw unapplied
			continue
		}
		add(m[1] + " warn")
	}
	if err != nil {
		m := deniedRE.FindStringSubmatch(strings.TrimSpace(stderr))
		if m == nil {
			t.Fatalf("dry run failed without a kgate denial: %v\n%s", err, stderr)
		}
		for _, r := range ruleRE.FindAllStringSubmatch(m[1], -1) {
			add(r[1] + " deny")
		}
	} else {
		var obj struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal([]byte(out), &obj)
		if a := obj.Metadata.Annotations["kgate.dev/mutated"]; a != "" {
			for _, r := range strings.Split(a, ",") {
				add(r + " mutate")
			}
		}
	}
	slices.Sort(got)
	return got, true
}

func inventoryKinds(t *testing.T, bin string) map[string]bool {
	out, err := exec.Command(bin, "policies", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Rules []struct {
			Inventory []string `json:"inventory"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range list.Rules {
		for _, k := range r.Inventory {
			kinds[k] = true
		}
	}
	return kinds
}
