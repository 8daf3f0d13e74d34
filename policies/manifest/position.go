package manifest

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// pos is where a value was read: a YAML node when the document was decoded by
// go-yaml, or an entry of the line index the fast reader records instead of a
// node tree. Lines are relative to the document's chunk, like yaml.Node lines.
type pos struct {
	node  *yaml.Node
	lines []lineEntry
	i     int32
}

// lineEntry is one value of a document in the fast reader's line index. Entries
// are in document order and a collection's members follow it, so the index of a
// document is a single allocation rather than a tree of nodes.
type lineEntry struct {
	// key is the mapping key that names the value ("" for a sequence element).
	key string
	// line is the chunk line of the key, or of the element in a sequence (the
	// root's first key for the root), the lines go-yaml reports for them.
	line int32
	// size counts the entries of the value's subtree, itself included.
	size int32
	kind valueKind
}

type valueKind uint8

const (
	scalarValueKind valueKind = iota
	mappingValueKind
	sequenceValueKind
)

// valid reports whether p points at a value.
func (p pos) valid() bool { return p.node != nil || p.lines != nil }

// member finds seg in the mapping or sequence at p: the line naming the member
// (the key of a mapping entry, the element of a sequence) and the member's value.
func (p pos) member(seg string) (line int, next pos, ok bool) {
	if p.node != nil {
		key, value := member(p.node, seg)
		if value == nil {
			return 0, pos{}, false
		}
		return key.Line, pos{node: resolve(value)}, true
	}
	if p.lines == nil {
		return 0, pos{}, false
	}
	e := p.lines[p.i]
	end := p.i + e.size
	switch e.kind {
	case mappingValueKind:
		for j := p.i + 1; j < end; j += p.lines[j].size {
			if p.lines[j].key == seg {
				return int(p.lines[j].line), pos{lines: p.lines, i: j}, true
			}
		}
	case sequenceValueKind:
		n, err := strconv.Atoi(seg)
		if err != nil || n < 0 {
			return 0, pos{}, false
		}
		for j := p.i + 1; j < end; j += p.lines[j].size {
			if n == 0 {
				return int(p.lines[j].line), pos{lines: p.lines, i: j}, true
			}
			n--
		}
	}
	return 0, pos{}, false
}

// line is the chunk line of the value at p (for a mapping, its first key).
func (p pos) line() int {
	if p.node != nil {
		return p.node.Line
	}
	return int(p.lines[p.i].line)
}

// elements lists the members of the sequence at p.
func (p pos) elements() []pos {
	if p.node != nil {
		n := resolve(p.node)
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		out := make([]pos, len(n.Content))
		for i, c := range n.Content {
			out[i] = pos{node: resolve(c)}
		}
		return out
	}
	if p.lines == nil || p.lines[p.i].kind != sequenceValueKind {
		return nil
	}
	var out []pos
	for j, end := p.i+1, p.i+p.lines[p.i].size; j < end; j += p.lines[j].size {
		out = append(out, pos{lines: p.lines, i: j})
	}
	return out
}
