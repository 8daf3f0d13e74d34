package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one parsed manifest file.
type File struct {
	Path   string
	Docs   []*Document
	Errors []*Error
	chunks []*chunk
	json   bool
}

// chunk is the text between two document separators. Chunks that hold no change
// are written back byte for byte by --fix.
type chunk struct {
	sep     []byte // the "---" line that opened the chunk, if any
	body    []byte
	offset  int // lines of the file before body
	roots   []*yaml.Node
	changed bool
}

var separator = regexp.MustCompile(`^---(\s.*)?$`)

// Parse reads every document of a manifest. It never fails as a whole: a broken
// document is recorded in File.Errors with its position, and the other documents
// are still returned.
func Parse(path string, data []byte) *File {
	f := &File{Path: path, json: strings.HasSuffix(strings.ToLower(path), ".json")}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f.chunks = split(data)
	index := 0
	for _, c := range f.chunks {
		dec := yaml.NewDecoder(bytes.NewReader(c.body))
		for {
			var root yaml.Node
			err := dec.Decode(&root)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if hasContent(c.body) {
					f.Errors = append(f.Errors, &Error{File: path, Doc: index, Line: c.offset + 1 + errorLine(err), Message: relocate(strings.TrimPrefix(err.Error(), "yaml: "), c.offset)})
					index++
				}
				break
			}
			if len(root.Content) == 0 || isNullDoc(&root) {
				continue
			}
			c.roots = append(c.roots, &root)
			f.addDocument(c, &root, index)
			index++
		}
	}
	return f
}

// split cuts the file at "---" lines, keeping each separator with the chunk it
// opens so that the file can be reassembled exactly.
func split(data []byte) []*chunk {
	var chunks []*chunk
	cur := &chunk{}
	line := 0
	start := 0
	for pos := 0; pos <= len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data) + 1
		if end >= 0 {
			next = pos + end + 1
		} else {
			end = len(data) - pos
		}
		text := bytes.TrimRight(data[pos:pos+end], "\r")
		if separator.Match(text) {
			cur.body = data[start:pos]
			chunks = append(chunks, cur)
			cur = &chunk{sep: data[pos:min(next, len(data))], offset: line + 1}
			start = min(next, len(data))
		}
		line++
		pos = next
	}
	cur.body = data[start:]
	chunks = append(chunks, cur)
	return chunks
}

func hasContent(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("...")) {
			return true
		}
	}
	return false
}

func isNullDoc(root *yaml.Node) bool {
	n := root.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func errorLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscanf(m[1], "%d", &n)
	return n - 1
}

func (f *File) addDocument(c *chunk, root *yaml.Node, index int) {
	n := root.Content[0]
	line := c.offset + n.Line
	fail := func(msg string) {
		f.Errors = append(f.Errors, &Error{File: f.Path, Doc: index, Line: line, Message: msg})
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
	obj := v.(map[string]any)
	if msg := checkObject(obj); msg != "" {
		fail(msg)
		return
	}
	items, isList := obj["items"].([]any)
	kind := str(obj["kind"])
	if !(kind == "List" || strings.HasSuffix(kind, "List") && isList) {
		f.Docs = append(f.Docs, &Document{File: f.Path, Index: index, Item: -1, Line: line, Object: obj, node: n, chunk: c})
		return
	}
	_, itemsNode := member(n, "items")
	for i, it := range items {
		itemNode := resolve(itemsNode.Content[i])
		m, ok := it.(map[string]any)
		msg := "list item is not an object"
		if ok {
			msg = checkObject(m)
		}
		if msg != "" {
			f.Errors = append(f.Errors, &Error{File: f.Path, Doc: index, Line: c.offset + itemNode.Line, Message: fmt.Sprintf("item %d: %s", i, msg)})
			continue
		}
		f.Docs = append(f.Docs, &Document{File: f.Path, Index: index, Item: i, Line: c.offset + itemNode.Line, Object: m, node: itemNode, chunk: c})
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

// relocate turns chunk-relative "line N" positions into file lines.
func relocate(msg string, offset int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(s string) string {
		var n int
		fmt.Sscanf(s, "line %d", &n)
		return fmt.Sprintf("line %d", n+offset)
	})
}
