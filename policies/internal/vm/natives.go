package vm

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// natives replace OPA's implementation where it is needlessly costly; each
// returns handled=false to defer to OPA's on inputs it does not cover exactly.
// FuzzNatives holds each to OPA's output on whatever it handles.
var natives = map[string]func(args []*ast.Term) (out *ast.Term, handled bool){
	"replace":       nativeReplace,
	"sprintf":       nativeSprintf,
	"object.filter": nativeObjectFilter,
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
	return ast.InternedTerm(string(buf)), true
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
