package vm

import (
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// The planner builds every composite literal at run time: `op in {"CREATE",
// "UPDATE"}` makes a set and adds two strings each time it runs, and a default of
// `{}` makes a fresh object. When a literal's elements are constants and nothing
// else ever adds to it, the compiler builds it once and the statement becomes an
// assignment of that constant. The planner only adds to collections it has just
// made for one construct (a literal, a comprehension, a rule's result), so a
// literal's local is never extended elsewhere once its own statements ran; the
// count of mutations per local in the function confirms it before folding.

// mutations counts, per local, the statements of a function that add to the
// collection it holds.
func mutations(blocks []*ir.Block) map[ir.Local]int {
	n := map[ir.Local]int{}
	var walk func(bs []*ir.Block)
	walk = func(bs []*ir.Block) {
		for _, b := range bs {
			for _, s := range b.Stmts {
				if target, _, _, ok := addition(s); ok {
					n[target]++
				}
				switch s := s.(type) {
				case *ir.BlockStmt:
					walk(s.Blocks)
				case *ir.ScanStmt:
					walk([]*ir.Block{s.Block})
				case *ir.NotStmt:
					walk([]*ir.Block{s.Block})
				case *ir.WithStmt:
					walk([]*ir.Block{s.Block})
				}
			}
		}
	}
	walk(blocks)
	return n
}

// addition describes a statement that adds to a collection: the collection's
// local, the key operand (objects only) and the value operand.
func addition(s ir.Stmt) (target ir.Local, key *ir.Operand, value ir.Operand, ok bool) {
	switch s := s.(type) {
	case *ir.SetAddStmt:
		return s.Set, nil, s.Value, true
	case *ir.ArrayAppendStmt:
		return s.Array, nil, s.Value, true
	case *ir.ObjectInsertStmt:
		return s.Object, &s.Key, s.Value, true
	case *ir.ObjectInsertOnceStmt:
		return s.Object, &s.Key, s.Value, true
	}
	return 0, nil, ir.Operand{}, false
}

// fold tries to turn stmts[0], a Make statement, and the additions that follow it
// into one constant. consts holds the locals of this block known to be constant.
// It returns the constant and the number of statements it replaces.
func (c *compiler) fold(stmts []ir.Stmt, consts map[ir.Local]*ast.Term) (*ast.Term, int) {
	var target ir.Local
	switch s := stmts[0].(type) {
	case *ir.MakeSetStmt:
		target = s.Target
	case *ir.MakeObjectStmt:
		target = s.Target
	case *ir.MakeArrayStmt:
		target = s.Target
	default:
		return nil, 0
	}
	constant := func(o ir.Operand) *ast.Term {
		switch v := o.Value.(type) {
		case ir.Local:
			return consts[v]
		case ir.StringIndex:
			if int(v) < len(c.strs) {
				return c.strs[v]
			}
		case ir.Bool:
			return ast.InternedTerm(bool(v))
		}
		return nil
	}
	_, object := stmts[0].(*ir.MakeObjectStmt)
	var elems, keys []*ast.Term
	n := 1
	for ; n < len(stmts); n++ {
		t, k, v, ok := addition(stmts[n])
		if !ok || t != target {
			break
		}
		if (k != nil) != object {
			return nil, 0
		}
		val := constant(v)
		if val == nil {
			return nil, 0
		}
		if k != nil {
			kt := constant(*k)
			if kt == nil {
				return nil, 0
			}
			keys = append(keys, kt)
		}
		elems = append(elems, val)
	}
	if c.mutated[target] != n-1 {
		return nil, 0
	}
	switch stmts[0].(type) {
	case *ir.MakeSetStmt:
		return ast.SetTerm(elems...), n
	case *ir.MakeArrayStmt:
		return ast.ArrayTerm(elems...), n
	}
	obj := ast.NewObject()
	for i, k := range keys {
		if obj.Get(k) != nil {
			// Repeated keys keep their run-time semantics (last wins, or a
			// conflict for insert-once).
			return nil, 0
		}
		obj.Insert(k, elems[i])
	}
	return ast.NewTerm(obj), n
}
