package webhook

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeObject is decodeJSON for the common case, a raw value that is a JSON
// object and nothing else, in one pass without reflection: encoding/json's
// Decoder spends about three times as long on it, every review, once per
// object. ok is false for anything else, which decodeJSON then decodes.
func decodeObject(raw []byte) (v any, ok bool) {
	s := scanner{data: raw}
	s.space()
	if s.off >= len(raw) || raw[s.off] != '{' {
		return nil, false
	}
	v, ok = s.anyValue(0)
	s.space()
	return v, ok && s.off == len(raw)
}

// anyValue decodes a value as encoding/json decodes it into an interface with
// UseNumber.
func (s *scanner) anyValue(depth int) (any, bool) {
	if s.off >= len(s.data) || depth >= maxDepth {
		return nil, false
	}
	switch c := s.data[s.off]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		start := s.off
		if !s.str() {
			return nil, false
		}
		return unquote(s.data[start+1 : s.off-1])
	case c == '-' || c >= '0' && c <= '9':
		start := s.off
		if !s.number() {
			return nil, false
		}
		return json.Number(s.data[start:s.off]), true
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	case s.literal("null"):
		return nil, true
	}
	return nil, false
}

// object decodes an object into a map[string]any; the last of duplicate keys
// wins, as in encoding/json.
func (s *scanner) object(depth int) (any, bool) {
	m := map[string]any{}
	s.off++
	s.space()
	if s.consume('}') {
		return m, true
	}
	for {
		start := s.off
		if !s.str() {
			return nil, false
		}
		k, ok := unquote(s.data[start+1 : s.off-1])
		s.space()
		if !ok || !s.consume(':') {
			return nil, false
		}
		s.space()
		v, ok := s.anyValue(depth + 1)
		if !ok {
			return nil, false
		}
		m[k] = v
		s.space()
		if s.consume('}') {
			return m, true
		}
		if !s.consume(',') {
			return nil, false
		}
		s.space()
	}
}

// array decodes an array into a []any, empty rather than nil as
// encoding/json makes it.
func (s *scanner) array(depth int) (any, bool) {
	out := make([]any, 0)
	s.off++
	s.space()
	if s.consume(']') {
		return out, true
	}
	for {
		v, ok := s.anyValue(depth + 1)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		s.space()
		if s.consume(']') {
			return out, true
		}
		if !s.consume(',') {
			return nil, false
		}
		s.space()
	}
}

// unquote is the value of a string's contents: its bytes when they hold no
// escape and are UTF-8, else what encoding/json makes of them (replacement
// characters and all).
func unquote(b []byte) (string, bool) {
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b), true
	}
	q := make([]byte, 0, len(b)+2)
	q = append(append(append(q, '"'), b...), '"')
	var v string
	if err := json.Unmarshal(q, &v); err != nil {
		return "", false
	}
	return v, true
}
