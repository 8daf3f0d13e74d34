package vm

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

type compiler struct {
	intrinsics map[string]Intrinsic
	consts     []*ast.Term
	// exts become Program.exts; index 0 is unused, so that x == 0 means none.
	exts []ext
	// mutated counts additions per local of the function being compiled.
	mutated  map[ir.Local]int
	strs     []*ast.Term
	named    map[string]*function
	builtins map[string]*builtin
	max      int32
}

func (c *compiler) see(l int32) int32 {
	if l > c.max {
		c.max = l
	}
	return l
}

func (c *compiler) block(b *ir.Block) (block, error) {
	out := make(block, 0, len(b.Stmts))
	// consts are the locals of this block that hold a known constant (see fold).
	consts := map[ir.Local]*ast.Term{}
	for i := 0; i < len(b.Stmts); i++ {
		if t, n := c.fold(b.Stmts[i:], consts); t != nil {
			target := c.local(makeTarget(b.Stmts[i]))
			out = append(out, instr{op: opAssign, a: c.constant(t), b: none, target: target, key: -1, value: -1})
			consts[makeTarget(b.Stmts[i])] = t
			i += n - 1
			continue
		}
		in, err := c.stmt(b.Stmts[i])
		if err != nil {
			return nil, err
		}
		out = append(out, in)
		switch s := b.Stmts[i].(type) {
		case *ir.MakeNumberIntStmt, *ir.MakeNumberRefStmt, *ir.MakeNullStmt, *ir.AssignIntStmt:
			consts[ir.Local(in.target)] = c.term(in.a)
		case *ir.AssignVarStmt:
			if t := c.term(in.a); t != nil {
				consts[s.Target] = t
			} else if t, ok := consts[ir.Local(in.a)]; ok && in.a >= 0 {
				consts[s.Target] = t
			} else {
				delete(consts, s.Target)
			}
		case *ir.BlockStmt, *ir.ScanStmt, *ir.NotStmt, *ir.WithStmt:
			// Nested blocks may assign anything.
			clear(consts)
		default:
			delete(consts, ir.Local(in.target))
		}
	}
	out = c.fuseObjectLiterals(out)
	out = c.fuseArrayLiterals(out)
	sizeObjects(out)
	c.sizeArrays(out)
	return out, nil
}

func makeTarget(s ir.Stmt) ir.Local {
	switch s := s.(type) {
	case *ir.MakeSetStmt:
		return s.Target
	case *ir.MakeObjectStmt:
		return s.Target
	case *ir.MakeArrayStmt:
		return s.Target
	}
	return -1
}

func (c *compiler) operand(o ir.Operand) (operand, error) {
	switch v := o.Value.(type) {
	case ir.Local:
		return operand(c.see(int32(v))), nil
	case ir.StringIndex:
		if int(v) >= len(c.strs) {
			return none, fmt.Errorf("string constant %d out of range", v)
		}
		return c.constant(c.strs[v]), nil
	case ir.Bool:
		return c.constant(ast.InternedTerm(bool(v))), nil
	}
	return none, fmt.Errorf("unsupported operand %v", o.Value)
}

func (c *compiler) operands(a, b ir.Operand) (operand, operand, error) {
	x, err := c.operand(a)
	if err != nil {
		return x, x, err
	}
	y, err := c.operand(b)
	return x, y, err
}

func (c *compiler) local(l ir.Local) int32 { return c.see(int32(l)) }

// constant registers t and returns the operand that reads it.
func (c *compiler) constant(t *ast.Term) operand {
	c.consts = append(c.consts, t)
	return ^operand(len(c.consts) - 1)
}

// term returns the constant behind o, or nil when o is a local or none.
func (c *compiler) term(o operand) *ast.Term {
	if o >= 0 || o == none {
		return nil
	}
	return c.consts[^o]
}

// draft is a statement being compiled, its ext still apart (see addExt).
type draft struct {
	instr
	*ext
}

// addExt stores e in the program's table and returns its index.
func (c *compiler) addExt(e *ext) int32 {
	c.exts = append(c.exts, *e)
	return int32(len(c.exts) - 1)
}

func (c *compiler) stmt(s ir.Stmt) (instr, error) {
	in, err := c.draft(s)
	if in.ext != nil {
		in.x = c.addExt(in.ext)
	}
	return in.instr, err
}

func (c *compiler) draft(s ir.Stmt) (draft, error) {
	// Unused locals are -1, so that analyses never mistake them for local 0.
	in := draft{instr: instr{a: none, b: none, target: -1, key: -1, value: -1}}
	var err error
	switch s := s.(type) {
	case *ir.NopStmt:
		in.op = opNop
	case *ir.ReturnLocalStmt:
		in.op, in.target = opReturn, c.local(s.Source)
	case *ir.CallStmt:
		in.ext = &ext{}
		in.target = c.local(s.Result)
		for _, a := range s.Args {
			o, err := c.operand(a)
			if err != nil {
				return in, err
			}
			in.args = append(in.args, o)
		}
		if x, ok := c.intrinsics[s.Func]; ok && len(in.args) >= 2 {
			// Input and data are the first two arguments of every planned function.
			in.op, in.args = opCallBuiltin, in.args[2:]
			in.bi = &builtin{name: s.Func, native: func(args []*ast.Term) (*ast.Term, bool) { return x(args), true }}
		} else if fn, ok := c.named[s.Func]; ok {
			in.op, in.fn = opCallFunc, fn
			if len(fn.params) != len(in.args) {
				return in, fmt.Errorf("call %s: %d arguments for %d parameters", s.Func, len(in.args), len(fn.params))
			}
		} else {
			in.op = opCallBuiltin
			if in.bi, err = c.builtin(s.Func); err != nil {
				return in, err
			}
		}
	case *ir.BlockStmt:
		in.op, in.ext = opBlock, &ext{}
		for _, b := range s.Blocks {
			cb, err := c.block(b)
			if err != nil {
				return in, err
			}
			in.blocks = append(in.blocks, cb)
		}
	case *ir.BreakStmt:
		in.op, in.n = opBreak, int32(s.Index)
	case *ir.DotStmt:
		in.op, in.target = opDot, c.local(s.Target)
		in.a, in.b, err = c.operands(s.Source, s.Key)
	case *ir.LenStmt:
		in.op, in.target = opLen, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.ScanStmt:
		in.op, in.target, in.key, in.value = opScan, c.local(s.Source), c.local(s.Key), c.local(s.Value)
		in.ext = &ext{}
		in.blocks = make([]block, 1)
		in.blocks[0], err = c.block(s.Block)
	case *ir.NotStmt:
		in.op, in.ext = opNot, &ext{}
		in.blocks = make([]block, 1)
		in.blocks[0], err = c.block(s.Block)
	case *ir.AssignIntStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), c.constant(ast.IntNumberTerm(int(s.Value)))
	case *ir.AssignVarStmt:
		in.op, in.target = opAssign, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.AssignVarOnceStmt:
		in.op, in.target = opAssignOnce, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.ResetLocalStmt:
		in.op, in.target = opReset, c.local(s.Target)
	case *ir.MakeNullStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), c.constant(ast.NullTerm())
	case *ir.MakeNumberIntStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), c.constant(ast.IntNumberTerm(int(s.Value)))
	case *ir.MakeNumberRefStmt:
		if s.Index >= len(c.strs) {
			return in, fmt.Errorf("number constant %d out of range", s.Index)
		}
		num := ast.NumberTerm(jsonNumber(c.strs[s.Index]))
		in.op, in.target, in.a = opAssign, c.local(s.Target), c.constant(num)
	case *ir.MakeArrayStmt:
		in.op, in.target, in.n = opMakeArray, c.local(s.Target), s.Capacity
	case *ir.MakeObjectStmt:
		in.op, in.target = opMakeObject, c.local(s.Target)
	case *ir.MakeSetStmt:
		in.op, in.target = opMakeSet, c.local(s.Target)
	case *ir.EqualStmt:
		in.op = opEqual
		in.a, in.b, err = c.operands(s.A, s.B)
	case *ir.NotEqualStmt:
		in.op = opNotEqual
		in.a, in.b, err = c.operands(s.A, s.B)
	case *ir.IsArrayStmt:
		in.op = opIsArray
		in.a, err = c.operand(s.Source)
	case *ir.IsObjectStmt:
		in.op = opIsObject
		in.a, err = c.operand(s.Source)
	case *ir.IsSetStmt:
		in.op = opIsSet
		in.a, err = c.operand(s.Source)
	case *ir.IsDefinedStmt:
		in.op, in.target = opIsDefined, c.local(s.Source)
	case *ir.IsUndefinedStmt:
		in.op, in.target = opIsUndefined, c.local(s.Source)
	case *ir.ArrayAppendStmt:
		in.op, in.target = opArrayAppend, c.local(s.Array)
		in.a, err = c.operand(s.Value)
	case *ir.ObjectInsertStmt:
		in.op, in.target = opObjectInsert, c.local(s.Object)
		in.a, in.b, err = c.operands(s.Key, s.Value)
	case *ir.ObjectInsertOnceStmt:
		in.op, in.target = opObjectInsertOnce, c.local(s.Object)
		in.a, in.b, err = c.operands(s.Key, s.Value)
	case *ir.ObjectMergeStmt:
		in.op, in.target = opObjectMerge, c.local(s.Target)
		in.a, in.b = operand(c.local(s.A)), operand(c.local(s.B))
	case *ir.SetAddStmt:
		in.op, in.target = opSetAdd, c.local(s.Set)
		in.a, err = c.operand(s.Value)
	case *ir.WithStmt:
		in.op, in.target, in.ext = opWith, c.local(s.Local), &ext{}
		if in.a, err = c.operand(s.Value); err != nil {
			return in, err
		}
		for _, i := range s.Path {
			if i >= len(c.strs) {
				return in, fmt.Errorf("with path constant %d out of range", i)
			}
			in.path = append(in.path, c.strs[i])
		}
		in.blocks = make([]block, 1)
		in.blocks[0], err = c.block(s.Block)
	case *ir.ResultSetAddStmt:
		in.op, in.target = opResultSetAdd, c.local(s.Value)
	default:
		return in, fmt.Errorf("unsupported statement %T", s)
	}
	return in, err
}

func (c *compiler) builtin(name string) (*builtin, error) {
	if b, ok := c.builtins[name]; ok {
		return b, nil
	}
	fn := topdown.GetBuiltin(name)
	decl, ok := ast.BuiltinMap[name]
	if fn == nil || !ok {
		return nil, fmt.Errorf("unsupported built-in function %s", name)
	}
	b := &builtin{name: name, fn: fn, relation: decl.Relation, native: natives[name], volatile: decl.Nondeterministic}
	c.builtins[name] = b
	return b, nil
}
