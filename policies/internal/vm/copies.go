package vm

// elideCopies removes the copies the planner writes after most results. It
// computes a value into one local and, in the next statement, copies it into
// the local the rule's variable lives in (x := f(y) is a call into L1, then
// L2 := L1); about a third of an evaluation's statements were such copies.
// When the copy is the only statement that ever reads the first local, the
// statement that computes the value writes the second local instead.
func elideCopies(f *function, exts []ext) {
	reads := map[int32]int{f.ret: 1}
	var count func(blocks []block)
	count = func(blocks []block) {
		for _, b := range blocks {
			for i := range b {
				readLocals(&b[i], exts, func(l int32) { reads[l]++ })
				if b[i].x != 0 {
					count(exts[b[i].x].blocks)
				}
			}
		}
	}
	count(f.blocks)
	var rewrite func(b block) block
	rewrite = func(b block) block {
		out := b[:0]
		for i := 0; i < len(b); i++ {
			in := b[i]
			if in.x != 0 {
				nested := exts[in.x].blocks
				if in.op == opScan {
					nested[0] = bindDirectly(&in, nested[0], reads)
				}
				for k := range nested {
					nested[k] = rewrite(nested[k])
				}
			}
			for i+1 < len(b) && producesValue(in.op) && in.target >= 0 && reads[in.target] == 1 &&
				b[i+1].op == opAssign && b[i+1].a == operand(in.target) {
				in.target = b[i+1].target
				i++
			}
			out = append(out, in)
		}
		return out
	}
	for k := range f.blocks {
		f.blocks[k] = rewrite(f.blocks[k])
	}
}

// bindDirectly lets a scan bind its key and value to the locals of the rule's
// variables when its body starts by copying them there (some k, v in x), which
// would otherwise cost two statements per element.
func bindDirectly(scan *instr, body block, reads map[int32]int) block {
	for len(body) > 0 && body[0].op == opAssign && body[0].a >= 0 {
		switch src := int32(body[0].a); {
		case src == scan.key && reads[src] == 1:
			scan.key = body[0].target
		case src == scan.value && reads[src] == 1:
			scan.value = body[0].target
		default:
			return body
		}
		body = body[1:]
	}
	return body
}

// producesValue reports whether a statement's only effect on its target is to
// write a new value there, or leave it alone and break when there is none.
func producesValue(op opcode) bool {
	switch op {
	case opCallFunc, opCallBuiltin, opDot, opLen, opAssign, opObjectMerge, opObjectLiteral, opArrayLiteral:
		return true
	}
	return false
}

// readLocals calls read for every local the statement reads (not those of its
// nested blocks).
func readLocals(in *instr, exts []ext, read func(int32)) {
	for _, o := range [2]operand{in.a, in.b} {
		if o >= 0 {
			read(int32(o))
		}
	}
	if in.x != 0 {
		for _, o := range exts[in.x].args {
			if o >= 0 {
				read(int32(o))
			}
		}
	}
	switch in.op {
	case opReturn, opScan, opIsDefined, opIsUndefined, opArrayAppend, opObjectInsert, opObjectInsertOnce,
		opSetAdd, opResultSetAdd, opWith, opAssignOnce:
		if in.target >= 0 {
			read(in.target)
		}
	}
}
