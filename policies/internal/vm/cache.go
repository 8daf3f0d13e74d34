package vm

import (
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Cache keeps the values of rules that read neither the object under review nor
// the clock, only data and input.params, across evaluations: allowlists parsed
// from parameters, indexes of the inventory by namespace. An engine owns one per
// set of parameters; it forgets everything when the data document changes.
type Cache struct {
	mu   sync.RWMutex
	data *ast.Term
	vals map[int]*ast.Term
}

// NewCache returns an empty cache. Use it only with one set of parameters.
func NewCache() *Cache { return &Cache{vals: map[int]*ast.Term{}} }

func (c *Cache) get(data *ast.Term, idx int) (*ast.Term, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.data != data {
		return nil, false
	}
	v, ok := c.vals[idx]
	return v, ok
}

func (c *Cache) put(data *ast.Term, idx int, v *ast.Term) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data != data {
		c.data, c.vals = data, map[int]*ast.Term{}
	}
	c.vals[idx] = v
}

// markPure finds the functions whose value depends on their arguments, data and
// input.params alone (input-free), and marks pure the input-free ones of input
// and data only, whose values a Cache may keep. Rego has no recursion, so the
// call graph is acyclic.
func markPure(funcs []*function, consts []*ast.Term, exts []ext) {
	state := make(map[*function]int, len(funcs)) // 1 visiting, 2 free, 3 not free
	var free func(f *function) bool
	free = func(f *function) bool {
		switch state[f] {
		case 1, 3:
			return false
		case 2:
			return true
		}
		state[f] = 1
		if len(f.params) > 0 && pureBlocks(f.blocks, operand(f.params[0]), free, consts, exts) {
			state[f] = 2
			return true
		}
		state[f] = 3
		return false
	}
	for _, f := range funcs {
		f.pure = free(f) && f.memo
	}
}

// pureBlocks reports whether the statements read the input local only to pass it
// on to pure functions or to read input.params, and call no built-in whose result
// changes between evaluations (time.now_ns, rand.*, http.send).
func pureBlocks(blocks []block, input operand, free func(*function) bool, consts []*ast.Term, exts []ext) bool {
	for _, b := range blocks {
		for i := range b {
			in := &b[i]
			x := &exts[in.x]
			switch in.op {
			case opCallFunc:
				for j, a := range x.args {
					if a == input && (j != 0 || !free(x.fn)) {
						return false
					}
				}
			case opCallBuiltin:
				if x.bi.volatile {
					return false
				}
				for _, a := range x.args {
					if a == input {
						return false
					}
				}
			case opDot:
				if in.a == input && (in.b >= 0 || in.b == none || !consts[^in.b].Equal(paramsKey)) {
					return false
				}
				if in.b == input || operand(in.target) == input {
					return false
				}
			case opWith:
				if operand(in.target) == input || in.a == input {
					return false
				}
			case opObjectLiteral, opArrayLiteral:
				if operand(in.target) == input || slices.Contains(x.args, input) {
					return false
				}
			default:
				if readsOrWrites(in, int32(input)) {
					return false
				}
			}
			if in.x != 0 && !pureBlocks(x.blocks, input, free, consts, exts) {
				return false
			}
		}
	}
	return true
}

var paramsKey = ast.StringTerm("params")

// readsOrWrites reports whether a statement other than a call, a dot or a with
// touches local l.
func readsOrWrites(in *instr, l int32) bool {
	if in.a == operand(l) || in.b == operand(l) || in.target == l {
		return true
	}
	switch in.op {
	case opScan:
		return in.key == l || in.value == l
	}
	return false
}
