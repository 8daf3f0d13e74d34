package check

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/manifest"
)

// TestPlannedMatchesTopdown evaluates every object kgate has real or written
// examples of (the shared corpus, the per-rule cases, every rule's METADATA
// examples) with the planned program the engine runs and with OPA's topdown
// interpreter, as CREATE, UPDATE, DELETE and AUDIT, with default parameters and
// with the GenAI profile's, and requires identical decisions: findings, patches,
// patched objects and scope.
func TestPlannedMatchesTopdown(t *testing.T) {
	ctx := context.Background()
	sets := map[string][]*manifest.File{}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatalf("the shared corpus is needed: %v", err)
	}
	for _, en := range entries {
		if en.IsDir() {
			sets["corpus/"+en.Name()] = readSet(t, filepath.Join(corpus, en.Name()))
		}
	}
	cases := filepath.Join("..", "..", "test", "testdata", "rules")
	entries, err = os.ReadDir(cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		sets["rules/"+en.Name()] = readSet(t, filepath.Join(cases, en.Name()))
	}
	profile := map[string]any{"genaiNamespaceSelector": map[string]any{"matchLabels": map[string]any{"kgate.dev/genai": "true"}}}
	for _, params := range []map[string]any{nil, profile} {
		planned, err := policies.New(ctx, policies.Options{Params: params})
		if err != nil {
			t.Fatal(err)
		}
		topdown, err := policies.New(ctx, policies.Options{Params: params, TopDown: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range planned.Rules() {
			sets["examples/"+r.ID+"/bad"] = []*manifest.File{manifest.Split(r.ID+"-bad.yaml", []byte(r.Examples.Bad))}
			sets["examples/"+r.ID+"/good"] = []*manifest.File{manifest.Split(r.ID+"-good.yaml", []byte(r.Examples.Good))}
		}
		compared := 0
		for name, files := range sets {
			compared += compareSet(t, ctx, name, files, planned, topdown)
		}
		t.Logf("params %v: %d evaluations over %d sets agree", params != nil, compared, len(sets))
		if compared < 1000 {
			t.Fatalf("only %d evaluations compared; the corpus or the cases were not found", compared)
		}
	}
}

func readSet(t *testing.T, dir string) []*manifest.File {
	t.Helper()
	var files []*manifest.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !manifestExt(p) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, manifest.Split(p, b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func compareSet(t *testing.T, ctx context.Context, name string, files []*manifest.File, engines ...*policies.Engine) int {
	var docs []*manifest.Document
	for _, f := range files {
		ds, _ := f.ParseRange(0, f.NumChunks(), nil, false)
		docs = append(docs, ds...)
	}
	inv := policies.NewInventory()
	invKinds := map[string]bool{}
	for _, k := range engines[0].InventoryKinds() {
		invKinds[k] = true
	}
	namespaces := map[string]*policies.Namespace{}
	for _, d := range docs {
		if d.Kind() == "Namespace" {
			namespaces[d.Name()] = namespaceInfo(d)
		}
		if invKinds[d.Kind()] {
			inv.Add(d.Kind(), policies.NamespaceOf(d.Kind(), d.Namespace()), d.Name(), d.Object)
		}
	}
	for _, e := range engines {
		if err := e.SetInventory(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, d := range docs {
		for _, op := range []string{"CREATE", "UPDATE", "DELETE", "AUDIT"} {
			in := inputFor(d, namespaces)
			in.Operation = op
			switch op {
			case "UPDATE":
				in.OldObject = d.Object
			case "DELETE":
				in.OldObject, in.Object = d.Object, nil
			}
			var decs []*policies.Decision
			var errs []string
			for _, e := range engines {
				dec, err := e.Evaluate(ctx, in, policies.WithScope())
				decs = append(decs, dec)
				errs = append(errs, errString(err))
			}
			if errs[0] != errs[1] || !reflect.DeepEqual(decs[0], decs[1]) {
				a, _ := json.MarshalIndent(decs[0], "", " ")
				b, _ := json.MarshalIndent(decs[1], "", " ")
				t.Errorf("%s: %s doc %d (%s %s) %s: planned and topdown differ\nplanned (%s): %s\ntopdown (%s): %s",
					name, d.File, d.Index, d.Kind(), d.Name(), op, errs[0], a, errs[1], b)
			}
			n++
		}
	}
	return n
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	// The engines name the same rule and object; only the evaluator's own words
	// may differ.
	return strings.SplitN(err.Error(), ":", 2)[0]
}
