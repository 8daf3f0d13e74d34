package vm

import "github.com/open-policy-agent/opa/v1/ast"

// sizeObjects gives every insert into an object made in this block the number of
// inserts into it that follow in the block, so the object is allocated once at
// its size ({"msg": …, "path": …, "fix": …} and the library's container and
// template records) instead of growing its key list and map per insert.
func sizeObjects(b block) {
	for i := range b {
		if b[i].op != opMakeObject {
			continue
		}
		n := int32(len(following(b, i, opObjectInsert, opObjectInsertOnce)))
		for _, j := range following(b, i, opObjectInsert, opObjectInsertOnce) {
			b[j].n = n
		}
	}
}

// sizeArrays prepares the arrays made in this block. An array literal with
// elements known only at run time ([a, b] for sprintf or concat) is a
// MakeArray of capacity n followed by its n appends in the same block; each
// append then writes its element in place (key is its index, n the length)
// instead of ast.Array.Append, which allocates a new array header per element.
// Other arrays (comprehensions, built in nested blocks) get the planner's
// capacity as their initial one.
func (c *compiler) sizeArrays(b block) {
	for i := range b {
		if b[i].op != opMakeArray {
			continue
		}
		appends := following(b, i, opArrayAppend)
		literal := b[i].n > 0 && len(appends) == int(b[i].n) && !appendsNested(c.exts, b[i+1:], b[i].target)
		for k, j := range appends {
			b[j].n = b[i].n
			if literal {
				b[j].key = int32(k)
			}
		}
	}
}

// following returns the indexes of the statements of one of the given opcodes
// that write the target of b[i] after it in the block, up to the next statement
// that makes a new collection in that local.
func following(b block, i int, ops ...opcode) []int {
	var out []int
	t := b[i].target
	for j := i + 1; j < len(b); j++ {
		if b[j].target != t {
			continue
		}
		if b[j].op == b[i].op {
			break
		}
		for _, op := range ops {
			if b[j].op == op {
				out = append(out, j)
			}
		}
	}
	return out
}

// appendsNested reports whether a block nested in b appends to local t.
func appendsNested(exts []ext, b block, t int32) bool {
	for _, in := range b {
		if in.x == 0 {
			continue
		}
		for _, nb := range exts[in.x].blocks {
			for _, nin := range nb {
				if nin.op == opArrayAppend && nin.target == t {
					return true
				}
			}
			if appendsNested(exts, nb, t) {
				return true
			}
		}
	}
	return false
}

// fuseObjectLiterals turns an object literal with constant keys, which the
// planner writes as a MakeObject followed by one insert per key (its values are
// computed before), into one statement. ast.NewObject allocates all entries
// of an object in one block, where each insert allocates its own: the
// library's container and template records and every violation entry are such
// literals. Keys must be distinct, as NewObject does not merge duplicates.
func (c *compiler) fuseObjectLiterals(b block) block {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		in := b[i]
		if in.op != opMakeObject {
			out = append(out, in)
			continue
		}
		var keys []*ast.Term
		var values []operand
		j := i + 1
		for ; j < len(b) && b[j].op == opObjectInsert && b[j].target == in.target; j++ {
			k := c.term(b[j].a)
			if k == nil || b[j].b == operand(in.target) || containsTerm(keys, k) {
				break
			}
			keys, values = append(keys, k), append(values, b[j].b)
		}
		if len(keys) < 2 {
			out = append(out, in)
			continue
		}
		in.op, in.x = opObjectLiteral, c.addExt(&ext{keys: keys, args: values})
		out = append(out, in)
		i += len(keys)
	}
	return out
}

func containsTerm(ts []*ast.Term, t *ast.Term) bool {
	for _, x := range ts {
		if ast.Compare(x.Value, t.Value) == 0 {
			return true
		}
	}
	return false
}

// fuseArrayLiterals turns an array literal whose elements are computed before it
// ([a, b] for sprintf or concat: a MakeArray of capacity n followed by its n
// appends) into one statement, which builds the array once instead of setting
// and rehashing it per element.
func (c *compiler) fuseArrayLiterals(b block) block {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		in := b[i]
		n := int(in.n)
		if in.op != opMakeArray || n == 0 || i+n >= len(b) {
			out = append(out, in)
			continue
		}
		values := make([]operand, 0, n)
		for j := i + 1; j <= i+n; j++ {
			if b[j].op != opArrayAppend || b[j].target != in.target || b[j].a == operand(in.target) {
				break
			}
			values = append(values, b[j].a)
		}
		if len(values) != n || (i+n+1 < len(b) && b[i+n+1].op == opArrayAppend && b[i+n+1].target == in.target) {
			out = append(out, in)
			continue
		}
		in.op, in.x = opArrayLiteral, c.addExt(&ext{args: values})
		out = append(out, in)
		i += n
	}
	return out
}
