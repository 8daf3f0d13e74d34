package webhook

// maxDepth bounds the nesting the scanner follows; deeper bodies go to the
// generic decoder, which allows 10,000 levels.
const maxDepth = 1000

// scanner validates JSON as encoding/json does (RFC 8259; bytes that are not
// UTF-8 are allowed in strings) in one pass without allocating. Every method
// reports false on input it does not accept, leaving off anywhere.
type scanner struct {
	data []byte
	off  int
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.off < len(s.data) {
		switch s.data[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

// consume skips c if it comes next.
func (s *scanner) consume(c byte) bool {
	if s.off < len(s.data) && s.data[s.off] == c {
		s.off++
		return true
	}
	return false
}

// value skips one value at nesting depth depth.
func (s *scanner) value(depth int) bool {
	if s.off >= len(s.data) {
		return false
	}
	switch c := s.data[s.off]; {
	case c == '{':
		return s.container(depth, '}', true)
	case c == '[':
		return s.container(depth, ']', false)
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// container skips an object (members) or an array.
func (s *scanner) container(depth int, end byte, members bool) bool {
	if depth >= maxDepth {
		return false
	}
	s.off++
	s.space()
	if s.consume(end) {
		return true
	}
	for {
		if members {
			if s.off >= len(s.data) || s.data[s.off] != '"' || !s.str() {
				return false
			}
			s.space()
			if !s.consume(':') {
				return false
			}
			s.space()
		}
		if !s.value(depth + 1) {
			return false
		}
		s.space()
		if s.consume(end) {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.space()
	}
}

// str skips a string.
func (s *scanner) str() bool {
	if !s.consume('"') {
		return false
	}
	for s.off < len(s.data) {
		c := s.data[s.off]
		s.off++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if !s.escape() {
				return false
			}
		}
	}
	return false
}

// escape skips what follows a backslash.
func (s *scanner) escape() bool {
	if s.off >= len(s.data) {
		return false
	}
	c := s.data[s.off]
	s.off++
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if len(s.data)-s.off < 4 {
			return false
		}
		for _, h := range s.data[s.off : s.off+4] {
			if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
				return false
			}
		}
		s.off += 4
		return true
	}
	return false
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	s.consume('-')
	if s.consume('0') {
		// no more integer digits
	} else if !s.digits() {
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more decimal digits.
func (s *scanner) digits() bool {
	start := s.off
	for s.off < len(s.data) && s.data[s.off] >= '0' && s.data[s.off] <= '9' {
		s.off++
	}
	return s.off > start
}

// literal skips lit.
func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.off < len(lit) || string(s.data[s.off:s.off+len(lit)]) != lit {
		return false
	}
	s.off += len(lit)
	return true
}
