package vm

import (
	"encoding/json"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// builtin is one of OPA's built-in functions, called through topdown's own
// implementation so that results match the interpreter's.
type builtin struct {
	name string
	fn   topdown.BuiltinFunc
	// relation built-ins (walk) yield many outputs; the plan expects them
	// collected in one array it then scans.
	relation bool
}

func (ev *Eval) builtin(b *builtin, args []operand, fr []*ast.Term) (*ast.Term, error) {
	var buf [4]*ast.Term
	terms := buf[:0]
	for _, a := range args {
		t := read(a, fr)
		if t == nil {
			return nil, nil
		}
		terms = append(terms, t)
	}
	var out *ast.Term
	var all []*ast.Term
	err := b.fn(ev.bctx, terms, func(t *ast.Term) error {
		if b.relation {
			all = append(all, t)
			return nil
		}
		out = t
		return nil
	})
	if err != nil {
		// Like topdown without strict built-in errors, a failing built-in is
		// undefined unless it halts evaluation.
		if halted(err) {
			return nil, err
		}
		return nil, nil
	}
	if b.relation {
		return ast.ArrayTerm(all...), nil
	}
	return out, nil
}

func jsonNumber(t *ast.Term) json.Number {
	s, _ := t.Value.(ast.String)
	return json.Number(s)
}

func jsonInt(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
