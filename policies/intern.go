package policies

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// interner converts JSON-shaped Go values to OPA values as ast.InterfaceToValue
// does, but gives equal strings, numbers and subtrees one shared term.
//
// Why: the inventory stays in memory for a whole `kgate check` run or a whole
// webhook process, and every garbage collection marks it. Converted one by one,
// a 350-byte Service becomes 3.3 KB of terms, objects and hash maps, most of
// them repeating what other objects hold: keys like "metadata", the same
// annotations, ports and policy types. Shared, the live heap of a `kgate check`
// run on the 10,000-object benchmark workload right after the inventory is
// built drops from 40 to 28-29 MB (GODEBUG=gctrace=1), so each collection has
// less to mark and collections come less often (docs/performance.md).
//
// Sharing is safe because nothing modifies a value once it is in the data
// document: the VM and topdown build new values for their results. An interner
// is not safe for concurrent use; toValues gives each worker its own.
type interner struct {
	strings map[string]*ast.Term
	numbers map[string]*ast.Term
	// composite holds converted arrays and objects by hash. Their elements are
	// interned first, so two equal values have pointer-equal elements.
	composite map[int][]*ast.Term
}

func newInterner() *interner {
	return &interner{strings: map[string]*ast.Term{}, numbers: map[string]*ast.Term{}, composite: map[int][]*ast.Term{}}
}

// term converts x. Values of other types than JSON's go through
// ast.InterfaceToValue and are not shared.
func (in *interner) term(x any) (*ast.Term, error) {
	switch x := x.(type) {
	case string:
		return in.str(x), nil
	case map[string]any:
		pairs := make([][2]*ast.Term, 0, len(x))
		for k, v := range x {
			vt, err := in.term(v)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*ast.Term{in.str(k), vt})
		}
		return in.share(ast.NewObject(pairs...)), nil
	case []any:
		elems := make([]*ast.Term, len(x))
		for i, e := range x {
			t, err := in.term(e)
			if err != nil {
				return nil, err
			}
			elems[i] = t
		}
		return in.share(ast.NewArray(elems...)), nil
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		return nil, err
	}
	if n, ok := v.(ast.Number); ok {
		// Keyed by the number's text, not its value, so that 1 and 1.0 keep
		// the spelling each object gave them.
		t, ok := in.numbers[string(n)]
		if !ok {
			t = ast.NewTerm(n)
			in.numbers[string(n)] = t
		}
		return t, nil
	}
	return ast.NewTerm(v), nil
}

// str returns the one term of the string s; keys and values share it.
func (in *interner) str(s string) *ast.Term {
	t, ok := in.strings[s]
	if !ok {
		t = ast.StringTerm(s)
		in.strings[s] = t
	}
	return t
}

// share returns the term of an equal array or object converted before, or a
// new term for v.
func (in *interner) share(v ast.Value) *ast.Term {
	h := v.Hash()
	for _, t := range in.composite[h] {
		if sameElements(t.Value, v) {
			return t
		}
	}
	t := ast.NewTerm(v)
	in.composite[h] = append(in.composite[h], t)
	return t
}

// sameElements compares two arrays or objects whose elements are interned: equal
// elements are then the same term.
func sameElements(a, b ast.Value) bool {
	switch a := a.(type) {
	case *ast.Array:
		b, ok := b.(*ast.Array)
		if !ok || a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if a.Elem(i) != b.Elem(i) {
				return false
			}
		}
		return true
	case ast.Object:
		b, ok := b.(ast.Object)
		if !ok || a.Len() != b.Len() {
			return false
		}
		same := true
		a.Until(func(k, v *ast.Term) bool {
			same = b.Get(k) == v
			return !same
		})
		return same
	}
	return false
}
