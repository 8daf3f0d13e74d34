package policies

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Action is what kgate does with a finding.
type Action string

// The actions a rule or a finding can carry, from most to least disruptive.
const (
	// ActionDeny rejects the object at admission and fails `kgate check`.
	ActionDeny Action = "deny"
	// ActionWarn admits the object with a warning.
	ActionWarn Action = "warn"
	// ActionMutate applies the rule's patch.
	ActionMutate Action = "mutate"
	// ActionAudit only reports: no admission effect.
	ActionAudit Action = "audit"
)

// Valid reports whether a is one of the known actions.
func (a Action) Valid() bool {
	switch a {
	case ActionDeny, ActionWarn, ActionMutate, ActionAudit:
		return true
	}
	return false
}

// Rule describes one policy of the set, built-in or user-supplied, as its
// METADATA block declares it.
type Rule struct {
	ID            string         `json:"id"`
	Title         string         `json:"title"`
	Description   string         `json:"description"`
	Severity      string         `json:"severity"`
	Kinds         []string       `json:"kinds"`
	DefaultAction Action         `json:"defaultAction"`
	Params        map[string]any `json:"params,omitempty"`
	// Schema holds one JSON schema per parameter (custom.schema).
	Schema map[string]any `json:"schema,omitempty"`
	// Why says what the practice saves or protects (custom.why), for `kgate explain`.
	Why string `json:"why,omitempty"`
	// Examples are a manifest that violates the rule and one that passes
	// (custom.examples.bad and .good). Documents before the last one are context
	// that referential rules read; the last document is the object under review.
	Examples Examples `json:"examples"`
	// Referential is true when the rule reads other objects (custom.referential).
	Referential bool `json:"referential,omitempty"`
	// Reads lists the global parameters (declared by a library package) that the
	// rule's own package reads directly.
	Reads []string `json:"reads,omitempty"`
	// AuditOnly rules run in `kgate check` and audits but never block or patch at
	// admission: every finding is reported with action audit.
	AuditOnly bool `json:"auditOnly,omitempty"`
	// Inventory names the kinds of other objects the rule reads from data.inventory.
	Inventory []string `json:"inventory,omitempty"`
	// Package is the rule's Rego package path, e.g. data.kgate.rules.storage.ebs_gp3_not_gp2.
	Package string `json:"package"`
	// File is where the package was loaded from.
	File string `json:"file"`
	// Related lists links from the METADATA related_resources.
	Related []string `json:"related,omitempty"`

	pkg        ast.Ref
	hasPatch   bool
	hasApplies bool
}

// Examples is a pair of manifests illustrating a rule.
type Examples struct {
	Bad  string `json:"bad,omitempty"`
	Good string `json:"good,omitempty"`
}

// AppliesTo reports whether the rule evaluates objects of the given kind.
func (r *Rule) AppliesTo(kind string) bool {
	return slices.Contains(r.Kinds, kind) || slices.Contains(r.Kinds, "*")
}

// Mutates reports whether the rule can produce patches.
func (r *Rule) Mutates() bool { return r.hasPatch }

const rulesRoot = "data.kgate.rules"

// rulesFromCompiler reads every package under data.kgate.rules that declares a rule
// id in its METADATA. A rule package without one, or with invalid metadata, is an
// error naming the file and line, because a silently ignored policy is worse than
// a failed start.
func rulesFromCompiler(c *ast.Compiler) ([]*Rule, error) {
	root := ast.MustParseRef(rulesRoot)
	var rules []*Rule
	var errs []string
	seen := map[string]string{}
	for _, entry := range c.GetAnnotationSet().Flatten() {
		a := entry.Annotations
		if a.Scope != "package" || !entry.Path.HasPrefix(root) {
			continue
		}
		r, err := ruleFromAnnotations(entry.Path, a)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", a.Location, err))
			continue
		}
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s: rule id %s already declared at %s", a.Location, r.ID, prev))
			continue
		}
		seen[r.ID] = a.Location.String()
		r.Reads = paramsRead(c, entry.Path, r.Params)
		r.hasPatch = len(c.GetRulesExact(entry.Path.Append(ast.StringTerm("patch")))) > 0
		r.hasApplies = len(c.GetRulesExact(entry.Path.Append(ast.StringTerm("applies")))) > 0
		if len(c.GetRulesExact(entry.Path.Append(ast.StringTerm("violation")))) == 0 {
			errs = append(errs, fmt.Sprintf("%s: rule %s declares no violation rule", a.Location, r.ID))
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("invalid rule metadata:\n  %s", strings.Join(errs, "\n  "))
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

func ruleFromAnnotations(path ast.Ref, a *ast.Annotations) (*Rule, error) {
	r := &Rule{
		Title:       a.Title,
		Description: strings.TrimSpace(a.Description),
		Package:     path.String(),
		pkg:         path,
	}
	if a.Location != nil {
		r.File = a.Location.File
	}
	for _, rr := range a.RelatedResources {
		r.Related = append(r.Related, rr.Ref.String())
	}
	c := a.Custom
	var ok bool
	if r.ID, ok = c["id"].(string); !ok || r.ID == "" {
		return nil, fmt.Errorf("package %s: custom.id is required (e.g. STORAGE-001)", path)
	}
	if r.Title == "" {
		return nil, fmt.Errorf("rule %s: title is required", r.ID)
	}
	r.Severity, _ = c["severity"].(string)
	switch r.Severity {
	case "critical", "high", "medium", "low":
	default:
		return nil, fmt.Errorf("rule %s: custom.severity %q must be critical, high, medium or low", r.ID, r.Severity)
	}
	act, _ := c["default_action"].(string)
	r.DefaultAction = Action(act)
	if !r.DefaultAction.Valid() {
		return nil, fmt.Errorf("rule %s: custom.default_action %q must be deny, warn, mutate or audit", r.ID, act)
	}
	var err error
	if r.Kinds, err = stringList(c["kinds"]); err != nil || len(r.Kinds) == 0 {
		return nil, fmt.Errorf("rule %s: custom.kinds must list the object kinds the rule evaluates", r.ID)
	}
	if r.Inventory, err = stringList(c["inventory"]); err != nil {
		return nil, fmt.Errorf("rule %s: custom.inventory: %w", r.ID, err)
	}
	if p, present := c["params"]; present {
		if r.Params, ok = p.(map[string]any); !ok {
			return nil, fmt.Errorf("rule %s: custom.params must be a map of parameter defaults", r.ID)
		}
	}
	r.Schema, _ = c["schema"].(map[string]any)
	r.Why, _ = c["why"].(string)
	r.Why = strings.TrimSpace(r.Why)
	if ex, present := c["examples"]; present {
		m, ok := ex.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rule %s: custom.examples must hold bad and good manifests", r.ID)
		}
		r.Examples.Bad, _ = m["bad"].(string)
		r.Examples.Good, _ = m["good"].(string)
	}
	if r.Referential, err = optionalBool(c, "referential"); err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	if len(r.Inventory) > 0 && !r.Referential {
		return nil, fmt.Errorf("rule %s: custom.inventory lists %v, so custom.referential must be true", r.ID, r.Inventory)
	}
	if r.AuditOnly, err = optionalBool(c, "audit_only"); err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	if r.AuditOnly && r.DefaultAction != ActionAudit {
		return nil, fmt.Errorf("rule %s: custom.audit_only rules must have default_action audit", r.ID)
	}
	return r, nil
}

// paramsRead finds the parameters the package reads, directly or through the
// library rules it depends on (data.kgate.lib.params.<name>, input.params.<name>),
// minus the rule's own: the global knobs that change the rule's verdicts.
func paramsRead(c *ast.Compiler, pkg ast.Ref, own map[string]any) []string {
	prefixes := []ast.Ref{ast.MustParseRef("data.kgate.lib.params"), ast.MustParseRef("input.params")}
	seen := map[string]bool{}
	visited := map[*ast.Rule]bool{}
	var queue []*ast.Rule
	for _, m := range c.Modules {
		if m.Package.Path.Equal(pkg) {
			queue = append(queue, m.Rules...)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if visited[r] {
			continue
		}
		visited[r] = true
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			for _, p := range prefixes {
				if len(ref) > len(p) && ref.HasPrefix(p) {
					if name, ok := ref[len(p)].Value.(ast.String); ok {
						if _, mine := own[string(name)]; !mine {
							seen[string(name)] = true
						}
					}
				}
			}
			return false
		})
		for dep := range c.Graph.Dependencies(r) {
			if dr, ok := dep.(*ast.Rule); ok && !visited[dr] {
				queue = append(queue, dr)
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	return sortedKeys(seen)
}

func optionalBool(c map[string]any, key string) (bool, error) {
	v, present := c[key]
	if !present {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("custom.%s must be true or false, got %v", key, v)
	}
	return b, nil
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of strings, got %T", v)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("want a list of strings, got element %v", it)
		}
		out = append(out, s)
	}
	return out, nil
}
