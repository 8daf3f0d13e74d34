package vm

import (
	"encoding/json"
	"slices"
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
	native   func([]*ast.Term) (*ast.Term, bool)
	// volatile built-ins (time.now_ns, rand.intn, http.send) may return another
	// value in the next evaluation.
	volatile bool
}

// statefulBuiltins keep state in BuiltinContext.Cache.
var statefulBuiltins = map[string]bool{"rand.intn": true, "uuid.rfc4122": true, "http.send": true, "net.lookup_ip_addr": true}

func (ev *Eval) builtin(b *builtin, args []operand, fr []*ast.Term) (*ast.Term, error) {
	// Built-ins never call back into the VM, so one argument buffer and one
	// output slot per evaluation suffice and nothing is allocated per call.
	terms := ev.args[:0]
	for _, a := range args {
		t := ev.read(a, fr)
		if t == nil {
			return nil, nil
		}
		terms = append(terms, t)
	}
	ev.args = terms
	if b.native != nil {
		if out, ok := b.native(terms); ok {
			clear(terms)
			return out, nil
		}
	}
	ev.out, ev.outs, ev.relation = nil, ev.outs[:0], b.relation
	err := b.fn(ev.bctx, terms, ev.collectF)
	clear(terms)
	if err != nil {
		// Like topdown without strict built-in errors, a failing built-in is
		// undefined unless it halts evaluation.
		if halted(err) {
			return nil, err
		}
		return nil, nil
	}
	if b.relation {
		// The array keeps the slice it is given; hand it a copy of the buffer.
		t := ast.ArrayTerm(slices.Clone(ev.outs)...)
		clear(ev.outs)
		return t, nil
	}
	out := ev.out
	ev.out = nil
	return out, nil
}

// collect receives a built-in's outputs; see builtin.
func (ev *Eval) collect(t *ast.Term) error {
	if ev.relation {
		ev.outs = append(ev.outs, t)
		return nil
	}
	ev.out = t
	return nil
}

func jsonNumber(t *ast.Term) json.Number {
	s, _ := t.Value.(ast.String)
	return json.Number(s)
}

func jsonInt(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
