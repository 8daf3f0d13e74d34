package manifest

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// keyKind tells what a line of a block collection starts with.
type keyKind uint8

const (
	notKey keyKind = iota // a value
	isKey                 // "key:" followed by its value, if any
	unsure                // anything the fast reader leaves to go-yaml
)

// splitKey splits "key: value # comment" into the key and "value # comment"
// ("" when the value is on the lines below).
func splitKey(t string) (key, rest string, kind keyKind) {
	switch t[0] {
	case '"', '\'':
		v, n, ok := quoted(t)
		if !ok {
			return "", "", unsure
		}
		after := t[n:]
		if after == ":" || strings.HasPrefix(after, ": ") {
			if len(v) > maxKeyLen {
				return "", "", unsure
			}
			return v, valueText(after[1:]), isKey
		}
		if endOfValue(after) {
			return "", "", notKey
		}
		return "", "", unsure
	case '{', '[':
		return "", "", notKey
	}
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ':':
			if i+1 == len(t) || t[i+1] == ' ' {
				if !plainKey(t[:i]) {
					return "", "", unsure
				}
				return t[:i], valueText(t[i+1:]), isKey
			}
		case '#':
			if i > 0 && t[i-1] == ' ' {
				return "", "", notKey
			}
		}
	}
	return "", "", notKey
}

// valueText is what follows a key's colon, without a comment.
func valueText(s string) string {
	s = strings.TrimLeft(s, " ")
	if s != "" && s[0] == '#' {
		return ""
	}
	return s
}

// plainKey accepts the keys of Kubernetes objects, labels and annotations.
func plainKey(k string) bool {
	if k == "" || len(k) > maxKeyLen || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-') {
			return false
		}
	}
	return true
}

// endOfValue accepts what may follow a value on its line: nothing or a comment.
func endOfValue(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ' ' {
		return false
	}
	s = strings.TrimLeft(s, " ")
	return s == "" || s[0] == '#'
}

// inline reads a value written on its key's or dash's line.
func (r *fastReader) inline(t string, num int32) (any, bool) {
	var v any
	var n int
	ok := false
	switch t[0] {
	case '"', '\'':
		var s string
		s, n, ok = quoted(t)
		v = s
	case '{', '[':
		v, n, ok = r.flow(t, 0, num)
	default:
		if !plainStart(t) {
			return nil, false
		}
		n = len(t)
		for i := 1; i < len(t); i++ {
			if t[i] == '#' && t[i-1] == ' ' {
				n = i
				break
			}
			if t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ') {
				return nil, false // a mapping in a value: go-yaml reports it
			}
		}
		return resolvePlain(strings.TrimRight(t[:n], " ")), true
	}
	if !ok || !endOfValue(t[n:]) {
		return nil, false
	}
	return v, true
}

// quoted reads a quoted scalar that ends on its line and holds no escape
// sequence, and returns its value and length.
func quoted(t string) (string, int, bool) {
	if t[0] == '"' {
		for i := 1; i < len(t); i++ {
			switch t[i] {
			case '\\':
				return "", 0, false
			case '"':
				return t[1:i], i + 1, true
			}
		}
		return "", 0, false
	}
	escaped := false
	for i := 1; i < len(t); i++ {
		if t[i] != '\'' {
			continue
		}
		if i+1 < len(t) && t[i+1] == '\'' {
			escaped = true
			i++
			continue
		}
		if escaped {
			return strings.ReplaceAll(t[1:i], "''", "'"), i + 1, true
		}
		return t[1:i], i + 1, true
	}
	return "", 0, false
}

// plainStart accepts the first characters of a plain scalar, leaving those YAML
// gives a meaning (indicators) to go-yaml.
func plainStart(t string) bool {
	switch t[0] {
	case '-':
		return len(t) > 1 && strings.IndexByte(" ,[]{}#:?", t[1]) < 0
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	}
	return true
}

func skipSpaces(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}

// resolvePlain types a plain scalar as go-yaml does. Only scalars starting with
// a sign, a digit, '.', '~', '<' or a letter of true, false, null, yes, no, on
// or off can be anything but a string; go-yaml's resolver decides for those.
func resolvePlain(s string) any {
	switch c := s[0]; {
	case c >= '0' && c <= '9', strings.IndexByte("+-.~<yYnNtTfFoO", c) >= 0:
		n := yaml.Node{Kind: yaml.ScalarNode, Value: s}
		return scalarOf(n.ShortTag(), s)
	}
	return s
}
