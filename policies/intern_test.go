package policies

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestInternerMatchesInterfaceToValue(t *testing.T) {
	docs := []string{
		`{"a": 1, "b": [1, 1.0, "x", null, true, {"c": "x"}], "d": {"c": "x"}, "e": {"c": "x"}}`,
		`[{"k": [1, 2]}, {"k": [1, 2]}, {"k": [2, 1]}, [], {}, [[]], [{}]]`,
		`{"metadata": {"name": "a", "labels": {"app": "a"}}, "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}}`,
	}
	in := newInterner()
	for _, doc := range docs {
		var x any
		if err := json.Unmarshal([]byte(doc), &x); err != nil {
			t.Fatal(err)
		}
		want, err := ast.InterfaceToValue(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := in.term(x)
		if err != nil {
			t.Fatal(err)
		}
		if got.Value.Compare(want) != 0 || got.Value.String() != want.String() {
			t.Errorf("%s: got %v, want %v", doc, got.Value, want)
		}
	}
}

func TestInternerShares(t *testing.T) {
	in := newInterner()
	a, _ := in.term(map[string]any{"spec": map[string]any{"ports": []any{int64(80)}}, "name": "a"})
	b, _ := in.term(map[string]any{"spec": map[string]any{"ports": []any{int64(80)}}, "name": "b"})
	sa := a.Value.(ast.Object).Get(ast.StringTerm("spec"))
	sb := b.Value.(ast.Object).Get(ast.StringTerm("spec"))
	if sa != sb {
		t.Error("equal subtrees of two objects are not one term")
	}
	c, _ := in.term(map[string]any{"spec": map[string]any{"ports": []any{int64(81)}}, "name": "a"})
	if c == a || c.Value.Compare(a.Value) == 0 {
		t.Error("different objects share a term")
	}
}
