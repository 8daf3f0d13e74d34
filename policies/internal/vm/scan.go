package vm

import (
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

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
	r, err := ev.run(ev.exts[in.x].blocks[0], fr)
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
	x := &ev.exts[in.x]
	saved := fr[in.target]
	fr[in.target] = upsert(saved, x.path, ev.read(in.a, fr))
	// Memoized values were computed against the replaced document.
	ev.with++
	r, err := ev.run(x.blocks[0], fr)
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
