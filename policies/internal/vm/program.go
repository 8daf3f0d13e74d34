// Package vm executes the plan OPA's planner makes of a compiled policy set (its
// intermediate representation, package ir) directly on AST values.
//
// OPA's topdown evaluator unifies terms and backtracks through closures for every
// expression; on kgate's rules that is the whole cost of an admission review. The
// planner has already resolved rule references, indexes and iteration into plain
// statements, so executing the plan does the same work with far fewer steps and
// allocations. Semantics follow OPA's own Wasm compiler of the same plan: blocks,
// breaks, scans, memoized rule values and built-in calls. Built-in functions are
// OPA's own implementations, so results agree with topdown; the engine's tests
// evaluate every corpus object both ways and compare.
package vm

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Program is an executable plan. It is immutable and safe for concurrent use.
type Program struct {
	funcs  []*function
	byPath map[string]*function
}

// Func is an entry point: the planned function of one rule, called with input
// and data.
type Func struct{ f *function }

type function struct {
	name    string
	idx     int
	params  []int32
	ret     int32
	nlocals int
	// memo is set for functions of input and data alone (rules, not user
	// functions): their value is fixed for one evaluation, as in OPA's Wasm runtime.
	memo bool
	// pure is set for memoized functions that read nothing of the input but
	// input.params; their values outlive an evaluation (see Cache).
	pure   bool
	blocks []block
}

type block []instr

type opcode uint8

const (
	opNop opcode = iota
	opReturn
	opCallFunc
	opCallBuiltin
	opBlock
	opBreak
	opDot
	opLen
	opScan
	opNot
	opAssign
	opAssignOnce
	opReset
	opMakeArray
	opMakeObject
	opMakeSet
	opEqual
	opNotEqual
	opIsArray
	opIsObject
	opIsSet
	opIsDefined
	opIsUndefined
	opArrayAppend
	opObjectInsert
	opObjectInsertOnce
	opObjectMerge
	opSetAdd
	opWith
	opResultSetAdd
)

// operand is a local (local >= 0) or a constant term.
type operand struct {
	local int32
	term  *ast.Term
}

type instr struct {
	op opcode
	// a and b are the statement's operands (source, key, value, A, B).
	a, b operand
	// target is the local written (or read, for scans, checks and appends).
	target int32
	// key and value are the locals a scan binds; key is also ObjectMerge's B.
	key, value int32
	// n is a break's depth or an array's capacity.
	n      int
	blocks []block
	fn     *function
	bi     *builtin
	args   []operand
	path   []*ast.Term
}

// Compile turns a planned policy into a Program. It fails on statements or
// built-ins the VM does not implement, so callers can keep topdown for such policy
// sets.
func Compile(pol *ir.Policy) (*Program, error) {
	if pol.Funcs == nil {
		return nil, fmt.Errorf("plan has no functions")
	}
	var strs []*ast.Term
	if pol.Static != nil {
		strs = make([]*ast.Term, len(pol.Static.Strings))
		for i, s := range pol.Static.Strings {
			strs[i] = ast.StringTerm(s.Value)
		}
	}
	p := &Program{byPath: map[string]*function{}}
	named := map[string]*function{}
	for i, f := range pol.Funcs.Funcs {
		fn := &function{name: f.Name, idx: i, ret: int32(f.Return), memo: len(f.Params) == 2}
		for _, l := range f.Params {
			fn.params = append(fn.params, int32(l))
		}
		p.funcs = append(p.funcs, fn)
		named[f.Name] = fn
		if len(f.Path) > 1 {
			p.byPath[strings.Join(f.Path[1:], ".")] = fn
		}
	}
	c := &compiler{strs: strs, named: named, builtins: map[string]*builtin{}}
	for i, f := range pol.Funcs.Funcs {
		fn := p.funcs[i]
		c.max = int32(f.Return)
		for _, l := range f.Params {
			c.see(int32(l))
		}
		c.mutated = mutations(f.Blocks)
		for _, b := range f.Blocks {
			cb, err := c.block(b)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
			fn.blocks = append(fn.blocks, cb)
		}
		fn.nlocals = int(c.max) + 1
	}
	markPure(p.funcs)
	return p, nil
}

// Func returns the planned function of the rule at path (dotted, without the
// leading "data", e.g. "kgate.rules.storage.ebs_gp3_not_gp2.violation").
func (p *Program) Func(path string) (Func, bool) {
	f, ok := p.byPath[path]
	return Func{f}, ok
}

type compiler struct {
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
			out = append(out, instr{op: opAssign, a: operand{local: -1, term: t}, b: operand{local: -1}, target: target, key: -1, value: -1})
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
			consts[ir.Local(in.target)] = in.a.term
		case *ir.AssignVarStmt:
			if in.a.local < 0 {
				consts[s.Target] = in.a.term
			} else if t, ok := consts[ir.Local(in.a.local)]; ok {
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
		return operand{local: c.see(int32(v))}, nil
	case ir.StringIndex:
		if int(v) >= len(c.strs) {
			return operand{}, fmt.Errorf("string constant %d out of range", v)
		}
		return operand{local: -1, term: c.strs[v]}, nil
	case ir.Bool:
		return operand{local: -1, term: ast.InternedTerm(bool(v))}, nil
	}
	return operand{}, fmt.Errorf("unsupported operand %v", o.Value)
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

func (c *compiler) stmt(s ir.Stmt) (instr, error) {
	// Unused locals are -1, so that analyses never mistake them for local 0.
	in := instr{a: operand{local: -1}, b: operand{local: -1}, target: -1, key: -1, value: -1}
	var err error
	switch s := s.(type) {
	case *ir.NopStmt:
		in.op = opNop
	case *ir.ReturnLocalStmt:
		in.op, in.target = opReturn, c.local(s.Source)
	case *ir.CallStmt:
		in.target = c.local(s.Result)
		for _, a := range s.Args {
			o, err := c.operand(a)
			if err != nil {
				return in, err
			}
			in.args = append(in.args, o)
		}
		if fn, ok := c.named[s.Func]; ok {
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
		in.op = opBlock
		for _, b := range s.Blocks {
			cb, err := c.block(b)
			if err != nil {
				return in, err
			}
			in.blocks = append(in.blocks, cb)
		}
	case *ir.BreakStmt:
		in.op, in.n = opBreak, int(s.Index)
	case *ir.DotStmt:
		in.op, in.target = opDot, c.local(s.Target)
		in.a, in.b, err = c.operands(s.Source, s.Key)
	case *ir.LenStmt:
		in.op, in.target = opLen, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.ScanStmt:
		in.op, in.target, in.key, in.value = opScan, c.local(s.Source), c.local(s.Key), c.local(s.Value)
		in.blocks = make([]block, 1)
		in.blocks[0], err = c.block(s.Block)
	case *ir.NotStmt:
		in.op = opNot
		in.blocks = make([]block, 1)
		in.blocks[0], err = c.block(s.Block)
	case *ir.AssignIntStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), operand{local: -1, term: ast.IntNumberTerm(int(s.Value))}
	case *ir.AssignVarStmt:
		in.op, in.target = opAssign, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.AssignVarOnceStmt:
		in.op, in.target = opAssignOnce, c.local(s.Target)
		in.a, err = c.operand(s.Source)
	case *ir.ResetLocalStmt:
		in.op, in.target = opReset, c.local(s.Target)
	case *ir.MakeNullStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), operand{local: -1, term: ast.NullTerm()}
	case *ir.MakeNumberIntStmt:
		in.op, in.target, in.a = opAssign, c.local(s.Target), operand{local: -1, term: ast.IntNumberTerm(int(s.Value))}
	case *ir.MakeNumberRefStmt:
		if s.Index >= len(c.strs) {
			return in, fmt.Errorf("number constant %d out of range", s.Index)
		}
		num := ast.NumberTerm(jsonNumber(c.strs[s.Index]))
		in.op, in.target, in.a = opAssign, c.local(s.Target), operand{local: -1, term: num}
	case *ir.MakeArrayStmt:
		in.op, in.target, in.n = opMakeArray, c.local(s.Target), int(s.Capacity)
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
		in.a, in.b = operand{local: c.local(s.A)}, operand{local: c.local(s.B)}
	case *ir.SetAddStmt:
		in.op, in.target = opSetAdd, c.local(s.Set)
		in.a, err = c.operand(s.Value)
	case *ir.WithStmt:
		in.op, in.target = opWith, c.local(s.Local)
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
