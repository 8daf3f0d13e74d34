package manifest

import "strings"

// scalarOrFlow reads the value that starts on line num after a key or dash
// indented by n: a literal block scalar, or a value on that line.
func (r *fastReader) scalarOrFlow(t string, n int, num int32) (any, bool) {
	if t[0] == '|' {
		return r.literal(t, n, num)
	}
	return r.inline(t, num)
}

// literal reads a literal block scalar with clipped ("|") or stripped ("|-")
// final line break; the other headers go to go-yaml.
func (r *fastReader) literal(header string, n int, num int32) (any, bool) {
	strip := strings.HasPrefix(header, "|-")
	if strip {
		header = header[1:]
	}
	if !endOfValue(header[1:]) {
		return nil, false
	}
	// The content is the lines after the header (raw[num:]) indented like the
	// first one that is not blank, which must be deeper than n.
	indent, end, blank := 0, int(num), 0
	for i := int(num); i < len(r.raw); i++ {
		l := r.raw[i]
		t := strings.TrimLeft(l, " ")
		if t == "" {
			blank = max(blank, len(l))
			continue
		}
		if indent == 0 {
			indent = len(l) - len(t)
			if indent <= n {
				return nil, false // an empty scalar
			}
		}
		if len(l)-len(t) < indent {
			break
		}
		end = i + 1
	}
	// Blank lines with more spaces than the indentation hold content (go-yaml
	// also weighs them to find the indentation); a last line without a break
	// changes chomping.
	if indent == 0 || blank > indent || end == len(r.raw) && r.unterminated {
		return nil, false
	}
	var b strings.Builder
	for _, l := range r.raw[num:end] {
		if len(l) > indent {
			b.WriteString(l[indent:])
		}
		b.WriteByte('\n')
	}
	s := b.String()
	if strip {
		s = strings.TrimSuffix(s, "\n")
	}
	for r.pos < len(r.lines) && int(r.lines[r.pos].num) <= end {
		r.pos++
	}
	return s, true
}
