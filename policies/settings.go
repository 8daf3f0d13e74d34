package policies

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
)

// ActionOff disables a rule in Settings; it never appears in a finding.
const ActionOff Action = "off"

// ActionExempted marks a finding that an exemption annotation waived. It never
// blocks, warns or patches, but stays in every report so the waiver leaves a trail.
const ActionExempted Action = "exempted"

// Settings is how a platform team tunes the rule set: per-rule actions with
// namespace-scoped overrides, exemption policy and a dry-run switch. The
// configuration file (package config) is parsed into Settings; the engine applies
// them to every decision, so the CLI, the audit and the webhook agree.
type Settings struct {
	// DryRun turns every deny into a warning.
	DryRun bool
	// Rules holds the settings of individual rules by ID.
	Rules map[string]RuleSettings
	// Exemptions says which exemption annotations are honoured.
	Exemptions ExemptionPolicy
}

// RuleSettings overrides the action of one rule, globally and per namespace.
type RuleSettings struct {
	// Action replaces the rule's enforcement level; "" keeps the default.
	Action Action
	// Overrides apply in order; the first whose scope matches the object's
	// namespace wins over Action.
	Overrides []Override
}

// Override is a namespace-scoped action.
type Override struct {
	// Namespaces lists namespace names; Selector matches namespace labels. An
	// override matches when either matches (both empty matches nothing).
	Namespaces []string
	Selector   labels.Selector
	Action     Action
}

// ExemptionPolicy restricts the kgate.dev/exempt annotations.
type ExemptionPolicy struct {
	// Disabled ignores exemption annotations on objects and namespaces.
	Disabled bool
	// Rules, when not empty, lists the only rule IDs that may be exempted.
	Rules []string
}

// Namespace is what the engine needs to know about the namespace of an object:
// its labels for scoped overrides and its annotations for namespace-wide
// exemptions. Front ends fill it from the run (CLI) or the informer cache (webhook).
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// NamespaceOfObject describes a Namespace object (JSON-shaped) under the given
// name: its labels and annotations.
func NamespaceOfObject(name string, obj any) *Namespace {
	m, _ := obj.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	return &Namespace{Name: name, Labels: stringMap(meta["labels"]), Annotations: stringMap(meta["annotations"])}
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

// actionFor resolves the configured action of rule r for an object in ns; ""
// means the rule's own actions stand.
func (s *Settings) actionFor(r *Rule, ns *Namespace) Action {
	if s == nil {
		return ""
	}
	rs, ok := s.Rules[r.ID]
	if !ok {
		return ""
	}
	if ns != nil {
		for _, o := range rs.Overrides {
			if o.matches(ns) {
				return o.Action
			}
		}
	}
	return rs.Action
}

func (o Override) matches(ns *Namespace) bool {
	if slices.Contains(o.Namespaces, ns.Name) {
		return true
	}
	// As in Kubernetes, an empty selector ({}) matches every namespace.
	return o.Selector != nil && o.Selector.Matches(labels.Set(ns.Labels))
}

// enforce maps a finding's action through the configured action of its rule
// (off is handled by the caller; the rule's default action changes nothing):
//   - audit reports everything as audit,
//   - warn turns deny and mutate into warn (no patch),
//   - deny turns mutate, and warn where warn is the rule's default, into deny,
//   - mutate keeps the rule's own actions.
//
// A rule's deliberate downgrades stay: audit findings (existing objects, immutable
// fields) remain audit, and a warning a deny rule gives on purpose (an UPDATE it
// must not block, a Pod created by a controller) is not escalated.
func enforce(finding, def, configured Action) Action {
	// Configuring the default action keeps the rule's own actions, so the printed
	// default configuration changes nothing.
	if finding == ActionAudit || configured == def {
		return finding
	}
	switch configured {
	case ActionAudit, ActionWarn:
		return configured
	case ActionDeny:
		if finding == ActionMutate || finding == def {
			return ActionDeny
		}
	}
	return finding
}

// ValidateAction checks that action a can be configured for rule r.
func (r *Rule) ValidateAction(a Action) error {
	switch a {
	case ActionOff, ActionAudit, ActionWarn, ActionDeny:
	case ActionMutate:
		if !r.Mutates() {
			return fmt.Errorf("rule %s has no patch, so action mutate is not available (use deny, warn, audit or off)", r.ID)
		}
	default:
		return fmt.Errorf("action %q must be deny, warn, mutate, audit or off", a)
	}
	if r.AuditOnly && a != ActionAudit && a != ActionOff {
		return fmt.Errorf("rule %s is audit-only: it can be set to audit or off, not %s", r.ID, a)
	}
	return nil
}

// offEverywhere reports whether the settings switch rule id off in every
// namespace, so the engine can leave it out of the prepared queries.
func (s *Settings) offEverywhere(id string) bool {
	if s == nil {
		return false
	}
	rs, ok := s.Rules[id]
	if !ok || rs.Action != ActionOff {
		return false
	}
	for _, o := range rs.Overrides {
		if o.Action != ActionOff {
			return false
		}
	}
	return true
}

// validateSettings rejects settings that name unknown rules or actions a rule
// cannot take.
func validateSettings(s *Settings, rules []*Rule) error {
	if s == nil {
		return nil
	}
	byID := map[string]*Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for _, id := range sortedKeys(s.Rules) {
		r, ok := byID[id]
		if !ok {
			return fmt.Errorf("settings name unknown rule %s", id)
		}
		rs := s.Rules[id]
		if rs.Action != "" {
			if err := r.ValidateAction(rs.Action); err != nil {
				return err
			}
		}
		for _, o := range rs.Overrides {
			if err := r.ValidateAction(o.Action); err != nil {
				return err
			}
		}
	}
	for _, id := range s.Exemptions.Rules {
		if _, ok := byID[id]; !ok {
			return fmt.Errorf("exemptions name unknown rule %s", id)
		}
	}
	return nil
}
