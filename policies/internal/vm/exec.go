package vm

import (
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
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
	// unset fills an array literal's elements until its appends set them; no
	// statement reads the literal before its last element is set.
	unset = ast.NullTerm()
)

// ConflictError reports a complete rule or object key with two different values,
// which topdown reports as eval_conflict_error.
type ConflictError struct{ Func, What string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("eval_conflict_error: %s in %s", e.What, e.Func)
}

// frame takes n locals from the stack; frames are released in LIFO order. The
// stack above sp is always zero, because call clears each frame it releases, so
// a frame needs no clearing here: clearing pointers costs a write barrier per
// local while the garbage collector marks, which it does for much of a large
// `kgate check` run.
func (ev *Eval) frame(n int) []*ast.Term {
	if ev.sp+n > len(ev.stack) {
		// The old stack stays reachable through the frames that use it.
		ev.stack = make([]*ast.Term, max(2*len(ev.stack), ev.sp+n))
	}
	fr := ev.stack[ev.sp : ev.sp+n : ev.sp+n]
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
		fr[p] = ev.read(args[i], caller)
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

// entryArgs pass an entry point its caller's input and data (locals 0 and 1).
var entryArgs = []operand{0, 1}

func (ev *Eval) read(o operand, fr []*ast.Term) *ast.Term {
	if o >= 0 {
		return fr[o]
	}
	if o == none {
		return nil
	}
	return ev.consts[^o]
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
		case opCallFunc, opCallBuiltin:
			var v *ast.Term
			var err error
			x := &ev.exts[in.x]
			if in.op == opCallFunc {
				v, err = ev.call(x.fn, x.args, fr)
			} else {
				v, err = ev.builtin(x.bi, x.args, fr)
			}
			if err != nil {
				return 0, err
			}
			if v == nil {
				return 0, nil
			}
			fr[in.target] = v
		case opBlock:
			for _, sb := range ev.exts[in.x].blocks {
				r, err := ev.run(sb, fr)
				if err != nil || r == returned {
					return r, err
				}
				if r > 0 {
					return r - 1, nil
				}
			}
		case opBreak:
			return int(in.n), nil
		case opDot:
			v := dot(ev.read(in.a, fr), ev.read(in.b, fr))
			if v == nil {
				return 0, nil
			}
			fr[in.target] = v
		case opLen:
			n, ok := length(ev.read(in.a, fr))
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
			r, err := ev.run(ev.exts[in.x].blocks[0], fr)
			switch {
			case err != nil || r == returned:
				return r, err
			case r == fellThrough:
				return 0, nil
			case r > 0:
				return r - 1, nil
			}
		case opAssign:
			fr[in.target] = ev.read(in.a, fr)
		case opAssignOnce:
			v := ev.read(in.a, fr)
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
			a, b := ev.read(in.a, fr), ev.read(in.b, fr)
			if a == nil || b == nil || (a != b && !equalValues(a.Value, b.Value)) {
				return 0, nil
			}
		case opNotEqual:
			a, b := ev.read(in.a, fr), ev.read(in.b, fr)
			if a == nil || b == nil || a == b || equalValues(a.Value, b.Value) {
				return 0, nil
			}
		case opIsArray:
			if v := ev.read(in.a, fr); v == nil || !isArray(v) {
				return 0, nil
			}
		case opIsObject:
			if v := ev.read(in.a, fr); v == nil || !isObject(v) {
				return 0, nil
			}
		case opIsSet:
			if v := ev.read(in.a, fr); v == nil || !isSet(v) {
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
			if in.key >= 0 {
				// Element in.key of an array literal of in.n elements (see sizeArrays).
				if t == emptyArray {
					elems := make([]*ast.Term, in.n)
					for i := range elems {
						elems[i] = unset
					}
					t = ast.NewTerm(ast.NewArray(elems...))
					fr[in.target] = t
				}
				arr, ok := t.Value.(*ast.Array)
				if !ok || int(in.key) >= arr.Len() {
					return 0, fmt.Errorf("array element %d of %s in %s", in.key, ast.ValueName(t.Value), ev.cur.name)
				}
				arr.Set(int(in.key), ev.read(in.a, fr))
				continue
			}
			if t == emptyArray {
				// A comprehension's array (capacity 0) starts with room for a few
				// elements rather than regrowing from one.
				t = ast.NewTerm(ast.NewArrayWithCapacity(max(int(in.n), 4)))
				fr[in.target] = t
			}
			arr, ok := t.Value.(*ast.Array)
			if !ok {
				return 0, fmt.Errorf("array append to %s in %s", ast.ValueName(t.Value), ev.cur.name)
			}
			// In place, like the Wasm runtime: every local holding this term sees it.
			t.Value = arr.Append(ev.read(in.a, fr))
		case opObjectInsert, opObjectInsertOnce:
			if fr[in.target] == emptyObject {
				fr[in.target] = ast.NewTerm(ast.NewObjectWithCapacity(int(in.n)))
			}
			obj, ok := fr[in.target].Value.(ast.Object)
			if !ok {
				return 0, fmt.Errorf("object insert into %s in %s", ast.ValueName(fr[in.target].Value), ev.cur.name)
			}
			k, v := ev.read(in.a, fr), ev.read(in.b, fr)
			if in.op == opObjectInsertOnce {
				if cur := obj.Get(k); cur != nil {
					if ast.Compare(cur.Value, v.Value) != 0 {
						return 0, &ConflictError{Func: ev.cur.name, What: "object keys must be unique"}
					}
					continue
				}
			}
			obj.Insert(k, v)
		case opObjectLiteral:
			items := ev.items[:0]
			x := &ev.exts[in.x]
			for k, key := range x.keys {
				v := ev.read(x.args[k], fr)
				if v == nil {
					return 0, fmt.Errorf("object literal value %v unset in %s", key, ev.cur.name)
				}
				items = append(items, [2]*ast.Term{key, v})
			}
			// NewObject copies the entries into one block; the buffer is reused.
			fr[in.target] = ast.NewTerm(ast.NewObject(items...))
			clear(items)
			ev.items = items[:0]
		case opArrayLiteral:
			args := ev.exts[in.x].args
			elems := make([]*ast.Term, len(args))
			for k, o := range args {
				if elems[k] = ev.read(o, fr); elems[k] == nil {
					return 0, fmt.Errorf("array literal element %d unset in %s", k, ev.cur.name)
				}
			}
			fr[in.target] = ast.NewTerm(ast.NewArray(elems...))
		case opObjectMerge:
			a, aok := fr[in.a].Value.(ast.Object)
			b, bok := fr[in.b].Value.(ast.Object)
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
			s.Add(ev.read(in.a, fr))
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

// equalValues is ast.Compare(a, b) == 0. Most comparisons of a rule are of two
// strings (kind == "Deployment", a label value), which it decides without
// ast.Compare's ordering of the two values' types.
func equalValues(a, b ast.Value) bool {
	switch x := a.(type) {
	case ast.String:
		y, ok := b.(ast.String)
		return ok && x == y
	case ast.Boolean:
		y, ok := b.(ast.Boolean)
		return ok && x == y
	}
	return ast.Compare(a, b) == 0
}

// halted reports errors topdown does not turn into undefined either.
func halted(err error) bool {
	var h topdown.Halt
	return errors.As(err, &h)
}
