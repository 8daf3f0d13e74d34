package manifest

import (
	"strings"
	"sync"
)

// The fast reader reads the subset of YAML nearly every Kubernetes manifest is
// written in (block mappings and sequences, one-line flow collections, plain and
// simple quoted scalars, literal block scalars, comments) straight into the
// JSON-shaped value the engine evaluates, and records only the line of every key
// and element instead of a go-yaml node tree: a quarter of the allocations and a
// fifth of the time. On anything else (anchors, tags, folded or multi-line
// scalars, escapes, tabs, non-ASCII text, input go-yaml would reject) it gives
// up and the document is decoded by go-yaml, so values, lines and error messages
// never depend on which reader ran (TestFastReaderMatchesGoYAML and
// FuzzFastReader compare them). Plain scalars are typed by go-yaml's own
// resolver. Documents that --fix may patch are always decoded by go-yaml:
// patching needs the node tree.

// maxFastDepth bounds nesting; deeper documents go to go-yaml, which reports
// the documents nested too deeply.
const maxFastDepth = 64

// maxPooledLines bounds the documents whose reader buffers are reused.
const maxPooledLines = 4096

// maxKeyLen keeps keys within what go-yaml accepts as a simple key (1024).
const maxKeyLen = 512

type fastReader struct {
	// raw holds every line of the chunk, for block scalars; lines those with
	// content.
	raw   []string
	lines []srcLine
	// unterminated is set when the last line has no line break.
	unterminated bool
	pos          int // next line to read
	tree         []lineEntry
	// pairs and items hold the members of the collections being read, innermost
	// last, so that each map and slice is allocated once at its final size.
	pairs []pair
	items []any
	depth int
}

type srcLine struct {
	indent int
	text   string // without indentation and trailing spaces
	num    int32  // line in the chunk, from 1
}

type pair struct {
	key   string
	value any
}

var readers = sync.Pool{New: func() any { return new(fastReader) }}

// readFast reads a chunk holding at most one document. ok is false when go-yaml
// must read it; obj is nil when the chunk holds no document (comments only).
func readFast(body []byte) (obj map[string]any, lines []lineEntry, ok bool) {
	r := readers.Get().(*fastReader)
	defer r.release()
	// One string per chunk: keys and plain values are slices of it.
	if !r.split(string(body)) {
		return nil, nil, false
	}
	if len(r.lines) == 0 {
		return nil, nil, true
	}
	first := r.lines[0]
	root := r.open(first.num)
	var v any
	switch {
	case first.text[0] == '{':
		var n int
		v, n, ok = r.flow(first.text, 0, first.num)
		ok = ok && endOfValue(first.text[n:])
		r.pos++
	case isEntry(first.text):
		return nil, nil, false // not a mapping: go-yaml words the error
	default:
		v, ok = r.mapping(first.indent)
	}
	m, isMap := v.(map[string]any)
	if !ok || !isMap || r.pos != len(r.lines) {
		return nil, nil, false
	}
	r.close(root, m)
	// The index outlives the reader: one allocation of its final size.
	return m, append([]lineEntry(nil), r.tree...), true
}

func (r *fastReader) release() {
	clear(r.raw)
	clear(r.lines)
	clear(r.pairs)
	clear(r.items)
	clear(r.tree)
	if cap(r.raw) > maxPooledLines {
		return // a huge document's buffers are not worth keeping
	}
	*r = fastReader{raw: r.raw[:0], lines: r.lines[:0], tree: r.tree[:0], pairs: r.pairs[:0], items: r.items[:0]}
	readers.Put(r)
}

// split records the lines that hold content. It refuses text where ASCII
// spaces and line feeds are not the only white space and control characters, or
// that holds document markers or directives.
func (r *fastReader) split(s string) bool {
	num := int32(0)
	for len(s) > 0 {
		num++
		l := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			l, s = s[:i], s[i+1:]
		} else {
			s, r.unterminated = "", true
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; c < ' ' || c > '~' {
				return false
			}
		}
		r.raw = append(r.raw, l)
		t := strings.TrimLeft(l, " ")
		indent := len(l) - len(t)
		t = strings.TrimRight(t, " ")
		if t == "" || t[0] == '#' {
			continue
		}
		if indent == 0 && (strings.HasPrefix(t, "---") || strings.HasPrefix(t, "...") || t[0] == '%') {
			return false
		}
		r.lines = append(r.lines, srcLine{indent: indent, text: t, num: num})
	}
	return true
}

// open starts the line index entry of a value named on line num.
func (r *fastReader) open(num int32) int {
	r.tree = append(r.tree, lineEntry{line: num})
	return len(r.tree) - 1
}

// close ends the entry at once its members are read.
func (r *fastReader) close(at int, v any) {
	e := &r.tree[at]
	e.size = int32(len(r.tree) - at)
	switch v.(type) {
	case map[string]any:
		e.kind = mappingValueKind
	case []any:
		e.kind = sequenceValueKind
	}
}

func (r *fastReader) enter() bool {
	r.depth++
	return r.depth <= maxFastDepth
}

// block reads the mapping or sequence that starts on the current line, indented
// by n.
func (r *fastReader) block(n int) (any, bool) {
	if isEntry(r.lines[r.pos].text) {
		return r.sequence(n)
	}
	return r.mapping(n)
}

// mapping reads "key: value" lines indented by n.
func (r *fastReader) mapping(n int) (map[string]any, bool) {
	if !r.enter() {
		return nil, false
	}
	defer func() { r.depth-- }()
	base := len(r.pairs)
	for r.pos < len(r.lines) {
		l := r.lines[r.pos]
		if l.indent < n {
			break
		}
		if l.indent > n || isEntry(l.text) {
			return nil, false
		}
		key, rest, kind := splitKey(l.text)
		if kind != isKey || r.defined(base, key) {
			return nil, false // duplicates: go-yaml's path reports them
		}
		at := r.open(l.num)
		r.tree[at].key = key
		r.pos++
		v, ok := r.memberValue(n, rest, l.num)
		if !ok {
			return nil, false
		}
		r.close(at, v)
		r.pairs = append(r.pairs, pair{key, v})
	}
	return r.collectPairs(base), true
}

func (r *fastReader) defined(base int, key string) bool {
	for _, p := range r.pairs[base:] {
		if p.key == key {
			return true
		}
	}
	return false
}

func (r *fastReader) collectPairs(base int) map[string]any {
	m := make(map[string]any, len(r.pairs)-base)
	for _, p := range r.pairs[base:] {
		m[p.key] = p.value
	}
	clear(r.pairs[base:])
	r.pairs = r.pairs[:base]
	return m
}

// memberValue reads the value of a key indented by n: rest of its line, or the
// block below it (a sequence may start at the key's own indentation).
func (r *fastReader) memberValue(n int, rest string, num int32) (any, bool) {
	if rest != "" {
		v, ok := r.scalarOrFlow(rest, n, num)
		// A deeper line after a one-line value continues a scalar or is an error.
		if !ok || r.pos < len(r.lines) && r.lines[r.pos].indent > n {
			return nil, false
		}
		return v, true
	}
	if r.pos == len(r.lines) {
		return nil, true
	}
	switch next := r.lines[r.pos]; {
	case next.indent > n:
		return r.block(next.indent)
	case next.indent == n && isEntry(next.text):
		return r.sequence(n)
	}
	return nil, true
}

// sequence reads "- item" lines indented by n.
func (r *fastReader) sequence(n int) ([]any, bool) {
	if !r.enter() {
		return nil, false
	}
	defer func() { r.depth-- }()
	base := len(r.items)
	for r.pos < len(r.lines) {
		l := r.lines[r.pos]
		if l.indent != n || !isEntry(l.text) {
			if l.indent > n {
				return nil, false
			}
			break
		}
		rest := strings.TrimLeft(l.text[1:], " ")
		at := r.open(l.num)
		var v any
		ok := false
		kind := unsure
		if rest != "" && rest[0] != '#' && !isEntry(rest) {
			_, _, kind = splitKey(rest)
		}
		switch {
		case rest == "" || rest[0] == '#':
			// The item is the block below; an empty item goes to go-yaml.
			r.pos++
			if r.pos < len(r.lines) && r.lines[r.pos].indent > n {
				r.tree[at].line = r.lines[r.pos].num
				v, ok = r.block(r.lines[r.pos].indent)
			}
		case kind == isKey:
			// "- key: value": a mapping indented to its first key.
			col := n + len(l.text) - len(rest)
			r.lines[r.pos] = srcLine{indent: col, text: rest, num: l.num}
			v, ok = r.mapping(col)
		case kind == notKey:
			r.pos++
			v, ok = r.scalarOrFlow(rest, n, l.num)
			ok = ok && (r.pos == len(r.lines) || r.lines[r.pos].indent <= n)
		}
		if !ok {
			return nil, false
		}
		r.close(at, v)
		r.items = append(r.items, v)
	}
	out := make([]any, len(r.items)-base)
	copy(out, r.items[base:])
	clear(r.items[base:])
	r.items = r.items[:base]
	return out, true
}

func isEntry(t string) bool {
	return t == "-" || strings.HasPrefix(t, "- ")
}
