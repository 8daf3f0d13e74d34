package policies

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

func newTestEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	e, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func configMap(meta map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
}

// Two rules adding annotations to an object without metadata.annotations must
// produce one valid patch that keeps both annotations.
func TestMergedPatchCreatesMissingMapOnce(t *testing.T) {
	e := newTestEngine(t, Options{PolicyDirs: []string{"testdata/annotators"}})
	tests := []struct {
		name string
		meta map[string]any
		want map[string]any
	}{
		{
			name: "no annotations, no labels",
			meta: map[string]any{"name": "cm"},
			want: map[string]any{"name": "cm",
				"annotations": map[string]any{"kgate.test/team": "platform", "kgate.test/owner": "me"},
				"labels":      map[string]any{"owner": "me"}},
		},
		{
			name: "annotations present",
			meta: map[string]any{"name": "cm", "annotations": map[string]any{"a": "b"}, "labels": map[string]any{}},
			want: map[string]any{"name": "cm",
				"annotations": map[string]any{"a": "b", "kgate.test/team": "platform", "kgate.test/owner": "me"},
				"labels":      map[string]any{"owner": "me"}},
		},
		{
			name: "null annotations",
			meta: map[string]any{"name": "cm", "annotations": nil},
			want: map[string]any{"name": "cm",
				"annotations": map[string]any{"kgate.test/team": "platform", "kgate.test/owner": "me"},
				"labels":      map[string]any{"owner": "me"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := configMap(tc.meta)
			orig, _ := json.Marshal(obj)
			d, err := e.Evaluate(context.Background(), &Input{Operation: "CREATE", Kind: GVK{Version: "v1", Kind: "ConfigMap"}, Namespace: "default", Name: "cm", Object: obj})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Findings) != 2 {
				t.Fatalf("want 2 findings, got %+v", d.Findings)
			}
			// The merged patch must apply with an independent RFC 6902 implementation.
			raw, _ := json.Marshal(d.Patch)
			p, err := jsonpatch.DecodePatch(raw)
			if err != nil {
				t.Fatal(err)
			}
			patched, err := p.Apply(orig)
			if err != nil {
				t.Fatalf("merged patch does not apply: %v\n%s", err, raw)
			}
			var got map[string]any
			_ = json.Unmarshal(patched, &got)
			if !reflect.DeepEqual(got["metadata"], tc.want) {
				t.Errorf("patched metadata = %v, want %v", got["metadata"], tc.want)
			}
			if !reflect.DeepEqual(d.Patched, got) {
				t.Errorf("Decision.Patched differs from the patch result:\n%v\n%v", d.Patched, got)
			}
			// Idempotence: the patched object yields no finding and no patch.
			again, err := e.Evaluate(context.Background(), &Input{Operation: "CREATE", Kind: GVK{Version: "v1", Kind: "ConfigMap"}, Namespace: "default", Name: "cm", Object: got})
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Findings) != 0 || len(again.Patch) != 0 {
				t.Errorf("patched object still has findings %+v / patch %+v", again.Findings, again.Patch)
			}
		})
	}
}

func TestParams(t *testing.T) {
	e := newTestEngine(t, Options{PolicyDirs: []string{"testdata/annotators"}, Params: map[string]any{"testTeam": "ml"}})
	d, err := e.Evaluate(context.Background(), &Input{Operation: "CREATE", Kind: GVK{Version: "v1", Kind: "ConfigMap"}, Namespace: "default", Object: configMap(map[string]any{"name": "x"})})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Patched.(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)["kgate.test/team"]; got != "ml" {
		t.Errorf("team annotation = %v, want the configured ml", got)
	}
	if _, err := New(context.Background(), Options{Params: map[string]any{"gpuTreshold": 4}}); err == nil || !strings.Contains(err.Error(), "gpuTreshold") {
		t.Errorf("a misspelt parameter must be an error naming it, got %v", err)
	}
	for name, params := range map[string]map[string]any{
		"string for integer": {"gpuThreshold": "8"},
		"below minimum":      {"gpuThreshold": 0},
		"wrong item type":    {"allowedZones": []any{"us-west-2a", 3}},
		"empty user string":  {"testTeam": ""},
	} {
		_, err := New(context.Background(), Options{PolicyDirs: []string{"testdata/annotators"}, Params: params})
		for k := range params {
			if err == nil || !strings.Contains(err.Error(), "parameter "+k) {
				t.Errorf("%s: want an error naming parameter %s, got %v", name, k, err)
			}
		}
	}
}

func TestBadPolicyIsRejectedWithLocation(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"no id":                         "# METADATA\n# title: x\n# custom:\n#   severity: low\n#   kinds: [Pod]\n#   default_action: warn\npackage kgate.rules.x.y\n\nviolation contains {\"msg\": \"m\"} if false\n",
		"bad action":                    "# METADATA\n# title: x\n# custom:\n#   id: X-1\n#   severity: low\n#   kinds: [Pod]\n#   default_action: block\npackage kgate.rules.x.y\n\nviolation contains {\"msg\": \"m\"} if false\n",
		"syntax":                        "package kgate.rules.x.y\n\nviolation contains if {\n",
		"no schema":                     "# METADATA\n# title: x\n# custom:\n#   id: X-1\n#   severity: low\n#   kinds: [Pod]\n#   default_action: warn\n#   params:\n#     n: 1\npackage kgate.rules.x.y\n\nviolation contains {\"msg\": \"m\"} if false\n",
		"bad default":                   "# METADATA\n# title: x\n# custom:\n#   id: X-1\n#   severity: low\n#   kinds: [Pod]\n#   default_action: warn\n#   params:\n#     n: one\n#   schema:\n#     n: {type: integer}\npackage kgate.rules.x.y\n\nviolation contains {\"msg\": \"m\"} if false\n",
		"inventory without referential": "# METADATA\n# title: x\n# custom:\n#   id: X-1\n#   severity: low\n#   kinds: [Pod]\n#   default_action: warn\n#   inventory: [Namespace]\npackage kgate.rules.x.y\n\nviolation contains {\"msg\": \"m\"} if false\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			writeFile(t, dir+"/p.rego", src)
			_, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
			if err == nil || !strings.Contains(err.Error(), dir+"/p.rego") {
				t.Errorf("want an error naming %s/p.rego, got %v", dir, err)
			}
		})
	}
}

func TestApplyPatchSemantics(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"list": []any{"a", "b"}}}
	got, err := ApplyPatch(obj, []PatchOp{
		{Op: "remove", Path: "/metadata/annotations/missing"},
		{Op: "replace", Path: "/spec/type", Value: "x"},
		{Op: "add", Path: "/spec/list/-", Value: "c"},
		{Op: "add", Path: "/spec/list/0", Value: "z"},
		{Op: "add", Path: "/metadata/labels/a~1b", Value: "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"spec":     map[string]any{"list": []any{"z", "a", "b", "c"}, "type": "x"},
		"metadata": map[string]any{"labels": map[string]any{"a/b": "v"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := obj["metadata"]; ok {
		t.Error("ApplyPatch changed its input")
	}
	if _, err := ApplyPatch(obj, []PatchOp{{Op: "add", Path: "/spec/list/9", Value: 1}}); err == nil {
		t.Error("out-of-range index must fail")
	}
}
