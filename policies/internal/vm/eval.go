package vm

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Eval is one evaluation: one input and one data document, with the values of
// rules memoized across the functions it calls. It is not safe for concurrent use;
// call Release when done.
type Eval struct {
	p      *Program
	consts []*ast.Term
	exts   []ext
	cache  *Cache
	input  *ast.Term
	data   *ast.Term
	bctx   topdown.BuiltinContext
	memo   []*ast.Term
	stamp  []uint32
	gen    uint32
	stack  []*ast.Term
	sp     int
	with   int
	ret    *ast.Term
	cur    *function
	result []*ast.Term
	// Built-in call state; see builtin.
	args []*ast.Term
	// items is the buffer object literals are built from.
	items    [][2]*ast.Term
	out      *ast.Term
	outs     []*ast.Term
	relation bool
	collectF func(*ast.Term) error
	// Scan states by nesting depth; see scan.
	scans []*scanState
	depth int
	// broken is set after a panic left the stacks in an unknown state.
	broken bool
}

var evalPool sync.Pool

// NewEval starts an evaluation of input against data. now is the wall clock
// time built-ins see (time.now_ns). cache, if not nil, keeps the values of pure
// rules across evaluations with the same input.params.
func (p *Program) NewEval(ctx context.Context, input, data *ast.Term, now time.Time, cache *Cache) *Eval {
	ev, _ := evalPool.Get().(*Eval)
	if ev == nil || ev.p != p {
		ev = &Eval{p: p, memo: make([]*ast.Term, len(p.funcs)), stamp: make([]uint32, len(p.funcs)), stack: make([]*ast.Term, 4096)}
		ev.collectF = ev.collect
	}
	ev.gen++
	if ev.gen == 0 {
		// The stamps wrapped around: forget them all.
		clear(ev.stamp)
		ev.gen = 1
	}
	ev.input, ev.data, ev.cache, ev.consts, ev.exts = input, data, cache, p.consts, p.exts
	ev.bctx = topdown.BuiltinContext{
		Context: ctx,
		Time:    ast.NumberTerm(jsonInt(now.UnixNano())),
	}
	if p.stateful {
		ev.bctx.Cache = builtins.Cache{}
	}
	return ev
}

// Release returns the evaluation's buffers for reuse.
func (ev *Eval) Release() {
	if ev.broken {
		return
	}
	ev.input, ev.data, ev.ret, ev.cur, ev.result, ev.cache = nil, nil, nil, nil, nil, nil
	ev.bctx = topdown.BuiltinContext{}
	evalPool.Put(ev)
}

// Call evaluates the rule behind f; nil means undefined. A panic below it (a
// lazily converted input value that has no JSON form, such as a YAML .nan) is
// returned as an error and the evaluation is not reused.
func (ev *Eval) Call(f Func) (v *ast.Term, err error) {
	if f.f == nil {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			ev.broken = true
			v, err = nil, fmt.Errorf("%s: %v", f.f.name, r)
		}
	}()
	return ev.call(f.f, entryArgs, []*ast.Term{ev.input, ev.data})
}
