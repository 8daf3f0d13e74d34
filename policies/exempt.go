package policies

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The exemption annotations, on an object or on its Namespace.
const (
	AnnotationExempt       = "kgate.dev/exempt"
	AnnotationExemptReason = "kgate.dev/exempt-reason"
	AnnotationExemptUntil  = "kgate.dev/exempt-until"
)

// Exemption records why a finding was waived, so reports keep it visible.
type Exemption struct {
	// Source is "object" or "namespace" (the annotations of the object's Namespace).
	Source string `json:"source"`
	Reason string `json:"reason"`
	// Until is the last day the exemption applies (YYYY-MM-DD), empty when open-ended.
	Until string `json:"until,omitempty"`
	// Action is what the finding would have been without the exemption.
	Action Action `json:"action"`
}

// exemption finds the exemption of rule id for an object with the given
// annotations in namespace ns. It returns the exemption that applies, or a note
// explaining why an exemption annotation naming the rule was not honoured.
func (s *Settings) exemption(id string, objAnn map[string]string, ns *Namespace, today time.Time) (*Exemption, string) {
	if s != nil && s.Exemptions.Disabled {
		if names(objAnn, id) || (ns != nil && names(ns.Annotations, id)) {
			return nil, "exemption annotations are disabled by the configuration"
		}
		return nil, ""
	}
	var notes []string
	try := func(source string, ann map[string]string) *Exemption {
		if !names(ann, id) {
			return nil
		}
		if s != nil && len(s.Exemptions.Rules) > 0 && !slices.Contains(s.Exemptions.Rules, id) {
			notes = append(notes, fmt.Sprintf("the configuration does not allow exempting %s", id))
			return nil
		}
		reason := strings.TrimSpace(ann[AnnotationExemptReason])
		if reason == "" {
			notes = append(notes, fmt.Sprintf("%s %s names %s but has no %s", source, AnnotationExempt, id, AnnotationExemptReason))
			return nil
		}
		until := strings.TrimSpace(ann[AnnotationExemptUntil])
		if until != "" {
			day, err := time.Parse("2006-01-02", until)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s %s %q is not a date (YYYY-MM-DD)", source, AnnotationExemptUntil, until))
				return nil
			}
			// The named day is the last day the exemption applies.
			if !today.Before(day.AddDate(0, 0, 1)) {
				notes = append(notes, fmt.Sprintf("%s exemption expired on %s", source, until))
				return nil
			}
		}
		return &Exemption{Source: source, Reason: reason, Until: until}
	}
	if x := try("object", objAnn); x != nil {
		return x, ""
	}
	if ns != nil {
		if x := try("namespace", ns.Annotations); x != nil {
			return x, ""
		}
	}
	return nil, strings.Join(notes, "; ")
}

// names reports whether the exempt annotation lists id.
func names(ann map[string]string, id string) bool {
	v, ok := ann[AnnotationExempt]
	if !ok {
		return false
	}
	for _, part := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(part), id) {
			return true
		}
	}
	return false
}

// annotationsOf reads metadata.annotations of a JSON-shaped object.
func annotationsOf(obj any) map[string]string {
	m, _ := obj.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	if out := stringMap(meta["annotations"]); len(out) > 0 {
		return out
	}
	return nil
}
