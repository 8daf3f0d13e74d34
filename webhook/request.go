package webhook

import (
	"bytes"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// request reads the request object into req, noting where it and its raw
// values lie. A field in a form the decoder would treat in any way but the
// plain one (escapes, duplicates, values of another type) clears r.typed and is
// only validated.
func (s *scanner) request(r *requestSpan, req *admissionv1.AdmissionRequest) bool {
	r.start = s.off
	var seen uint
	ok := s.members(func(key []byte) bool {
		var raw *span
		switch string(key) {
		case "object":
			raw = &r.object
		case "oldObject":
			raw = &r.oldObject
		case "options":
			raw = &r.options
		}
		if raw != nil {
			if raw.start >= 0 {
				return false // the decoder would merge duplicates
			}
			start := s.off
			if !s.value(1) {
				return false
			}
			*raw = span{start, s.off}
			return true
		}
		start := s.off
		if !s.requestField(key, req, &seen) {
			s.off = start
			r.typed = false
			return s.value(1)
		}
		return true
	})
	r.end = s.off
	return ok
}

// requestField decodes the value of key into req if it is plain.
func (s *scanner) requestField(key []byte, req *admissionv1.AdmissionRequest, seen *uint) bool {
	switch string(key) {
	case "uid":
		var uid string
		ok := once(seen, 1<<0) && s.plainString(&uid)
		req.UID = types.UID(uid)
		return ok
	case "kind":
		return once(seen, 1<<1) && s.gvk(&req.Kind)
	case "resource":
		return once(seen, 1<<2) && s.gvr(&req.Resource)
	case "subResource":
		return once(seen, 1<<3) && s.plainString(&req.SubResource)
	case "requestKind":
		if !once(seen, 1<<4) {
			return false
		}
		if s.literal("null") {
			return true
		}
		req.RequestKind = &metav1.GroupVersionKind{}
		return s.gvk(req.RequestKind)
	case "requestResource":
		if !once(seen, 1<<5) {
			return false
		}
		if s.literal("null") {
			return true
		}
		req.RequestResource = &metav1.GroupVersionResource{}
		return s.gvr(req.RequestResource)
	case "requestSubResource":
		return once(seen, 1<<6) && s.plainString(&req.RequestSubResource)
	case "name":
		return once(seen, 1<<7) && s.plainString(&req.Name)
	case "namespace":
		return once(seen, 1<<8) && s.plainString(&req.Namespace)
	case "operation":
		var op string
		ok := once(seen, 1<<9) && s.plainString(&op)
		req.Operation = admissionv1.Operation(op)
		return ok
	case "userInfo":
		return once(seen, 1<<10) && s.userInfo(&req.UserInfo)
	case "dryRun":
		if !once(seen, 1<<11) {
			return false
		}
		var dryRun bool
		switch {
		case s.literal("true"):
			dryRun = true
		case s.literal("false"):
		default:
			return s.literal("null")
		}
		req.DryRun = &dryRun
		return true
	}
	// Fields the request does not have are ignored by the decoder too.
	return s.value(1)
}

// gvk decodes a plain GroupVersionKind; null leaves it as it is.
func (s *scanner) gvk(dst *metav1.GroupVersionKind) bool {
	return s.stringFields([3]string{"group", "version", "kind"}, [3]*string{&dst.Group, &dst.Version, &dst.Kind})
}

// gvr decodes a plain GroupVersionResource; null leaves it as it is.
func (s *scanner) gvr(dst *metav1.GroupVersionResource) bool {
	return s.stringFields([3]string{"group", "version", "resource"}, [3]*string{&dst.Group, &dst.Version, &dst.Resource})
}

// stringFields decodes an object whose members named keys are plain strings
// into dsts, each at most once; other members are skipped and null leaves dsts
// as they are.
func (s *scanner) stringFields(keys [3]string, dsts [3]*string) bool {
	if s.literal("null") {
		return true
	}
	var seen uint
	return s.members(func(key []byte) bool {
		for i, k := range keys {
			if string(key) == k {
				return once(&seen, 1<<i) && s.plainString(dsts[i])
			}
		}
		return s.value(2)
	})
}

// userInfo decodes plain user information; null leaves it as it is.
func (s *scanner) userInfo(dst *authenticationv1.UserInfo) bool {
	if s.literal("null") {
		return true
	}
	var seen uint
	return s.members(func(key []byte) bool {
		switch string(key) {
		case "username":
			return once(&seen, 1) && s.plainString(&dst.Username)
		case "uid":
			return once(&seen, 2) && s.plainString(&dst.UID)
		case "groups":
			return once(&seen, 4) && s.strings(&dst.Groups)
		case "extra":
			if !once(&seen, 8) {
				return false
			}
			if s.literal("null") {
				return true
			}
			dst.Extra = map[string]authenticationv1.ExtraValue{}
			return s.members(func(key []byte) bool {
				var v []string
				ok := s.strings(&v)
				dst.Extra[string(key)] = v
				return ok
			})
		}
		return s.value(2)
	})
}

// strings decodes an array of plain strings (null elements are empty, as
// the decoder leaves them); null leaves dst as it is, [] makes it empty.
func (s *scanner) strings(dst *[]string) bool {
	if s.literal("null") {
		return true
	}
	if !s.consume('[') {
		return false
	}
	out := []string{}
	s.space()
	if s.consume(']') {
		*dst = out
		return true
	}
	for {
		var v string
		if !s.plainString(&v) {
			return false
		}
		out = append(out, v)
		s.space()
		if s.consume(']') {
			*dst = out
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.space()
	}
}

// members reads an object, calling member with s at the value of each key;
// member reads the value. Keys with escapes or invalid UTF-8 are refused: the
// decoder matches them after unescaping, and replaces invalid bytes with U+FFFD
// (a key the review keeps, such as one of userInfo.extra, would differ).
func (s *scanner) members(member func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	s.space()
	if s.consume('}') {
		return true
	}
	for {
		start := s.off + 1
		if !s.str() {
			return false
		}
		key := s.data[start : s.off-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return false
		}
		s.space()
		if !s.consume(':') {
			return false
		}
		s.space()
		if !member(key) {
			return false
		}
		s.space()
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.space()
	}
}

// plainString decodes a string whose value is its bytes (no escapes, UTF-8);
// null leaves dst as it is.
func (s *scanner) plainString(dst *string) bool {
	if s.literal("null") {
		return true
	}
	start := s.off + 1
	if !s.str() {
		return false
	}
	v := s.data[start : s.off-1]
	if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return false
	}
	*dst = string(v)
	return true
}
