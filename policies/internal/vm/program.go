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
	"math"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// Program is an executable plan. It is immutable and safe for concurrent use.
type Program struct {
	funcs []*function
	// exts are the parts of statements that hold pointers (see instr).
	exts   []ext
	byPath map[string]*function
	// consts are the constant operands of every statement.
	consts []*ast.Term
	// stateful is set when a built-in keeps state in its evaluation's cache
	// (rand.intn, uuid.rfc4122, http.send, net.lookup_ip_addr); the map is
	// allocated per evaluation only then.
	stateful bool
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
	// opObjectLiteral makes an object of constant keys in one allocation of its
	// entries (see fuseObjectLiterals).
	opObjectLiteral
	// opArrayLiteral makes an array of its operands (see fuseArrayLiterals).
	opArrayLiteral
)

// operand is a local (>= 0), a constant (^index into Program.consts) or none.
type operand int32

const none operand = math.MinInt32

// instr is one statement. It is kept small, 32 bytes, because a rule set's plan
// runs to tens of thousands of statements and an evaluation walks thousands of
// them: fewer cache lines per statement is measurably faster. The parts only
// calls and nested blocks need live in Program.exts, at index x; an index
// rather than a pointer leaves instructions without pointers, so the garbage
// collector never scans a program's blocks, which are most of a long-lived
// engine's heap.
type instr struct {
	op opcode
	// target is the local written (or read, for scans, checks and appends).
	target int32
	// key and value are the locals a scan binds; on an append to an array
	// literal, key is the element's index (see sizeArrays), else -1.
	key, value int32
	// n is a break's depth, an array's capacity (on its appends too) or, on an
	// object insert, the number of inserts into that object in its block.
	n int32
	// a and b are the statement's operands (source, key, value, A, B).
	a, b operand
	// x indexes the statement's ext; 0 when it has none.
	x int32
}

type ext struct {
	blocks []block
	fn     *function
	bi     *builtin
	args   []operand
	path   []*ast.Term
	// keys are an object literal's constant keys; args are its values.
	keys []*ast.Term
}

// Intrinsic is a Go implementation of a Rego function of the policy set, called
// with the function's own arguments (without input and data); nil means
// undefined. It must compute exactly what the Rego function does: topdown still
// runs the Rego, and the engine's tests compare the two on every object.
type Intrinsic func(args []*ast.Term) *ast.Term

// Compile turns a planned policy into a Program. Calls to the planned functions
// named in intrinsics (e.g. "g0.data.kgate.lib.get") run the Go function instead. It fails on statements or
// built-ins the VM does not implement, so callers can keep topdown for such policy
// sets.
func Compile(pol *ir.Policy, intrinsics map[string]Intrinsic) (*Program, error) {
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
	c := &compiler{strs: strs, named: named, builtins: map[string]*builtin{}, intrinsics: intrinsics, exts: make([]ext, 1)}
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
		elideCopies(fn, c.exts)
	}
	p.consts, p.exts = c.consts, c.exts
	for name := range c.builtins {
		p.stateful = p.stateful || statefulBuiltins[name]
	}
	markPure(p.funcs, p.consts, p.exts)
	return p, nil
}

// Func returns the planned function of the rule at path (dotted, without the
// leading "data", e.g. "kgate.rules.storage.ebs_gp3_not_gp2.violation").
func (p *Program) Func(path string) (Func, bool) {
	f, ok := p.byPath[path]
	return Func{f}, ok
}
