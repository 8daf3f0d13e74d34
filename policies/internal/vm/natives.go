package vm

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// natives replace OPA's implementation where it is needlessly costly; each
// returns handled=false to defer to OPA's on inputs it does not cover exactly.
// TestNativesMatchOPA, TestSimpleNativesMatchOPA and FuzzSprintfNative hold each
// to OPA's output on whatever it handles.
var natives = map[string]func(args []*ast.Term) (out *ast.Term, handled bool){
	"replace":       nativeReplace,
	"sprintf":       nativeSprintf,
	"object.filter": nativeObjectFilter,
	"concat":        nativeConcat,
	// The most called built-ins are comparisons, counts and type tests; through
	// topdown each is two indirect calls and an output callback for one
	// expression, which is most of its cost.
	"gt":                func(a []*ast.Term) (*ast.Term, bool) { return boolean(a[0].Value.Compare(a[1].Value) > 0) },
	"gte":               func(a []*ast.Term) (*ast.Term, bool) { return boolean(a[0].Value.Compare(a[1].Value) >= 0) },
	"lt":                func(a []*ast.Term) (*ast.Term, bool) { return boolean(a[0].Value.Compare(a[1].Value) < 0) },
	"lte":               func(a []*ast.Term) (*ast.Term, bool) { return boolean(a[0].Value.Compare(a[1].Value) <= 0) },
	"neq":               func(a []*ast.Term) (*ast.Term, bool) { return boolean(!a[0].Equal(a[1])) },
	"equal":             func(a []*ast.Term) (*ast.Term, bool) { return boolean(a[0].Equal(a[1])) },
	"count":             nativeCount,
	"internal.member_2": nativeMember,
	"object.get":        nativeObjectGet,
	"is_object":         func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(ast.Object); return boolean(ok) },
	"is_string":         func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(ast.String); return boolean(ok) },
	"is_number":         func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(ast.Number); return boolean(ok) },
	"is_array":          func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(*ast.Array); return boolean(ok) },
	"is_set":            func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(ast.Set); return boolean(ok) },
	"is_boolean":        func(a []*ast.Term) (*ast.Term, bool) { _, ok := a[0].Value.(ast.Boolean); return boolean(ok) },
}

func boolean(b bool) (*ast.Term, bool) { return ast.InternedTerm(b), true }

func nativeCount(args []*ast.Term) (*ast.Term, bool) {
	switch v := args[0].Value.(type) {
	case *ast.Array:
		return ast.InternedTerm(v.Len()), true
	case ast.Object:
		return ast.InternedTerm(v.Len()), true
	case ast.Set:
		return ast.InternedTerm(v.Len()), true
	case ast.String:
		return ast.InternedTerm(utf8.RuneCountInString(string(v))), true
	}
	return nil, false
}

// nativeMember is `x in c`: membership in a set, or among the values of an
// array or object; false for anything else.
func nativeMember(args []*ast.Term) (*ast.Term, bool) {
	x := args[0]
	switch c := args[1].Value.(type) {
	case ast.Set:
		return boolean(c.Contains(x))
	case *ast.Array:
		return boolean(c.Until(x.Equal))
	case ast.Object:
		return boolean(c.Until(func(_, v *ast.Term) bool { return x.Equal(v) }))
	}
	return boolean(false)
}

// nativeObjectGet is object.get with a single key; a path of keys is left to OPA.
func nativeObjectGet(args []*ast.Term) (*ast.Term, bool) {
	obj, ok := args[0].Value.(ast.Object)
	if !ok {
		return nil, false
	}
	if _, path := args[1].Value.(*ast.Array); path {
		return nil, false
	}
	if v := obj.Get(args[1]); v != nil {
		return v, true
	}
	return args[2], true
}

// nativeReplace: OPA builds a strings.Replacer (a 6 KB table) per call; for a
// non-empty pattern strings.ReplaceAll gives the same string.
func nativeReplace(args []*ast.Term) (*ast.Term, bool) {
	s, ok1 := args[0].Value.(ast.String)
	old, ok2 := args[1].Value.(ast.String)
	n, ok3 := args[2].Value.(ast.String)
	if !ok1 || !ok2 || !ok3 || old == "" {
		return nil, false
	}
	r := strings.ReplaceAll(string(s), string(old), string(n))
	if r == string(s) {
		return args[0], true
	}
	return ast.InternedTerm(r), true
}

// nativeSprintf formats the verbs rule messages use (%s, %q, %v and %d without
// flags or width, and %%) with string and integer arguments. OPA's sprintf boxes
// every argument and goes through fmt's reflection; rule messages are most of
// the sprintf calls of an evaluation and each makes one.
func nativeSprintf(args []*ast.Term) (*ast.Term, bool) {
	format, ok := args[0].Value.(ast.String)
	if !ok {
		return nil, false
	}
	list, ok := args[1].Value.(*ast.Array)
	if !ok {
		return nil, false
	}
	var stack [256]byte
	buf := stack[:0]
	next := 0
	f := string(format)
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i+1 == len(f) {
			return nil, false
		}
		i++
		verb := f[i]
		if verb == '%' {
			buf = append(buf, '%')
			continue
		}
		if next == list.Len() {
			return nil, false
		}
		arg := list.Elem(next).Value
		next++
		switch v := arg.(type) {
		case ast.String:
			switch verb {
			case 's', 'v':
				buf = append(buf, v...)
			case 'q':
				buf = strconv.AppendQuote(buf, string(v))
			default:
				return nil, false
			}
		case ast.Number:
			n, ok := plainInt(v)
			if !ok || (verb != 'd' && verb != 'v') {
				return nil, false
			}
			buf = strconv.AppendInt(buf, n, 10)
		default:
			return nil, false
		}
	}
	if next != list.Len() || !utf8.Valid(buf) {
		// fmt reports unused arguments in the output, and marks invalid UTF-8
		// differently under %q; leave both to it.
		return nil, false
	}
	// A message is never among OPA's interned strings; looking it up would
	// hash all of it.
	return ast.StringTerm(string(buf)), true
}

// nativeConcat joins an array of strings in one allocation; OPA's goes through
// a growing buffer and copies the result. Paths and lists in messages are built
// with it.
func nativeConcat(args []*ast.Term) (*ast.Term, bool) {
	sep, ok := args[0].Value.(ast.String)
	if !ok {
		return nil, false
	}
	list, ok := args[1].Value.(*ast.Array)
	if !ok {
		return nil, false
	}
	n := list.Len()
	switch n {
	case 0:
		return ast.InternedTerm(""), true
	case 1:
		if _, ok := list.Elem(0).Value.(ast.String); ok {
			return list.Elem(0), true
		}
		return nil, false
	}
	size := len(sep) * (n - 1)
	for i := range n {
		s, ok := list.Elem(i).Value.(ast.String)
		if !ok {
			return nil, false
		}
		size += len(s)
	}
	var b strings.Builder
	b.Grow(size)
	for i := range n {
		if i > 0 {
			b.WriteString(string(sep))
		}
		b.WriteString(string(list.Elem(i).Value.(ast.String)))
	}
	return ast.StringTerm(b.String()), true
}

// plainInt is the value of a number written as a decimal integer that fits in
// int64, which OPA's sprintf formats as an integer; anything else (1.0, 1e3,
// big integers) it formats otherwise.
func plainInt(n ast.Number) (int64, bool) {
	s := string(n)
	if s == "" || strings.ContainsAny(s, ".eE+") {
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// nativeObjectFilter keeps the keys of an object that an array of keys names.
// OPA first builds a set and then an object of the keys for the filter; the
// pod library filters every container's resources this way.
func nativeObjectFilter(args []*ast.Term) (*ast.Term, bool) {
	obj, ok := args[0].Value.(ast.Object)
	if !ok {
		return nil, false
	}
	keys, ok := args[1].Value.(*ast.Array)
	if !ok {
		return nil, false
	}
	out := ast.NewObjectWithCapacity(min(keys.Len(), obj.Len()))
	for i := range keys.Len() {
		k := keys.Elem(i)
		if v := obj.Get(k); v != nil && out.Get(k) == nil {
			out.Insert(k, v)
		}
	}
	return ast.NewTerm(out), true
}
