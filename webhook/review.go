package webhook

import (
	"bytes"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"
)

// decodeReview decodes an AdmissionReview body into what controller-runtime's
// decoder would make of it: the request, and the GroupVersionKind the answer
// must carry. That decoder parses the whole body three times (for apiVersion and
// kind, to validate it, then to decode it) and copies the object and old
// object, which Input then parses once more: about 9 % of the server's CPU.
// Here one pass validates the body and finds the objects, the small rest of the
// request is decoded as the generic decoder would, and the objects are left for
// Input.
//
// ok is false whenever the body is anything but the plain AdmissionReview an API
// server sends (malformed, escaped or duplicate keys, fields it never sends):
// the caller then uses controller-runtime's decoder, so that odd input gets
// exactly the answer it got before.
func decodeReview(body []byte) (req admission.Request, gvk schema.GroupVersionKind, ok bool) {
	s := scanner{data: body}
	s.space()
	if !s.consume('{') {
		return req, gvk, false
	}
	var apiVersion, kind string
	var seenAPIVersion, seenKind bool
	r := requestSpan{span{-1, -1}, span{-1, -1}, span{-1, -1}}
	for first := true; ; first = false {
		s.space()
		if first && s.consume('}') {
			break
		}
		key, ok := s.key()
		if !ok {
			return req, gvk, false
		}
		s.space()
		switch string(key) {
		case "apiVersion":
			apiVersion, ok = s.plainString()
			ok = ok && !seenAPIVersion
			seenAPIVersion = true
		case "kind":
			kind, ok = s.plainString()
			ok = ok && !seenKind
			seenKind = true
		case "request":
			ok = r.start < 0 && s.request(&r)
		default:
			// "response", or keys the decoder matches case-insensitively
			// when it looks for apiVersion and kind.
			ok = false
		}
		if !ok {
			return req, gvk, false
		}
		s.space()
		if s.consume('}') {
			break
		}
		if !s.consume(',') {
			return req, gvk, false
		}
	}
	s.space()
	if s.off != len(s.data) || r.start < 0 {
		return req, gvk, false
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return req, gvk, false
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(r.withoutObjects(body), &req.AdmissionRequest); err != nil {
		return req, gvk, false
	}
	// As runtime.RawExtension decodes them: null leaves Raw nil.
	req.Object.Raw = r.object.raw(body)
	req.OldObject.Raw = r.oldObject.raw(body)
	return req, gv.WithKind(kind), true
}

// span is where a value lies in the body; start is -1 while it was not seen.
type span struct{ start, end int }

func (v span) raw(body []byte) []byte {
	if v.start < 0 || string(body[v.start:v.end]) == "null" {
		return nil
	}
	// The body is not reused: the object can point into it, capped so that an
	// append never writes over what follows.
	return body[v.start:v.end:v.end]
}

// requestSpan is where the request and its objects lie in the body.
type requestSpan struct {
	span
	object, oldObject span
}

// withoutObjects is the request with null for its objects, which decodes to the
// same fields as the request, objects left out.
func (r *requestSpan) withoutObjects(body []byte) []byte {
	objs := []span{r.object, r.oldObject}
	if objs[0].start > objs[1].start {
		objs[0], objs[1] = objs[1], objs[0]
	}
	if objs[1].start < 0 {
		return body[r.start:r.end]
	}
	out := make([]byte, 0, r.end-r.start)
	at := r.start
	for _, o := range objs {
		if o.start >= 0 {
			out = append(append(out, body[at:o.start]...), "null"...)
			at = o.end
		}
	}
	return append(out, body[at:r.end]...)
}

// request reads the request object, noting where it and its objects lie.
func (s *scanner) request(r *requestSpan) bool {
	r.start = s.off
	if !s.consume('{') {
		return false
	}
	for first := true; ; first = false {
		s.space()
		if first && s.consume('}') {
			break
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		s.space()
		var into *span
		switch string(key) {
		case "object":
			into = &r.object
		case "oldObject":
			into = &r.oldObject
		}
		if into != nil && into.start >= 0 {
			return false // the decoder would merge duplicates
		}
		start := s.off
		if !s.value(0) {
			return false
		}
		if into != nil {
			*into = span{start, s.off}
		}
		s.space()
		if s.consume('}') {
			break
		}
		if !s.consume(',') {
			return false
		}
	}
	r.end = s.off
	return true
}

// key reads an object key and the colon after it. Keys with escapes are
// refused: the decoder matches them after unescaping.
func (s *scanner) key() ([]byte, bool) {
	start := s.off + 1
	if !s.str() || bytes.IndexByte(s.data[start:s.off-1], '\\') >= 0 {
		return nil, false
	}
	key := s.data[start : s.off-1]
	s.space()
	return key, s.consume(':')
}

// plainString reads a string of printable ASCII without escapes, whose value is
// its bytes.
func (s *scanner) plainString() (string, bool) {
	start := s.off + 1
	if !s.str() {
		return "", false
	}
	v := s.data[start : s.off-1]
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return "", false
		}
	}
	return string(v), true
}
