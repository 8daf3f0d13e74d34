// Package manifest reads Kubernetes manifests (multi-document YAML, JSON, kind:
// List) into objects the engine evaluates, keeps the YAML node tree of each
// document to map JSON pointers to line numbers, and writes fixed manifests back
// with comments and key order preserved.
package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// toValue converts a YAML node into a JSON-shaped value: maps with string keys,
// lists, strings, int64, float64, bools and nil, the same values the API server
// would see after kubectl converts the manifest to JSON.
func toValue(n *yaml.Node, depth int) (any, error) {
	if depth > 200 {
		return nil, fmt.Errorf("line %d: document nested too deeply", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return toValue(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return mappingValue(n, depth)
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func mappingValue(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := mergeInto(out, v, depth); err != nil {
				return nil, err
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d column %d: mapping keys must be scalars", k.Line, k.Column)
		}
		if _, dup := out[k.Value]; dup {
			return nil, fmt.Errorf("line %d column %d: key %q is already defined in this mapping", k.Line, k.Column, k.Value)
		}
		val, err := toValue(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

// mergeInto applies a YAML merge key (<<: *anchor): explicit keys win.
func mergeInto(out map[string]any, v *yaml.Node, depth int) error {
	srcs := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	}
	for _, s := range srcs {
		val, err := toValue(s, depth+1)
		if err != nil {
			return err
		}
		m, ok := val.(map[string]any)
		if !ok {
			return fmt.Errorf("line %d: merge key needs a mapping", s.Line)
		}
		for k, x := range m {
			if _, set := out[k]; !set {
				out[k] = x
			}
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	return scalarOf(n.ShortTag(), n.Value), nil
}

// scalarOf converts a scalar of the given resolved tag; both readers use it, so
// a value does not depend on which one read it.
func scalarOf(tag, value string) any {
	switch tag {
	case "!!null":
		return nil
	case "!!bool":
		return strings.EqualFold(value, "true")
	case "!!int":
		s := strings.ReplaceAll(value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i
		}
		if strings.HasPrefix(s, "0o") {
			if i, err := strconv.ParseInt(s[2:], 8, 64); err == nil {
				return i
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return value
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			// JSON has no infinities: keep what was written, as the API server would reject it.
			return value
		}
		return f
	default:
		return value
	}
}
