package manifest

import "strings"

// flow reads the one-line flow mapping or sequence at t[i] and returns the index
// after it.
func (r *fastReader) flow(t string, i int, num int32) (any, int, bool) {
	if !r.enter() {
		return nil, 0, false
	}
	defer func() { r.depth-- }()
	mapping := t[i] == '{'
	end := byte(']')
	if mapping {
		end = '}'
	}
	pairs, items := len(r.pairs), len(r.items)
	i = skipSpaces(t, i+1)
	if i < len(t) && t[i] == end {
		if mapping {
			return map[string]any{}, i + 1, true
		}
		return []any{}, i + 1, true
	}
	for {
		if i == len(t) {
			return nil, 0, false // a multi-line collection
		}
		at := r.open(num)
		if mapping {
			key, n, ok := flowKey(t, i)
			if !ok || r.defined(pairs, key) {
				return nil, 0, false
			}
			r.tree[at].key = key
			i = skipSpaces(t, n)
		}
		v, n, ok := r.flowItem(t, i, num)
		if !ok {
			return nil, 0, false
		}
		r.close(at, v)
		if mapping {
			r.pairs = append(r.pairs, pair{r.tree[at].key, v})
		} else {
			r.items = append(r.items, v)
		}
		i = skipSpaces(t, n)
		if i < len(t) && t[i] == end {
			break
		}
		if i == len(t) || t[i] != ',' {
			return nil, 0, false
		}
		i = skipSpaces(t, i+1)
		if i < len(t) && t[i] == end {
			return nil, 0, false // a trailing comma
		}
	}
	if mapping {
		return r.collectPairs(pairs), i + 1, true
	}
	out := make([]any, len(r.items)-items)
	copy(out, r.items[items:])
	clear(r.items[items:])
	r.items = r.items[:items]
	return out, i + 1, true
}

// flowKey reads "key: " in a flow mapping and returns the index after it.
func flowKey(t string, i int) (string, int, bool) {
	var key string
	switch t[i] {
	case '"', '\'':
		k, n, ok := quoted(t[i:])
		if !ok || len(k) > maxKeyLen {
			return "", 0, false
		}
		key, i = k, i+n
	default:
		j := i
		for j < len(t) && t[j] != ':' && t[j] != ' ' && t[j] != ',' && t[j] != '}' {
			j++
		}
		if !plainKey(t[i:j]) {
			return "", 0, false
		}
		key, i = t[i:j], j
	}
	if i+1 >= len(t) || t[i] != ':' || t[i+1] != ' ' {
		return "", 0, false
	}
	return key, i + 2, true
}

// flowItem reads a value inside a flow collection.
func (r *fastReader) flowItem(t string, i int, num int32) (any, int, bool) {
	if i == len(t) {
		return nil, 0, false
	}
	switch t[i] {
	case '{', '[':
		return r.flow(t, i, num)
	case '"', '\'':
		s, n, ok := quoted(t[i:])
		return s, i + n, ok
	}
	if !plainStart(t[i:]) {
		return nil, 0, false
	}
	// As go-yaml: flow indicators end the scalar, and so do ": " and " #",
	// which the fast reader leaves to go-yaml.
	j := i
	for ; j < len(t); j++ {
		c := t[j]
		if strings.IndexByte(",[]{}?", c) >= 0 || c == ':' && (j+1 == len(t) || t[j+1] == ' ') || c == '#' && t[j-1] == ' ' {
			break
		}
	}
	if j < len(t) && strings.IndexByte("[{?:#", t[j]) >= 0 {
		return nil, 0, false
	}
	return resolvePlain(strings.TrimRight(t[i:j], " ")), j, true
}
