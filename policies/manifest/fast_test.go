package manifest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// edgeCases are documents at the edges of what the fast reader accepts; each
// must read the same whichever reader takes it.
var edgeCases = []string{
	"apiVersion: v1\nkind: X\nmetadata: {name: a, labels: {x: \"1\", y: '2'}}\n",
	"apiVersion: v1\nkind: X\nspec:\n  a: 1\n  b: -1\n  c: 1.5\n  d: 0x1F\n  e: 0o17\n  f: 017\n  g: 1_000\n  h: 1e3\n  i: .5\n  j: .inf\n  k: -.Inf\n  l: .nan\n  m: +1\n  n: 9223372036854775808\n  o: 0b101\n  p: -0b1\n",
	"apiVersion: v1\nkind: X\nspec:\n  t: true\n  f: False\n  y: yes\n  n: No\n  on: on\n  z: ~\n  nl: null\n  e:\n  ts: 2024-01-02\n  ts2: 2001-12-14t21:59:43.10-05:00\n  s: 'it''s'\n  q: \"a # b\"\n  m: <<\n",
	"apiVersion: v1\nkind: X\nspec:\n  url: http://a.b/c?d=e#f\n  img: repo@sha256:abc\n  c: a #comment\n  d: a#b\n  e: a, b, [c]\n  f: -x\n  g: x-\n",
	"apiVersion: v1\nkind: X\nspec:\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n    - {containerPort: 81, protocol: UDP}\n  -   name: b\n      args: [\"--x\", '--y', z, 1, true, null]\n  - name: c\n    env:\n      - name: A\n        value: \"1\"\n",
	"apiVersion: v1\nkind: X\nitems:\n-\n  a: 1\n- # comment\n  - x\n  - y\n- [a, [b, c], {d: e}]\n",
	"# head\n\n  # indented comment\napiVersion: v1   # trailing\nkind: X\n\nmetadata:\n    name: deep\n    # between\n    namespace: n\n",
	"  apiVersion: v1\n  kind: X\n",
	"  apiVersion: v1\n kind: X\n",
	"apiVersion: v1\nkind: X\na:\n  - x\n  b: y\n",
	"apiVersion: v1\nkind: X\na: b\n  c: d\n",
	"apiVersion: v1\nkind: X\na: b: c\n",
	"apiVersion: v1\nkind: X\na: [b, c,]\n",
	"apiVersion: v1\nkind: X\na: {b: c,}\n",
	"apiVersion: v1\nkind: X\na: {b: c} x\n",
	"apiVersion: v1\nkind: X\na: [b\n  , c]\n",
	"apiVersion: v1\nkind: X\na: \"b\n  c\"\n",
	"apiVersion: v1\nkind: X\na: plain\n  continued\n",
	"apiVersion: v1\nkind: X\na: |\n  text\n",
	"apiVersion: v1\nkind: X\na: &x 1\nb: *x\n",
	"apiVersion: v1\nkind: X\na: !!str 1\n",
	"apiVersion: v1\nkind: X\n\"quoted key\": 1\n'single': 2\n\"x\" : 3\n",
	"apiVersion: v1\nkind: X\ntrue: 1\n1: 2\nnull: 3\n",
	"apiVersion: v1\nkind: X\nkind: Y\n",
	"apiVersion: v1\nkind: X\na: {b: 1, b: 2}\n",
	"apiVersion: v1\nkind: X\n? a\n: b\n",
	"apiVersion: v1\nkind: X\na:\n-\n- b\n",
	"apiVersion: v1\nkind: X\na:\n  -\n",
	"apiVersion: v1\nkind: X\na: -\n",
	"apiVersion: v1\nkind: X\na: - b\n",
	"apiVersion: v1\nkind: X\na: b:\n",
	"apiVersion: v1\nkind: X\na:b\n",
	"apiVersion: v1\nkind: X\na: 'b' c\n",
	"apiVersion: v1\nkind: X\na: \"b\\\"c\"\n",
	"apiVersion: v1\nkind: X\na:\tb\n",
	"apiVersion: v1\r\nkind: X\r\n",
	"apiVersion: v1\nkind: X\na: é\n",
	"apiVersion: v1\nkind: X\na: {b: [1, {c: [d]}]}\nz: []\ny: {}\n",
	"apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec:\n  - a\n",
	"- a\n- b\n",
	"just a string\n",
	"~\n",
	"# only a comment\n",
	"{apiVersion: v1, kind: X}\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n- 3\n- {kind: B}\n- apiVersion: v1\n  kind: C\n",
	"apiVersion: v1\nkind: ConfigMapList\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}]\n",
	"apiVersion: v1\nkind: List\nitems: 3\n",
	"kind: X\n",
	"apiVersion: v1\nkind: X\na:\n    b: 1\n  c: 2\n",
	"apiVersion: v1\nkind: X\na:\n  - b\n   - c\n",
	"apiVersion: v1\nkind: X\na:\n- b: 1\n   c: 2\n",
	"apiVersion: v1\nkind: X\na:\n- b: 1\n c: 2\n",
	"apiVersion: v1\nkind: X\na: [\"b\": c]\n",
	"apiVersion: v1\nkind: X\na: {\"b\": c, 'd': \"e\"}\n",
	"apiVersion: v1\nkind: X\na: {b:c}\n",
	"apiVersion: v1\nkind: X\na: [b:c]\n",
	"apiVersion: v1\nkind: X\na: [b #c]\n",
	"apiVersion: v1\nkind: X\na: ----\n----: x\n",
	"apiVersion: v1\nkind: X\n-a: 1\n",
	"apiVersion: v1\nkind: X\nfoo bar: 1\n",
	"apiVersion: v1\nkind: X\na: 1 # c: d\n",
	"apiVersion: v1\nkind: X\na: b # c\n  # d\nz: 1\n",
	"apiVersion: v1\nkind: X\na: |\n  x\n   y\n\n  # z\nb: |-\n    x\n\n    y\n\n\nc: 1\n",
	"apiVersion: v1\nkind: X\na: |  # c\n\n   x\n  \n",
	"apiVersion: v1\nkind: X\na: |\n    x\n  y\n",
	"apiVersion: v1\nkind: X\na: |\n  x\n   \n",
	"apiVersion: v1\nkind: X\na: |\n   \n  x\n",
	"apiVersion: v1\nkind: X\na: |\n  x",
	"apiVersion: v1\nkind: X\na: |-\n  x",
	"apiVersion: v1\nkind: X\na: |+\n  x\n\n",
	"apiVersion: v1\nkind: X\na: |2\n   x\n",
	"apiVersion: v1\nkind: X\na: |\nb: 1\n",
	"apiVersion: v1\nkind: X\na: | x\n  y\n",
	"apiVersion: v1\nkind: X\na: >\n  x\n  y\n",
	"apiVersion: v1\nkind: X\na:\n- |\n  x\n- y\n- |-\n    z\n  w: 1\n",
	"apiVersion: v1\nkind: X\na:\n  - b: |\n      x\n    c: 1\n",
	"apiVersion: v1\nkind: X\na:\n- |\n  x\n- y\n- |-\n    z\n",
	"apiVersion: v1\nkind: X\nargs: [--a, -b, \"-c\", --d=:8]\nx: [a:b, a b, a#b]\ny: {a: b:c, d: http://e}\n",
	"{apiVersion: v1, kind: X} # c\n",
	"{apiVersion: v1, kind: X}\nfoo: 1\n",
	"[apiVersion, kind]\n",
	"apiVersion: v1\nkind: X\nargs: [--a, -b, \"-c\", --d=:8, -]\nx: [a:b, a b, a?b]\ny: {a: b:c, d: http://e}\n",
}

// TestFastReaderMatchesGoYAML reads every manifest of the repository and the
// shared corpus, and the edge cases, with the fast reader where it applies and
// with go-yaml alone: documents, values, lines of every field and errors must
// be identical, and the fast reader must take most real documents.
func TestFastReaderMatchesGoYAML(t *testing.T) {
	fast, total := 0, 0
	for i, src := range edgeCases {
		compareReaders(t, fmt.Sprintf("edge-%d.yaml", i), []byte(src))
	}
	for _, dir := range []string{"../../../shared/corpus", "../../test/testdata", "../../examples", "../../cmd/kgate/testdata", "../testdata", "../../deploy"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" && ext != ".json" {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f, n := compareReaders(t, p, b)
			fast, total = fast+f, total+n
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	t.Logf("fast reader took %d of %d documents", fast, total)
	if total < 100 || fast*10 < total*7 {
		t.Errorf("fast reader took %d of %d documents, want at least 70%% of 100 or more", fast, total)
	}
}

// FuzzFastReader requires both readers to agree on arbitrary input.
func FuzzFastReader(f *testing.F) {
	for _, src := range edgeCases {
		f.Add([]byte(src))
	}
	f.Add([]byte(multi))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareReaders(t, "fuzz.yaml", data)
	})
}

// compareReaders returns how many documents the fast reader read, of all.
func compareReaders(t *testing.T, name string, data []byte) (fast, total int) {
	t.Helper()
	want := Parse(name, data) // go-yaml for every document: --fix keeps nodes
	f := Split(name, data)
	docs, errs := f.ParseRange(0, f.NumChunks(), nil, false)
	if !reflect.DeepEqual(errs, want.Errors) && !(len(errs) == 0 && len(want.Errors) == 0) {
		t.Errorf("%s: errors differ\nfast: %v\nyaml: %v", name, errs, want.Errors)
	}
	if len(docs) != len(want.Docs) {
		t.Errorf("%s: %d documents, go-yaml reads %d", name, len(docs), len(want.Docs))
		return 0, 0
	}
	for i, d := range docs {
		w := want.Docs[i]
		if d.at.node == nil {
			fast++
		}
		if d.File != w.File || d.Index != w.Index || d.Item != w.Item || d.Line != w.Line || !reflect.DeepEqual(d.Object, w.Object) {
			t.Errorf("%s: document %d differs\nfast: %d/%d line %d %#v\nyaml: %d/%d line %d %#v", name, i, d.Index, d.Item, d.Line, d.Object, w.Index, w.Item, w.Line, w.Object)
			continue
		}
		for _, p := range pointers("", d.Object) {
			if got, exp := d.LineOf(p), w.LineOf(p); got != exp {
				t.Errorf("%s: document %d: LineOf(%q) = %d, go-yaml gives %d", name, i, p, got, exp)
			}
		}
	}
	return fast, len(docs)
}

// pointers lists the pointer of every value under v, and of a missing member
// below each collection.
func pointers(prefix string, v any) []string {
	out := []string{prefix, prefix + "/missing", prefix + "/7"}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			seg := strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			out = append(out, pointers(prefix+"/"+seg, x[k])...)
		}
	case []any:
		for i, e := range x {
			out = append(out, pointers(fmt.Sprintf("%s/%d", prefix, i), e)...)
		}
	}
	return out
}
