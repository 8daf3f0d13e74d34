package vm

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// opa calls OPA's own implementation of a built-in.
func opa(t testing.TB, name string, args []*ast.Term) (*ast.Term, error) {
	t.Helper()
	var out *ast.Term
	err := topdown.GetBuiltin(name)(topdown.BuiltinContext{}, args, func(r *ast.Term) error {
		out = r
		return nil
	})
	return out, err
}

// sameAsOPA checks that a native either defers or gives OPA's result.
func sameAsOPA(t testing.TB, name string, args []*ast.Term) (handled bool) {
	t.Helper()
	got, handled := natives[name](args)
	if !handled {
		return false
	}
	want, err := opa(t, name, args)
	if err != nil {
		t.Fatalf("%s%v: native gave %v, OPA failed: %v", name, args, got, err)
	}
	if got == nil || ast.Compare(got.Value, want.Value) != 0 {
		t.Fatalf("%s%v: native gave %v, OPA %v", name, args, got, want)
	}
	return true
}

func TestNativesMatchOPA(t *testing.T) {
	parse := func(s string) *ast.Term { return ast.MustParseTerm(s) }
	for _, tc := range []struct {
		name, args string
		handled    bool
	}{
		{"sprintf", `["%s has %d pods, %q; 100%%", ["web", 3, "a\"b"]]`, true},
		{"sprintf", `["%v and %v", ["x", -12]]`, true},
		{"sprintf", `["no verbs", []]`, true},
		{"sprintf", `["%s", [1.5]]`, false},
		{"sprintf", `["%d", [1.0]]`, false},
		{"sprintf", `["%d", [1e3]]`, false},
		{"sprintf", `["%d", [123456789012345678901234567890]]`, false},
		{"sprintf", `["%s", [["a"]]]`, false},
		{"sprintf", `["%5s", ["a"]]`, false},
		{"sprintf", `["%s %s", ["a"]]`, false},
		{"sprintf", `["%s", ["a", "b"]]`, false},
		{"sprintf", `["%d", ["a"]]`, false},
		{"sprintf", `["%q", [3]]`, false},
		{"sprintf", `["trailing %", []]`, false},
		{"sprintf", `["%s", "not an array"]`, false},
		{"object.filter", `[{"a": 1, "b": {"c": 2}, "d": null}, ["b", "d", "x", "b"]]`, true},
		{"object.filter", `[{}, ["a"]]`, true},
		{"object.filter", `[{"a": 1}, []]`, true},
		{"object.filter", `[{"a": 1}, {"a"}]`, false},
		{"object.filter", `[["a"], ["a"]]`, false},
		{"replace", `["a/b/c", "/", "~1"]`, true},
		{"concat", `["/", ["", "spec", "template", "0"]]`, true},
		{"concat", `[", ", ["team (missing)", "ä"]]`, true},
		{"concat", `["", []]`, true},
		{"concat", `["-", ["only"]]`, true},
		{"concat", `["-", [1]]`, false},
		{"concat", `["-", ["a", 1]]`, false},
		{"concat", `["-", {"b", "a"}]`, false},
		{"concat", `[1, ["a", "b"]]`, false},
		{"replace", `["abc", "", "x"]`, false},
	} {
		arr := parse(tc.args).Value.(*ast.Array)
		args := make([]*ast.Term, arr.Len())
		for i := range args {
			args[i] = arr.Elem(i)
		}
		if handled := sameAsOPA(t, tc.name, args); handled != tc.handled {
			t.Errorf("%s%s: handled = %v, want %v", tc.name, tc.args, handled, tc.handled)
		}
	}
}

// TestSimpleNativesMatchOPA calls the comparison, count, membership, lookup and
// type-test natives on every combination of values of each type.
func TestSimpleNativesMatchOPA(t *testing.T) {
	values := []string{`null`, `true`, `false`, `0`, `1`, `1.0`, `-2.5`, `"a"`, `"ä1"`, `""`, `[]`, `[1, "a"]`,
		`{}`, `{"a": 1, "b": null}`, `{"x": "a"}`, `set()`, `{1, "a"}`, `["a"]`}
	terms := make([]*ast.Term, len(values))
	for i, v := range values {
		terms[i] = ast.MustParseTerm(v)
	}
	arity := map[string]int{"gt": 2, "gte": 2, "lt": 2, "lte": 2, "neq": 2, "equal": 2, "count": 1,
		"internal.member_2": 2, "object.get": 3, "is_object": 1, "is_string": 1, "is_number": 1,
		"is_array": 1, "is_set": 1, "is_boolean": 1}
	for name, n := range arity {
		if natives[name] == nil {
			t.Fatalf("no native %s", name)
		}
		handled := 0
		idx := make([]int, n)
		for {
			args := make([]*ast.Term, n)
			for i, j := range idx {
				args[i] = terms[j]
			}
			if sameAsOPA(t, name, args) {
				handled++
			}
			i := 0
			for ; i < n; i++ {
				if idx[i]++; idx[i] < len(terms) {
					break
				}
				idx[i] = 0
			}
			if i == n {
				break
			}
		}
		if handled == 0 {
			t.Errorf("%s: handled nothing", name)
		}
	}
}

// FuzzSprintfNative holds the native sprintf to OPA's on any format and
// arguments it accepts.
func FuzzSprintfNative(f *testing.F) {
	f.Add("%s has %d pods, %q; 100%%", "web", int64(3), "a\"b")
	f.Add("%v-%v %s", "x", int64(-12), "\xff")
	f.Add("%d%%%q", "", int64(0), "日本")
	f.Fuzz(func(t *testing.T, format, a string, n int64, b string) {
		args := []*ast.Term{ast.StringTerm(format), ast.ArrayTerm(ast.StringTerm(a), ast.IntNumberTerm(int(n)), ast.StringTerm(b))}
		sameAsOPA(t, "sprintf", args)
		// The same with the number second to last, so every verb meets each type.
		args[1] = ast.ArrayTerm(ast.StringTerm(a), ast.StringTerm(b), ast.IntNumberTerm(int(n)))
		sameAsOPA(t, "sprintf", args)
	})
}

// TestEqualValuesIsCompare holds the VM's equality to ast.Compare on every pair
// of values of each type.
func TestEqualValuesIsCompare(t *testing.T) {
	values := []string{`null`, `true`, `false`, `0`, `1`, `1.0`, `-2.5`, `"a"`, `"1"`, `""`, `"true"`, `[]`, `["a"]`,
		`{}`, `{"a": 1}`, `set()`, `{"a"}`}
	for _, x := range values {
		for _, y := range values {
			a, b := ast.MustParseTerm(x).Value, ast.MustParseTerm(y).Value
			if got, want := equalValues(a, b), ast.Compare(a, b) == 0; got != want {
				t.Errorf("equalValues(%s, %s) = %v, ast.Compare says %v", x, y, got, want)
			}
		}
	}
}
