package vm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Results of running a block: it ran to its end, a return statement ran, or a
// break (an undefined statement is a break of depth 0) left this block and
// that many enclosing ones.
const (
	fellThrough = -1
	returned    = -2
)

// Collections start as these shared empty values and are allocated on their
// first element: most rules' violation sets and most defaults stay empty. They
// are never modified; every statement that adds to a collection replaces them.
var (
	emptyArray  = ast.ArrayTerm()
	emptyObject = ast.ObjectTerm()
	emptySet    = ast.SetTerm()
)

// ConflictError reports a complete rule or object key with two different values,
// which topdown reports as eval_conflict_error.
type ConflictError struct{ Func, What string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("eval_conflict_error: %s in %s", e.What, e.Func)
}

// Eval is one evaluation: one input and one data document, with the values of
// rules memoized across the functions it calls. It is not safe for concurrent use;
// call Release when done.
type Eval struct {
	p      *Program
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
	args     []*ast.Term
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
	ev.input, ev.data, ev.cache = input, data, cache
	ev.bctx = topdown.BuiltinContext{
		Context: ctx,
		Time:    ast.NumberTerm(jsonInt(now.UnixNano())),
		Cache:   builtins.Cache{},
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
	return ev.call(f.f, []operand{{local: -1, term: ev.input}, {local: -1, term: ev.data}}, nil)
}

// frame takes n zeroed locals from the stack; frames are released in LIFO order.
func (ev *Eval) frame(n int) []*ast.Term {
	if ev.sp+n > len(ev.stack) {
		// The old stack stays reachable through the frames that use it.
		ev.stack = make([]*ast.Term, max(2*len(ev.stack), ev.sp+n))
	}
	fr := ev.stack[ev.sp : ev.sp+n : ev.sp+n]
	clear(fr)
	ev.sp += n
	return fr
}

func (ev *Eval) call(f *function, args []operand, caller []*ast.Term) (*ast.Term, error) {
	memo := f.memo && ev.with == 0
	if memo && ev.stamp[f.idx] == ev.gen {
		return ev.memo[f.idx], nil
	}
	shared := memo && f.pure && ev.cache != nil
	if shared {
		if v, ok := ev.cache.get(ev.data, f.idx); ok {
			ev.memo[f.idx], ev.stamp[f.idx] = v, ev.gen
			return v, nil
		}
	}
	sp := ev.sp
	fr := ev.frame(f.nlocals)
	for i, p := range f.params {
		fr[p] = read(args[i], caller)
	}
	prev := ev.cur
	ev.cur = f
	var err error
	for _, b := range f.blocks {
		var r int
		if r, err = ev.run(b, fr); err != nil || r == returned {
			break
		}
		if r > 0 {
			// A break past the block of a function leaves the function.
			break
		}
	}
	ev.cur = prev
	v := fr[f.ret]
	if ev.ret != nil {
		v, ev.ret = ev.ret, nil
	}
	clear(fr)
	ev.sp = sp
	if err != nil {
		return nil, err
	}
	if memo {
		ev.memo[f.idx], ev.stamp[f.idx] = v, ev.gen
	}
	if shared {
		ev.cache.put(ev.data, f.idx, v)
	}
	return v, nil
}

func read(o operand, fr []*ast.Term) *ast.Term {
	if o.local >= 0 {
		return fr[o.local]
	}
	return o.term
}

// run executes one block; see fellThrough and returned.
func (ev *Eval) run(b block, fr []*ast.Term) (int, error) {
	for i := range b {
		in := &b[i]
		switch in.op {
		case opNop:
		case opReturn:
			ev.ret = fr[in.target]
			return returned, nil
		case opCallFunc:
			v, err := ev.call(in.fn, in.args, fr)
			if err != nil {
				return 0, err
			}
			if v == nil {
				return 0, nil
			}
			fr[in.target] = v
		case opCallBuiltin:
			v, err := ev.builtin(in.bi, in.args, fr)
			if err != nil {
				return 0, err
			}
			if v == nil {
				return 0, nil
			}
			fr[in.target] = v
		case opBlock:
			for _, sb := range in.blocks {
				r, err := ev.run(sb, fr)
				if err != nil || r == returned {
					return r, err
				}
				if r > 0 {
					return r - 1, nil
				}
			}
		case opBreak:
			return in.n, nil
		case opDot:
			v := dot(read(in.a, fr), read(in.b, fr))
			if v == nil {
				return 0, nil
			}
			fr[in.target] = v
		case opLen:
			n, ok := length(read(in.a, fr))
			if !ok {
				return 0, nil
			}
			fr[in.target] = ast.InternedTerm(n)
		case opScan:
			r, err := ev.scan(in, fr)
			if err != nil || r != fellThrough {
				return r, err
			}
		case opNot:
			r, err := ev.run(in.blocks[0], fr)
			switch {
			case err != nil || r == returned:
				return r, err
			case r == fellThrough:
				return 0, nil
			case r > 0:
				return r - 1, nil
			}
		case opAssign:
			fr[in.target] = read(in.a, fr)
		case opAssignOnce:
			v := read(in.a, fr)
			if cur := fr[in.target]; cur != nil {
				if v == nil || ast.Compare(cur.Value, v.Value) != 0 {
					return 0, &ConflictError{Func: ev.cur.name, What: "complete rule produced more than one value"}
				}
				continue
			}
			fr[in.target] = v
		case opReset:
			fr[in.target] = nil
		case opMakeArray:
			fr[in.target] = emptyArray
		case opMakeObject:
			fr[in.target] = emptyObject
		case opMakeSet:
			fr[in.target] = emptySet
		case opEqual:
			a, b := read(in.a, fr), read(in.b, fr)
			if a == nil || b == nil || (a != b && ast.Compare(a.Value, b.Value) != 0) {
				return 0, nil
			}
		case opNotEqual:
			a, b := read(in.a, fr), read(in.b, fr)
			if a == nil || b == nil || a == b || ast.Compare(a.Value, b.Value) == 0 {
				return 0, nil
			}
		case opIsArray:
			if v := read(in.a, fr); v == nil || !isArray(v) {
				return 0, nil
			}
		case opIsObject:
			if v := read(in.a, fr); v == nil || !isObject(v) {
				return 0, nil
			}
		case opIsSet:
			if v := read(in.a, fr); v == nil || !isSet(v) {
				return 0, nil
			}
		case opIsDefined:
			if fr[in.target] == nil {
				return 0, nil
			}
		case opIsUndefined:
			if fr[in.target] != nil {
				return 0, nil
			}
		case opArrayAppend:
			t := fr[in.target]
			if t == emptyArray {
				t = ast.NewTerm(ast.NewArrayWithCapacity(in.n))
				fr[in.target] = t
			}
			arr, ok := t.Value.(*ast.Array)
			if !ok {
				return 0, fmt.Errorf("array append to %s in %s", ast.ValueName(t.Value), ev.cur.name)
			}
			// In place, like the Wasm runtime: every local holding this term sees it.
			t.Value = arr.Append(read(in.a, fr))
		case opObjectInsert, opObjectInsertOnce:
			if fr[in.target] == emptyObject {
				fr[in.target] = ast.NewTerm(ast.NewObject())
			}
			obj, ok := fr[in.target].Value.(ast.Object)
			if !ok {
				return 0, fmt.Errorf("object insert into %s in %s", ast.ValueName(fr[in.target].Value), ev.cur.name)
			}
			k, v := read(in.a, fr), read(in.b, fr)
			if in.op == opObjectInsertOnce {
				if cur := obj.Get(k); cur != nil {
					if ast.Compare(cur.Value, v.Value) != 0 {
						return 0, &ConflictError{Func: ev.cur.name, What: "object keys must be unique"}
					}
					continue
				}
			}
			obj.Insert(k, v)
		case opObjectMerge:
			a, aok := fr[in.a.local].Value.(ast.Object)
			b, bok := fr[in.b.local].Value.(ast.Object)
			if !aok || !bok {
				return 0, &ConflictError{Func: ev.cur.name, What: "merge of non-objects"}
			}
			m, ok := a.Merge(b)
			if !ok {
				return 0, &ConflictError{Func: ev.cur.name, What: "object keys must be unique"}
			}
			fr[in.target] = ast.NewTerm(m)
		case opSetAdd:
			if fr[in.target] == emptySet {
				fr[in.target] = ast.NewTerm(ast.NewSet())
			}
			s, ok := fr[in.target].Value.(ast.Set)
			if !ok {
				return 0, fmt.Errorf("set add to %s in %s", ast.ValueName(fr[in.target].Value), ev.cur.name)
			}
			s.Add(read(in.a, fr))
		case opWith:
			r, err := ev.withStmt(in, fr)
			if err != nil || r != fellThrough {
				return r, err
			}
		case opResultSetAdd:
			ev.result = append(ev.result, fr[in.target])
		default:
			return 0, fmt.Errorf("unknown opcode %d in %s", in.op, ev.cur.name)
		}
	}
	return fellThrough, nil
}

// scan runs the block once per element of the source.
func (ev *Eval) scan(in *instr, fr []*ast.Term) (int, error) {
	src := fr[in.target]
	if src == nil {
		return fellThrough, nil
	}
	switch v := src.Value.(type) {
	case *ast.Array:
		for i := 0; i < v.Len(); i++ {
			if stop, out, err := ev.step(in, fr, ast.InternedTerm(i), v.Elem(i)); stop {
				return out, err
			}
		}
	case ast.Object, ast.Set:
		// Objects and sets iterate through callbacks; a scan state per nesting
		// depth, reused across evaluations, keeps them from allocating closures.
		if ev.depth == len(ev.scans) {
			st := &scanState{ev: ev}
			st.objF, st.setF = st.objStep, st.setStep
			ev.scans = append(ev.scans, st)
		}
		st := ev.scans[ev.depth]
		ev.depth++
		st.in, st.fr, st.out, st.err = in, fr, fellThrough, nil
		if o, ok := v.(ast.Object); ok {
			o.Until(st.objF)
		} else {
			v.(ast.Set).Until(st.setF)
		}
		ev.depth--
		out, err := st.out, st.err
		st.in, st.fr, st.err = nil, nil, nil
		return out, err
	}
	return fellThrough, nil
}

type scanState struct {
	ev   *Eval
	in   *instr
	fr   []*ast.Term
	out  int
	err  error
	objF func(k, v *ast.Term) bool
	setF func(e *ast.Term) bool
}

func (st *scanState) objStep(k, v *ast.Term) bool {
	var stop bool
	stop, st.out, st.err = st.ev.step(st.in, st.fr, k, v)
	return stop
}

func (st *scanState) setStep(e *ast.Term) bool {
	var stop bool
	stop, st.out, st.err = st.ev.step(st.in, st.fr, e, e)
	return stop
}

// step runs a scan's body for one element. Within the body depth 0 continues with
// the next element and depth 1 leaves the scan, as the Wasm loop does; deeper
// breaks and returns leave the enclosing blocks too.
func (ev *Eval) step(in *instr, fr []*ast.Term, k, v *ast.Term) (stop bool, out int, err error) {
	fr[in.key], fr[in.value] = k, v
	r, err := ev.run(in.blocks[0], fr)
	switch {
	case err != nil || r == returned:
		return true, r, err
	case r == 1:
		return true, fellThrough, nil
	case r > 1:
		return true, r - 2, nil
	}
	return false, fellThrough, nil
}

func (ev *Eval) withStmt(in *instr, fr []*ast.Term) (int, error) {
	saved := fr[in.target]
	fr[in.target] = upsert(saved, in.path, read(in.a, fr))
	// Memoized values were computed against the replaced document.
	ev.with++
	r, err := ev.run(in.blocks[0], fr)
	ev.with--
	fr[in.target] = saved
	switch {
	case err != nil || r == returned:
		return r, err
	case r == fellThrough:
		return fellThrough, nil
	case r == 0:
		return 0, nil
	}
	return r - 1, nil
}

// upsert returns a copy of doc with value at path, creating objects on the way.
func upsert(doc *ast.Term, path []*ast.Term, value *ast.Term) *ast.Term {
	if len(path) == 0 {
		return value
	}
	obj := ast.NewObject()
	var child *ast.Term
	if doc != nil {
		if o, ok := doc.Value.(ast.Object); ok {
			o.Foreach(func(k, v *ast.Term) { obj.Insert(k, v) })
			child = o.Get(path[0])
		}
	}
	obj.Insert(path[0], upsert(child, path[1:], value))
	return ast.NewTerm(obj)
}

func dot(src, key *ast.Term) *ast.Term {
	if src == nil || key == nil {
		return nil
	}
	switch v := src.Value.(type) {
	case ast.Object:
		return v.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= v.Len() {
			return nil
		}
		return v.Elem(i)
	case ast.Set:
		if v.Contains(key) {
			return key
		}
	}
	return nil
}

func length(t *ast.Term) (int, bool) {
	if t == nil {
		return 0, false
	}
	switch v := t.Value.(type) {
	case *ast.Array:
		return v.Len(), true
	case ast.Object:
		return v.Len(), true
	case ast.Set:
		return v.Len(), true
	case ast.String:
		return utf8.RuneCountInString(string(v)), true
	}
	return 0, false
}

func isArray(t *ast.Term) bool  { _, ok := t.Value.(*ast.Array); return ok }
func isObject(t *ast.Term) bool { _, ok := t.Value.(ast.Object); return ok }
func isSet(t *ast.Term) bool    { _, ok := t.Value.(ast.Set); return ok }

// halted reports errors topdown does not turn into undefined either.
func halted(err error) bool {
	var h topdown.Halt
	return errors.As(err, &h)
}
