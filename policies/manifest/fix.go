package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kgate-dev/kgate/policies"
)

// ApplyPatch applies the engine's merged patch to the document's YAML nodes, so
// that comments, key order and quoting of everything else stay as written. The
// patch must come from Decision.Patch: parents exist or are created by earlier
// operations.
func (d *Document) ApplyPatch(ops []policies.PatchOp) error {
	if d.at.node == nil && len(ops) > 0 {
		return fmt.Errorf("%s: document %d was read without its YAML nodes (parse with keep to patch it)", d.File, d.Index)
	}
	for _, op := range ops {
		if err := applyNode(d.at.node, splitPointer(op.Path), op); err != nil {
			return fmt.Errorf("%s %s: %w", op.Op, op.Path, err)
		}
	}
	if len(ops) > 0 {
		d.chunk.changed = true
	}
	return nil
}

func splitPointer(p string) []string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs
}

func applyNode(n *yaml.Node, segs []string, op policies.PatchOp) error {
	n = resolve(n)
	if len(segs) > 1 {
		_, next := member(n, segs[0])
		if next == nil {
			return fmt.Errorf("no member %q", segs[0])
		}
		return applyNode(next, segs[1:], op)
	}
	last := segs[0]
	var value *yaml.Node
	if op.Op != "remove" {
		value = &yaml.Node{}
		if err := value.Encode(op.Value); err != nil {
			return err
		}
		// An empty map added as a parent gets members next: write it in block
		// style like the rest of a typical manifest.
		if value.Kind == yaml.MappingNode && len(value.Content) == 0 {
			value.Style = 0
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value != last {
				continue
			}
			if op.Op == "remove" {
				n.Content = append(n.Content[:i], n.Content[i+2:]...)
				return nil
			}
			replaceValue(n.Content[i+1], value)
			return nil
		}
		if op.Op == "remove" {
			return nil
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: last}
		n.Content = append(n.Content, key, value)
		return nil
	case yaml.SequenceNode:
		idx := len(n.Content)
		if last != "-" {
			i, err := strconv.Atoi(last)
			if err != nil || i < 0 || i > len(n.Content) {
				return fmt.Errorf("index %q out of range", last)
			}
			idx = i
		}
		switch {
		case op.Op == "remove" && idx < len(n.Content):
			n.Content = append(n.Content[:idx], n.Content[idx+1:]...)
		case op.Op == "replace" && idx < len(n.Content):
			replaceValue(n.Content[idx], value)
		case op.Op == "add":
			n.Content = append(n.Content, nil)
			copy(n.Content[idx+1:], n.Content[idx:])
			n.Content[idx] = value
		default:
			return fmt.Errorf("index %q out of range", last)
		}
		return nil
	}
	return fmt.Errorf("cannot patch inside a %s", kindName(n.Kind))
}

// replaceValue swaps a node's value in place, keeping the comments attached to it
// and, for scalars, the quoting style that was written.
func replaceValue(dst, src *yaml.Node) {
	if dst.Kind == yaml.ScalarNode && src.Kind == yaml.ScalarNode {
		style := dst.Style
		if src.Tag != "!!str" {
			style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
		}
		dst.Value, dst.Tag, dst.Style = src.Value, src.Tag, style
		return
	}
	head, line, foot := dst.HeadComment, dst.LineComment, dst.FootComment
	*dst = *src
	dst.HeadComment, dst.LineComment, dst.FootComment = head, line, foot
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

// Changed reports whether ApplyPatch changed any document of the file.
func (f *File) Changed() bool {
	for _, c := range f.chunks {
		if c.changed {
			return true
		}
	}
	return false
}

// Bytes returns the file with the applied patches. Unchanged documents are
// copied byte for byte; changed ones are re-encoded from their node tree. JSON
// files are written back as indented JSON.
func (f *File) Bytes() ([]byte, error) {
	if f.json {
		return f.jsonBytes()
	}
	var buf bytes.Buffer
	for _, c := range f.chunks {
		buf.Write(c.sep)
		if !c.changed {
			buf.Write(c.body)
			continue
		}
		for i, root := range c.roots {
			if i > 0 {
				buf.WriteString("---\n")
			}
			var out bytes.Buffer
			enc := yaml.NewEncoder(&out)
			enc.SetIndent(2)
			// Kubernetes manifests mostly write "- item" level with its key.
			enc.CompactSeqIndent()
			if err := enc.Encode(root); err != nil {
				return nil, fmt.Errorf("encode %s: %w", f.Path, err)
			}
			if err := enc.Close(); err != nil {
				return nil, fmt.Errorf("encode %s: %w", f.Path, err)
			}
			buf.Write(out.Bytes())
		}
	}
	return buf.Bytes(), nil
}

func (f *File) jsonBytes() ([]byte, error) {
	var buf bytes.Buffer
	for _, c := range f.chunks {
		for _, root := range c.roots {
			v, err := toValue(root, 0)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", f.Path, err)
			}
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", f.Path, err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), nil
}
