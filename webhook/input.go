// Package webhook turns AdmissionReviews into engine inputs and engine decisions
// into admission responses: a mutating handler that applies the merged patch of
// mutate findings and a validating handler that denies deny findings and returns
// warn findings as warnings. It knows nothing of flags or certificates.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/policies"
)

// MutatedAnnotation records which rules changed an object.
const MutatedAnnotation = "kgate.dev/mutated"

// Input converts an admission request into the engine's input document.
func Input(req *admissionv1.AdmissionRequest) (*policies.Input, error) {
	obj, err := decode(req.Object.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	old, err := decode(req.OldObject.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode oldObject: %w", err)
	}
	var user any
	user, ok := userInfoValue(req.UserInfo)
	if !ok {
		if user, err = toJSONValue(req.UserInfo); err != nil {
			return nil, fmt.Errorf("userInfo: %w", err)
		}
	}
	dryRun := req.DryRun != nil && *req.DryRun
	return &policies.Input{
		Operation: string(req.Operation),
		Kind:      policies.GVK{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind},
		Namespace: policies.NamespaceOf(req.Kind.Kind, req.Namespace),
		Name:      req.Name,
		Object:    obj,
		OldObject: old,
		UserInfo:  user,
		DryRun:    dryRun,
	}, nil
}

// decode reads a raw object as JSON values; numbers stay json.Number so that
// large integers survive a round trip unchanged.
func decode(raw []byte) (any, error) {
	if v, ok := decodeObject(raw); ok {
		return v, nil
	}
	return decodeJSON(raw)
}

// decodeJSON is decode with encoding/json, for any input.
func decodeJSON(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the object")
	}
	if _, ok := v.(map[string]any); !ok && v != nil {
		return nil, fmt.Errorf("an object must be a JSON object, got %T", v)
	}
	return v, nil
}

// userInfoValue is toJSONValue(u) without the JSON: it marshalled and
// decoded the user of every review. ok is false when a string is not UTF-8,
// which marshalling would change.
func userInfoValue(u authenticationv1.UserInfo) (v map[string]any, ok bool) {
	if !utf8.ValidString(u.Username) || !utf8.ValidString(u.UID) {
		return nil, false
	}
	v = map[string]any{}
	if u.Username != "" {
		v["username"] = u.Username
	}
	if u.UID != "" {
		v["uid"] = u.UID
	}
	if len(u.Groups) > 0 {
		if v["groups"], ok = stringValues(u.Groups); !ok {
			return nil, false
		}
	}
	if len(u.Extra) > 0 {
		extra := make(map[string]any, len(u.Extra))
		for key, values := range u.Extra {
			if extra[key], ok = stringValues(values); !ok || !utf8.ValidString(key) {
				return nil, false
			}
		}
		v["extra"] = extra
	}
	return v, true
}

// stringValues is a []string as decoded JSON: nil (null) stays nil.
func stringValues(ss []string) (any, bool) {
	if ss == nil {
		return nil, true
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		if !utf8.ValidString(s) {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decode(b)
}

// evaluate decodes the request and runs the engine; a non-nil response is the
// error answer to return as is.
func (s *Sources) evaluate(ctx context.Context, e *policies.Engine, req *admission.Request) (*policies.Decision, *policies.Input, *admission.Response) {
	in, err := Input(&req.AdmissionRequest)
	if err != nil {
		resp := admission.Errored(http.StatusBadRequest, err)
		return nil, nil, &resp
	}
	in.NamespaceInfo = namespaceInfo(ctx, in, s.Namespaces)
	if s.State != nil {
		s.State.Fresh(ctx)
	}
	start := time.Now()
	d, err := e.Evaluate(ctx, in)
	s.Metrics.observeEvaluation(time.Since(start))
	if err != nil {
		resp := admission.Errored(http.StatusInternalServerError, err)
		return nil, nil, &resp
	}
	return d, in, nil
}

// namespaceInfo finds what scoped settings and exemptions need to know of the
// object's namespace. A Namespace is scoped by its own labels and annotations.
func namespaceInfo(ctx context.Context, in *policies.Input, lookup NamespaceLookup) *policies.Namespace {
	if in.Kind.Kind == "Namespace" {
		obj := in.Object
		if obj == nil {
			obj = in.OldObject
		}
		return policies.NamespaceOfObject(in.Name, obj)
	}
	if in.Namespace == "" {
		return nil
	}
	if lookup != nil {
		if info := lookup(ctx, in.Namespace); info != nil {
			return info
		}
	}
	// Unknown namespace: overrides by name still apply.
	return &policies.Namespace{Name: in.Namespace}
}
