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

// File is one manifest file, split into documents.
type File struct {
	Path string
	// Docs and Errors are filled by Parse; a caller that parses ranges of chunks
	// (ParseRange) collects them itself.
	Docs   []*Document
	Errors []*Error
	chunks []*chunk
	json   bool
}

// chunk is the text between two document separators. Chunks that hold no change
// are written back byte for byte by --fix.
type chunk struct {
	sep    []byte // the "---" or "..." line that opened the chunk, if any
	body   []byte
	offset int // lines of the file before body
	// index is the document index of the chunk's first object: documents that hold
	// nothing (comments, blank, null) are not counted.
	index int
	// kind is the value of the chunk's top-level "kind:" line when it has exactly
	// one, "" otherwise (JSON, flow style, lists or several candidates).
	kind    string
	parsed  bool
	roots   []*yaml.Node
	docs    []*Document
	errs    []*Error
	changed bool
}

// Parse reads every document of a manifest. It never fails as a whole: a broken
// document is recorded in File.Errors with its position, and the other documents
// are still returned.
func Parse(path string, data []byte) *File {
	f := Split(path, data)
	f.Docs, f.Errors = f.ParseRange(0, f.NumChunks(), nil, true)
	return f
}

// Split cuts a manifest into documents without parsing them, so that a caller can
// parse some documents first (e.g. the kinds referential rules need) and stream
// through the rest.
func Split(path string, data []byte) *File {
	f := &File{Path: path, json: strings.HasSuffix(strings.ToLower(path), ".json")}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f.chunks = split(data)
	index := 0
	for _, c := range f.chunks {
		c.index = index
		var content bool
		content, c.kind = scan(c.body)
		if content {
			index++
		}
	}
	return f
}

// scan reads a chunk's lines once: whether it holds a document (more than
// comments, blank lines and an explicit null) and the value of its only
// top-level "kind:" line ("" when there is none or more than one).
func scan(b []byte) (content bool, kind string) {
	kinds := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if bytes.HasPrefix(line, []byte("kind:")) {
			kinds++
			kind = kindValue(line[len("kind:"):])
		}
		if !content {
			t := bytes.TrimSpace(line)
			switch {
			case len(t) == 0 || t[0] == '#':
			case string(t) == "~", string(t) == "null", string(t) == "Null", string(t) == "NULL":
			default:
				content = true
			}
		}
	}
	if kinds != 1 {
		kind = ""
	}
	return content, kind
}

// kindValue extracts a plain kind name from the rest of a "kind:" line, "" when
// the value is anything but a simple name (quoted names are accepted).
func kindValue(rest []byte) string {
	if i := bytes.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	v := bytes.Trim(bytes.TrimSpace(rest), `"'`)
	for _, ch := range v {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			return ""
		}
	}
	return string(v)
}

// Release drops the file's text and documents once nothing reads them again,
// so that a run over many files holds only those still being checked. The file
// cannot be parsed or written back after.
func (f *File) Release() {
	f.chunks, f.Docs, f.Errors = nil, nil, nil
}

// NumChunks is the number of document chunks ParseRange accepts indexes for.
func (f *File) NumChunks() int { return len(f.chunks) }

// KindHint returns the kind a chunk's text declares, "" when it cannot tell
// without parsing.
func (f *File) KindHint(i int) string { return f.chunks[i].kind }

// ParseRange parses chunks lo..hi-1 whose kind hint want accepts (nil accepts
// all) and returns their documents and errors, including those parsed by earlier
// calls that kept them. Disjoint ranges may be parsed concurrently. With keep
// false, the file forgets the chunks once returned, so their memory is freed after
// use (a later call parses them again), and documents are read by the fast reader
// where it applies, without the node trees ApplyPatch needs; keep them to patch
// and write the file back.
func (f *File) ParseRange(lo, hi int, want func(kind string) bool, keep bool) ([]*Document, []*Error) {
	var docs []*Document
	var errs []*Error
	for _, c := range f.chunks[lo:hi] {
		if !c.parsed {
			if want != nil && !want(c.kind) {
				continue
			}
			f.parseChunk(c, keep)
		}
		docs = append(docs, c.docs...)
		errs = append(errs, c.errs...)
		if !keep {
			c.docs, c.errs, c.roots, c.parsed = nil, nil, nil, false
		}
	}
	return docs, errs
}

// parseChunk reads the documents of a chunk. Without nodes (a chunk that will
// not be patched) the fast reader tries first.
func (f *File) parseChunk(c *chunk, nodes bool) {
	c.parsed = true
	if !nodes {
		if obj, lines, ok := readFast(c.body); ok {
			if obj != nil {
				f.addObject(c, obj, pos{lines: lines}, c.index)
			}
			return
		}
	}
	index := c.index
	dec := yaml.NewDecoder(bytes.NewReader(c.body))
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if hasContent(c.body) {
				msg := strings.TrimPrefix(err.Error(), "yaml: ")
				// The position is in Line: keep the message to what is wrong.
				msg = relocate(leadingLine.ReplaceAllString(msg, ""), c.offset)
				c.errs = append(c.errs, &Error{File: f.Path, Doc: index, Line: c.offset + 1 + errorLine(err), Message: msg})
			}
			return
		}
		if len(root.Content) == 0 || isNullDoc(&root) {
			continue
		}
		c.roots = append(c.roots, &root)
		f.addDocument(c, &root, index)
		index++
	}
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
		if isSeparator(text) {
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
	content, _ := scan(b)
	return content
}

func isNullDoc(root *yaml.Node) bool {
	n := root.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

var (
	yamlLine    = regexp.MustCompile(`line (\d+)`)
	leadingLine = regexp.MustCompile(`^line \d+: `)
)

func errorLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscanf(m[1], "%d", &n)
	return n - 1
}

// relocate turns chunk-relative "line N" positions into file lines.
func relocate(msg string, offset int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(s string) string {
		var n int
		fmt.Sscanf(s, "line %d", &n)
		return fmt.Sprintf("line %d", n+offset)
	})
}

// isSeparator matches a document marker line: "---" or "..." alone or followed by
// white space (and a comment or content).
func isSeparator(line []byte) bool {
	if len(line) < 3 || !(bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))) {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t'
}
