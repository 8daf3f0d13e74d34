package manifest

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is one Kubernetes object read from a manifest.
type Document struct {
	// File is the path the object was read from ("-" for standard input).
	File string
	// Index is the 0-based index of the document within the file, counting only
	// documents that hold an object (comment-only and empty documents are skipped).
	Index int
	// Item is the index inside a `kind: List` document, -1 otherwise.
	Item int
	// Line is the 1-based line where the object starts.
	Line   int
	Object map[string]any

	// at is where the object was read: its mapping node when go-yaml decoded it
	// (always when it may be patched), else the fast reader's line index.
	at pos
	// chunk is the document chunk the object belongs to; items of one List share it.
	chunk *chunk
}

// APIVersion, Kind, Name and Namespace read the object's identity.
func (d *Document) APIVersion() string { return str(d.Object["apiVersion"]) }

// Kind returns the object's kind.
func (d *Document) Kind() string { return str(d.Object["kind"]) }

// Name returns metadata.name.
func (d *Document) Name() string { return str(meta(d.Object)["name"]) }

// Namespace returns metadata.namespace as written ("" when unset).
func (d *Document) Namespace() string { return str(meta(d.Object)["namespace"]) }

func meta(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// LineOf returns the line of the field a JSON pointer names, or of its closest
// existing ancestor, so a finding about a missing field points at where it
// belongs.
func (d *Document) LineOf(pointer string) int {
	line := d.Line
	if !d.at.valid() || pointer == "" || pointer == "/" {
		return line
	}
	at := d.at
	for _, seg := range strings.Split(pointer[1:], "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		l, next, ok := at.member(seg)
		if !ok {
			return line
		}
		line = l + d.chunk.offset
		at = next
	}
	return line
}

// member finds seg in a mapping or sequence node; key is the node whose line
// names the member (the key of a mapping entry, the element of a sequence).
func member(n *yaml.Node, seg string) (key, value *yaml.Node) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i], n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i]
		}
	}
	return nil, nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Error is a document that could not be read. Doc is -1 when the error concerns
// the whole file.
type Error struct {
	File    string
	Doc     int
	Line    int
	Message string
}

func (e *Error) Error() string {
	if e.Doc < 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s: document %d (line %d): %s", e.File, e.Doc, e.Line, e.Message)
}

func (f *File) addDocument(c *chunk, root *yaml.Node, index int) {
	n := root.Content[0]
	fail := func(msg string) {
		c.errs = append(c.errs, &Error{File: f.Path, Doc: index, Line: c.offset + n.Line, Message: msg})
	}
	if n.Kind != yaml.MappingNode {
		fail("a Kubernetes object must be a mapping with apiVersion and kind")
		return
	}
	v, err := toValue(n, 0)
	if err != nil {
		fail(relocate(err.Error(), c.offset))
		return
	}
	f.addObject(c, v.(map[string]any), pos{node: n}, index)
}

// addObject records the object read at, or the items of a List.
func (f *File) addObject(c *chunk, obj map[string]any, at pos, index int) {
	line := c.offset + at.line()
	if msg := checkObject(obj); msg != "" {
		c.errs = append(c.errs, &Error{File: f.Path, Doc: index, Line: line, Message: msg})
		return
	}
	items, isList := obj["items"].([]any)
	kind := str(obj["kind"])
	if !(kind == "List" || strings.HasSuffix(kind, "List") && isList) {
		c.docs = append(c.docs, &Document{File: f.Path, Index: index, Item: -1, Line: line, Object: obj, at: at, chunk: c})
		return
	}
	var elems []pos
	if _, itemsAt, ok := at.member("items"); ok {
		elems = itemsAt.elements()
	}
	for i, it := range items {
		itemAt := at // items brought by a merge key have no position of their own
		if i < len(elems) {
			itemAt = elems[i]
		}
		itemLine := c.offset + itemAt.line()
		m, ok := it.(map[string]any)
		msg := "list item is not an object"
		if ok {
			msg = checkObject(m)
		}
		if msg != "" {
			c.errs = append(c.errs, &Error{File: f.Path, Doc: index, Line: itemLine, Message: fmt.Sprintf("item %d: %s", i, msg)})
			continue
		}
		c.docs = append(c.docs, &Document{File: f.Path, Index: index, Item: i, Line: itemLine, Object: m, at: itemAt, chunk: c})
	}
}

func checkObject(obj map[string]any) string {
	var missing []string
	for _, k := range []string{"apiVersion", "kind"} {
		if s, ok := obj[k].(string); !ok || s == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("not a Kubernetes object: %s missing", strings.Join(missing, " and "))
	}
	return ""
}
