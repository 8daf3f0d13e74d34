package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/manifest"
)

// bookDir is the book's own manifests in the shared corpus.
func bookDir(t *testing.T) string {
	dir := os.Getenv("KGATE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "Kubernetes-for-Generative-AI-Solutions")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("book manifests not found (set KGATE_CORPUS): %v", err)
	}
	return dir
}

func docKey(file string, doc int) string { return fmt.Sprintf("%s#%d", filepath.Base(file), doc) }

type prediction struct {
	denied  bool
	mutated []string
}

// predict runs `kgate check` on the folder and returns, per file and document,
// whether the object is denied and which rules mutate it.
func predict(t *testing.T, bin, dir, cfg string) map[string]*prediction {
	cmd := exec.Command(bin, "check", "-o", "json", "--config", cfg, ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate check: %v", err)
	}
	var rep struct {
		Findings []struct {
			Rule   string `json:"rule"`
			Action string `json:"action"`
			File   string `json:"file"`
			Doc    int    `json:"doc"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	preds := map[string]*prediction{}
	for _, f := range rep.Findings {
		k := docKey(f.File, f.Doc)
		p := preds[k]
		if p == nil {
			p = &prediction{}
			preds[k] = p
		}
		switch f.Action {
		case "deny":
			p.denied = true
		case "mutate":
			if !slices.Contains(p.mutated, f.Rule) {
				p.mutated = append(p.mutated, f.Rule)
			}
		}
	}
	return preds
}

// The book's manifests applied in order through the webhook end as kgate check
// predicts for each object: the same engine online and offline.
func bookManifests(t *testing.T, c *cluster, bin, cfg string) {
	dir := bookDir(t)
	preds := predict(t, bin, dir, cfg)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	slices.Sort(files)
	compared := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _ = c.kubectl(string(data), "apply", "-f", "-")
		for _, d := range manifest.Parse(file, data).Docs {
			kind, name := d.Kind(), d.Name()
			args := []string{"get", kind, name, "--ignore-not-found", "-o", "json"}
			ns := policies.NamespaceOf(kind, d.Namespace())
			if ns != "" {
				args = append(args, "-n", ns)
			}
			out, stderr, err := c.kubectl("", args...)
			if err != nil {
				if strings.Contains(stderr, "the server doesn't have a resource type") {
					continue // no CRD for this kind on the test control plane (RayService, EC2NodeClass)
				}
				t.Fatalf("kubectl get %s %s: %v\n%s", kind, name, err, stderr)
			}
			p := preds[docKey(file, d.Index)]
			if p == nil {
				p = &prediction{}
			}
			compared++
			stored := strings.TrimSpace(out) != ""
			where := filepath.Base(file) + " " + kind + " " + name
			if stored == p.denied {
				t.Errorf("%s: kgate check predicts denied=%v, the API server stored=%v", where, p.denied, stored)
				continue
			}
			if !stored {
				continue
			}
			var obj struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal([]byte(out), &obj)
			var got []string
			if a := obj.Metadata.Annotations["kgate.dev/mutated"]; a != "" {
				got = strings.Split(a, ",")
			}
			slices.Sort(got)
			slices.Sort(p.mutated)
			if !slices.Equal(got, p.mutated) {
				t.Errorf("%s: mutated by %v, kgate check predicts %v", where, got, p.mutated)
			}
		}
	}
	if compared < 15 {
		t.Errorf("only %d book objects compared", compared)
	}
	t.Logf("%d objects of the book compared with kgate check", compared)
}
