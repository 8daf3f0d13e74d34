package policies

import (
	"fmt"
	"strconv"
	"strings"
)

// PatchOp is one RFC 6902 operation. Rules emit add, replace and remove.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

func parsePatch(r *Rule, v any) ([]PatchOp, error) {
	items, _ := v.([]any)
	ops := make([]PatchOp, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rule %s (%s): patch entries must be JSON-patch operations, got %v", r.ID, r.File, it)
		}
		op := PatchOp{Value: m["value"]}
		op.Op, _ = m["op"].(string)
		op.Path, _ = m["path"].(string)
		switch op.Op {
		case "add", "replace", "remove":
		default:
			return nil, fmt.Errorf("rule %s (%s): patch op %q must be add, replace or remove", r.ID, r.File, op.Op)
		}
		if !strings.HasPrefix(op.Path, "/") {
			return nil, fmt.Errorf("rule %s (%s): patch path %q must be a JSON pointer starting with /", r.ID, r.File, op.Path)
		}
		ops = append(ops, op)
	}
	// Removals first: a rule that renames a key (remove old, add new) must not
	// see its own addition removed when both land on the same path.
	sortOps(ops)
	return ops, nil
}

func sortOps(ops []PatchOp) {
	rank := map[string]int{"remove": 0, "replace": 1, "add": 2}
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && rank[ops[j].Op] < rank[ops[j-1].Op]; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// applyAll applies the operations of several rules, in order, to a copy of obj and
// returns the patched copy and one merged patch that is valid against obj: parent
// maps that do not exist are added once (so two rules adding annotations to an
// object without metadata.annotations do not overwrite each other), a replace of a
// missing member becomes an add, and a remove of a missing member is dropped.
func applyAll(obj any, groups [][]PatchOp) (any, []PatchOp, error) {
	doc := deepCopy(obj)
	var merged []PatchOp
	for _, ops := range groups {
		for _, op := range ops {
			eff, err := applyOp(&doc, op)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", op.Op, op.Path, err)
			}
			merged = append(merged, eff...)
		}
	}
	if len(merged) == 0 {
		return nil, nil, nil
	}
	return doc, merged, nil
}

// ApplyPatch applies JSON-patch operations with the engine's semantics to a copy
// of obj.
func ApplyPatch(obj any, ops []PatchOp) (any, error) {
	doc, _, err := applyAll(obj, [][]PatchOp{ops})
	if doc == nil && err == nil {
		return obj, nil
	}
	return doc, err
}

// splitPointer splits a JSON pointer into unescaped segments.
func splitPointer(p string) []string {
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// applyOp applies op to *doc and returns the operations that were effectively
// applied: created parents first, then op itself (nothing for a no-op remove).
func applyOp(doc *any, op PatchOp) ([]PatchOp, error) {
	var eff []PatchOp
	out, applied, err := applyAt(*doc, splitPointer(op.Path), "", &op, &eff)
	if err != nil {
		return nil, err
	}
	*doc = out
	if !applied {
		return nil, nil
	}
	return append(eff, op), nil
}

// applyAt applies op at segs below v and returns the new v. Lists may be
// reallocated, so every level stores the returned child back into its parent.
func applyAt(v any, segs []string, prefix string, op *PatchOp, eff *[]PatchOp) (any, bool, error) {
	seg := segs[0]
	if len(segs) == 1 {
		return applyLeaf(v, seg, op)
	}
	here := prefix + "/" + escapePointer(seg)
	switch c := v.(type) {
	case map[string]any:
		next, exists := c[seg]
		if !exists || next == nil {
			if op.Op == "remove" {
				return v, false, nil
			}
			next = map[string]any{}
			*eff = append(*eff, PatchOp{Op: "add", Path: here, Value: map[string]any{}})
		}
		nv, applied, err := applyAt(next, segs[1:], here, op, eff)
		if err != nil {
			return nil, false, err
		}
		c[seg] = nv
		return c, applied, nil
	case []any:
		idx, err := arrayIndex(seg, len(c), false)
		if err != nil {
			return nil, false, err
		}
		nv, applied, err := applyAt(c[idx], segs[1:], here, op, eff)
		if err != nil {
			return nil, false, err
		}
		c[idx] = nv
		return c, applied, nil
	default:
		return nil, false, fmt.Errorf("segment %q: %T has no members", seg, v)
	}
}

func applyLeaf(v any, last string, op *PatchOp) (any, bool, error) {
	switch p := v.(type) {
	case map[string]any:
		_, exists := p[last]
		switch {
		case op.Op == "remove" && !exists:
			return p, false, nil
		case op.Op == "remove":
			delete(p, last)
		case op.Op == "replace" && !exists:
			op.Op = "add"
			p[last] = deepCopy(op.Value)
		default:
			p[last] = deepCopy(op.Value)
		}
		return p, true, nil
	case []any:
		idx, err := arrayIndex(last, len(p), op.Op == "add")
		if err != nil {
			return nil, false, err
		}
		switch op.Op {
		case "remove":
			return append(p[:idx:idx], p[idx+1:]...), true, nil
		case "replace":
			p[idx] = deepCopy(op.Value)
			return p, true, nil
		default:
			p = append(p, nil)
			copy(p[idx+1:], p[idx:])
			p[idx] = deepCopy(op.Value)
			return p, true, nil
		}
	default:
		return nil, false, fmt.Errorf("parent of %q is %T, not a map or list", last, v)
	}
}

func arrayIndex(seg string, n int, allowEnd bool) (int, error) {
	if seg == "-" && allowEnd {
		return n, nil
	}
	idx, err := strconv.Atoi(seg)
	if err != nil {
		return 0, fmt.Errorf("%q names a map member, but the object has a list there", seg)
	}
	if idx < 0 || idx > n || (idx == n && !allowEnd) {
		return 0, fmt.Errorf("index %q out of range (length %d)", seg, n)
	}
	return idx, nil
}

func deepCopy(v any) any { return mapJSON(v, func(x any) any { return x }) }

// mapJSON copies a JSON-shaped value, passing every leaf through leaf.
func mapJSON(v any, leaf func(any) any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = mapJSON(x, leaf)
		}
		return m
	case []any:
		s := make([]any, len(c))
		for i, x := range c {
			s[i] = mapJSON(x, leaf)
		}
		return s
	default:
		return leaf(v)
	}
}
