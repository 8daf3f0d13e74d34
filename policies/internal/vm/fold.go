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
				switch s := s.(type) {
				case *ir.SetAddStmt:
					n[s.Set]++
				case *ir.ObjectInsertStmt:
					n[s.Object]++
				case *ir.ObjectInsertOnceStmt:
					n[s.Object]++
				case *ir.ArrayAppendStmt:
					n[s.Array]++
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
	var elems, keys []*ast.Term
	n := 1
loop:
	for ; n < len(stmts); n++ {
		switch s := stmts[n].(type) {
		case *ir.SetAddStmt:
			if s.Set != target {
				break loop
			}
			v := constant(s.Value)
			if v == nil {
				return nil, 0
			}
			elems = append(elems, v)
		case *ir.ArrayAppendStmt:
			if s.Array != target {
				break loop
			}
			v := constant(s.Value)
			if v == nil {
				return nil, 0
			}
			elems = append(elems, v)
		case *ir.ObjectInsertStmt:
			if s.Object != target {
				break loop
			}
			k, v := constant(s.Key), constant(s.Value)
			if k == nil || v == nil {
				return nil, 0
			}
			keys, elems = append(keys, k), append(elems, v)
		case *ir.ObjectInsertOnceStmt:
			if s.Object != target {
				break loop
			}
			k, v := constant(s.Key), constant(s.Value)
			if k == nil || v == nil {
				return nil, 0
			}
			keys, elems = append(keys, k), append(elems, v)
		default:
			break loop
		}
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
