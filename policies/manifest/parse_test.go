package manifest

import (
	"strings"
	"testing"
)

const multi = `# header comment only: not a document
---
apiVersion: v1
kind: Service
metadata:
  name: a
  annotations:
    x/y: "1"
spec:
  ports:
  - port: 80
---
# an empty document
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: c1}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: c2
--- # trailing comment on the separator
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "x"}]}}
`

func TestParseDocumentsAndLines(t *testing.T) {
	f := Parse("m.yaml", []byte(multi))
	if len(f.Errors) != 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	type want struct {
		index, item, line int
		kind, name        string
	}
	wants := []want{
		{0, -1, 3, "Service", "a"},
		{1, 0, 18, "ConfigMap", "c1"},
		{1, 1, 21, "ConfigMap", "c2"},
		{2, -1, 26, "Pod", "p"},
	}
	if len(f.Docs) != len(wants) {
		t.Fatalf("got %d documents, want %d", len(f.Docs), len(wants))
	}
	for i, w := range wants {
		d := f.Docs[i]
		if d.Index != w.index || d.Item != w.item || d.Line != w.line || d.Kind() != w.kind || d.Name() != w.name {
			t.Errorf("doc %d = {index %d item %d line %d %s %s}, want %+v", i, d.Index, d.Item, d.Line, d.Kind(), d.Name(), w)
		}
	}
	lines := []struct {
		doc     int
		pointer string
		line    int
	}{
		{0, "/metadata/annotations/x~1y", 8},
		{0, "/spec/ports/0/port", 11},
		{0, "/spec/ports/3", 10},       // missing element: closest parent
		{0, "/metadata/labels/app", 5}, // missing map: metadata
		{0, "", 3},
		{3, "/spec/containers/0/resources", 26}, // flow style: one line
		{1, "/metadata/name", 20},
		{2, "/metadata/name", 24},
	}
	for _, l := range lines {
		if got := f.Docs[l.doc].LineOf(l.pointer); got != l.line {
			t.Errorf("doc %d LineOf(%q) = %d, want %d", l.doc, l.pointer, got, l.line)
		}
	}
}

func TestParseErrorsKeepOtherDocuments(t *testing.T) {
	src := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok1}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n    b: c\n---\n- not\n- an object\n---\nmetadata: {name: nokind}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok2}\n"
	f := Parse("bad.yaml", []byte(src))
	if len(f.Docs) != 2 || f.Docs[0].Name() != "ok1" || f.Docs[1].Name() != "ok2" || f.Docs[1].Index != 4 {
		t.Fatalf("documents around broken ones must still be read: %+v", f.Docs)
	}
	wantErrs := []struct {
		doc, line int
		msg       string
	}{
		{1, 9, "mapping values are not allowed"},
		{2, 11, "must be a mapping"},
		{3, 14, "kind missing"},
	}
	if len(f.Errors) != len(wantErrs) {
		t.Fatalf("got errors %v", f.Errors)
	}
	for i, w := range wantErrs {
		e := f.Errors[i]
		if e.File != "bad.yaml" || e.Doc != w.doc || e.Line != w.line || !strings.Contains(e.Message, w.msg) {
			t.Errorf("error %d = %+v, want doc %d line %d containing %q", i, e, w.doc, w.line, w.msg)
		}
	}
}

func TestParseValues(t *testing.T) {
	src := "apiVersion: v1\nkind: X\nmetadata: &m {name: v}\nspec:\n  i: 8\n  f: 1.5\n  b: true\n  n: null\n  s: \"8\"\n  hex: 0x10\n  ref: *m\n  merged:\n    <<: *m\n    extra: 1\n"
	f := Parse("v.yaml", []byte(src))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	spec := f.Docs[0].Object["spec"].(map[string]any)
	checks := map[string]any{"i": int64(8), "f": 1.5, "b": true, "n": nil, "s": "8", "hex": int64(16)}
	for k, want := range checks {
		if spec[k] != want {
			t.Errorf("spec.%s = %#v, want %#v", k, spec[k], want)
		}
	}
	if spec["ref"].(map[string]any)["name"] != "v" || spec["merged"].(map[string]any)["name"] != "v" {
		t.Errorf("aliases and merge keys not resolved: %v", spec)
	}
	dup := Parse("d.yaml", []byte("apiVersion: v1\nkind: X\nkind: Y\n"))
	if len(dup.Errors) != 1 || !strings.Contains(dup.Errors[0].Message, `"kind" is already defined`) {
		t.Errorf("duplicate keys must be reported, got %v", dup.Errors)
	}
}

// Parsing some chunks first (by kind hint) and the rest later gives the same
// documents, indexes and errors as parsing everything at once.
func TestParseRangeMatchesParse(t *testing.T) {
	src := multi + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n...\n---\nkind: broken: x\n"
	whole := Parse("m.yaml", []byte(src))
	f := Split("m.yaml", []byte(src))
	hints := map[string]bool{}
	for i := 0; i < f.NumChunks(); i++ {
		hints[f.KindHint(i)] = true
	}
	for _, k := range []string{"Service", "List", "NetworkPolicy", ""} {
		if !hints[k] {
			t.Errorf("no chunk with kind hint %q: %v", k, hints)
		}
	}
	first, _ := f.ParseRange(0, f.NumChunks(), func(kind string) bool { return kind == "NetworkPolicy" }, true)
	if len(first) != 1 || first[0].Kind() != "NetworkPolicy" {
		t.Fatalf("selective parse: %+v", first)
	}
	var docs []*Document
	var errs []*Error
	for i := 0; i < f.NumChunks(); i++ {
		d, e := f.ParseRange(i, i+1, nil, false)
		docs, errs = append(docs, d...), append(errs, e...)
	}
	if len(docs) != len(whole.Docs) || len(errs) != len(whole.Errors) {
		t.Fatalf("got %d docs %d errors, want %d and %d", len(docs), len(errs), len(whole.Docs), len(whole.Errors))
	}
	for i := range docs {
		if docs[i].Index != whole.Docs[i].Index || docs[i].Item != whole.Docs[i].Item || docs[i].Line != whole.Docs[i].Line {
			t.Errorf("doc %d: %d/%d/%d, want %d/%d/%d", i, docs[i].Index, docs[i].Item, docs[i].Line, whole.Docs[i].Index, whole.Docs[i].Item, whole.Docs[i].Line)
		}
	}
	if errs[0].Doc != 4 {
		t.Errorf("broken last document has index %d, want 4", errs[0].Doc)
	}
	if again, _ := f.ParseRange(0, f.NumChunks(), nil, false); len(again) != len(whole.Docs) {
		t.Errorf("chunks not kept are parsed again: got %d documents, want %d", len(again), len(whole.Docs))
	}
}
