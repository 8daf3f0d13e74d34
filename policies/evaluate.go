package policies

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// GVK is the group, version and kind of the object under review.
type GVK struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

// Input is the AdmissionRequest-shaped document rules see as input (with params
// added by the engine). Object and OldObject are JSON-shaped values
// (map[string]any, []any, string, float64/int64, bool, nil).
type Input struct {
	// Operation is CREATE, UPDATE, DELETE or AUDIT (offline and audit evaluation).
	Operation string
	Kind      GVK
	// Namespace is "" for cluster-scoped objects; see NamespaceOf.
	Namespace string
	Name      string
	Object    any
	OldObject any
	UserInfo  any
	DryRun    bool
	// NamespaceInfo describes the object's namespace (labels, annotations) for
	// scoped settings and namespace-wide exemptions; nil when unknown.
	NamespaceInfo *Namespace
}

// Finding is one violation of one rule.
type Finding struct {
	RuleID   string    `json:"rule"`
	Action   Action    `json:"action"`
	Severity string    `json:"severity"`
	Path     string    `json:"path"`
	Message  string    `json:"message"`
	Fix      string    `json:"fix"`
	Patch    []PatchOp `json:"patch,omitempty"`
	// Exemption is set when an exemption annotation waived the finding (Action is
	// then exempted).
	Exemption *Exemption `json:"exemption,omitempty"`
	// DryRun is true when the configuration's dry-run switch turned a deny into
	// this warning.
	DryRun bool `json:"dryRun,omitempty"`
	// Note explains an exemption annotation that was not honoured.
	Note string `json:"note,omitempty"`
}

// Decision is the outcome of evaluating one object.
type Decision struct {
	Findings []Finding
	// Patch is the merged JSON patch of every mutate finding, valid against the
	// original object (missing parent maps are created once).
	Patch []PatchOp
	// Patched is the object with Patch applied; nil when Patch is empty.
	Patched any
	// InScope lists the IDs of the rules whose scope includes the object; filled
	// only when evaluated WithScope.
	InScope []string
}

// EvalOption tunes one evaluation.
type EvalOption func(*evalConfig)

type evalConfig struct{ scope bool }

// WithScope also reports which rules consider the object in scope, so callers
// can tell a pass from "not applicable".
func WithScope() EvalOption { return func(c *evalConfig) { c.scope = true } }

// Evaluate runs every rule that applies to the object's kind.
func (e *Engine) Evaluate(ctx context.Context, in *Input, opts ...EvalOption) (*Decision, error) {
	var cfg evalConfig
	for _, o := range opts {
		o(&cfg)
	}
	rs := e.byKind[in.Kind.Kind]
	if rs == nil {
		rs = e.wildcard
	}
	if rs == nil {
		return &Decision{}, nil
	}
	out, release, err := e.run(ctx, rs, in, cfg.scope)
	if err != nil {
		return nil, err
	}
	defer release()
	d := &Decision{}
	var mutations [][]PatchOp
	var objAnn map[string]string
	annRead := false
	for i, r := range rs.rules {
		configured := e.settings.actionFor(r, in.NamespaceInfo)
		if configured == ActionOff {
			continue
		}
		if cfg.scope && r.hasApplies {
			applies, err := out.applies(i)
			if err != nil {
				return nil, err
			}
			if applies {
				d.InScope = append(d.InScope, r.ID)
			}
		}
		v, err := out.violation(i)
		if err != nil {
			return nil, err
		}
		findings, err := parseViolations(r, v)
		if err != nil {
			return nil, err
		}
		if len(findings) == 0 {
			continue
		}
		if !annRead {
			objAnn, annRead = annotationsOf(in.Object), true
		}
		// A Namespace's own annotations are its object annotations, not those of
		// an enclosing namespace.
		exemptNS := in.NamespaceInfo
		if in.Kind.Kind == "Namespace" {
			exemptNS = nil
		}
		for j := range findings {
			e.settle(&findings[j], r, configured, objAnn, exemptNS)
		}
		if cfg.scope && !r.hasApplies {
			d.InScope = append(d.InScope, r.ID)
		}
		var ops []PatchOp
		if r.hasPatch && anyMutate(findings) {
			p, err := out.patch(i)
			if err != nil {
				return nil, err
			}
			if ops, err = parsePatch(r, p); err != nil {
				return nil, err
			}
			mutations = append(mutations, ops)
		}
		for j := range findings {
			if findings[j].Action == ActionMutate {
				findings[j].Patch = ops
			}
		}
		d.Findings = append(d.Findings, findings...)
	}
	if len(mutations) > 0 {
		if d.Patched, d.Patch, err = applyAll(in.Object, mutations); err != nil {
			return nil, fmt.Errorf("merge patches for %s %s: %w", in.Kind.Kind, in.Name, err)
		}
	}
	return d, nil
}

// settle applies the settings to one finding: the configured action, then an
// exemption (which keeps the finding, marked exempted), then dry-run.
func (e *Engine) settle(f *Finding, r *Rule, configured Action, objAnn map[string]string, ns *Namespace) {
	if configured != "" {
		f.Action = enforce(f.Action, r.DefaultAction, configured)
	}
	if x, note := e.settings.exemption(r.ID, objAnn, ns, e.now()); x != nil {
		x.Action = f.Action
		f.Action = ActionExempted
		f.Exemption = x
	} else if note != "" {
		f.Note = note
	}
	if e.settings != nil && e.settings.DryRun && f.Action == ActionDeny {
		f.Action = ActionWarn
		f.DryRun = true
	}
}

func anyMutate(fs []Finding) bool {
	for _, f := range fs {
		if f.Action == ActionMutate {
			return true
		}
	}
	return false
}

// inputValue is the whole input document as an AST value, for topdown.
func (e *Engine) inputValue(in *Input) (ast.Value, error) {
	v, err := ast.InterfaceToValue(e.inputFields(in))
	if err != nil {
		return nil, fmt.Errorf("input document: %w", err)
	}
	return v, nil
}

// parseViolations reads a rule's violation set: JSON-shaped from topdown, or the
// AST set the planned program returns, which is read in place because converting
// it to JSON first cost a third of the allocations of a finding.
func parseViolations(r *Rule, v any) ([]Finding, error) {
	var out []Finding
	switch items := v.(type) {
	case nil:
		return nil, nil
	case ast.Set:
		var err error
		if out, err = astViolations(r, items); err != nil {
			return nil, err
		}
	case []any:
		out = make([]Finding, 0, len(items))
		for _, it := range items {
			f, err := jsonViolation(r, it)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	default:
		return nil, fmt.Errorf("rule %s (%s): violation is %v; define it as a partial set: violation contains v if { ... }", r.ID, r.File, v)
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b Finding) int {
			return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Message, b.Message))
		})
	}
	return out, nil
}

// astViolations is apart from parseViolations so that only sets, not every
// call, pay for the slice the closure captures.
func astViolations(r *Rule, items ast.Set) ([]Finding, error) {
	out := make([]Finding, 0, items.Len())
	err := items.Iter(func(it *ast.Term) error {
		f, err := astViolation(r, it)
		out = append(out, f)
		return err
	})
	return out, err
}

func jsonViolation(r *Rule, it any) (Finding, error) {
	m, ok := it.(map[string]any)
	if !ok {
		return Finding{}, fmt.Errorf("rule %s (%s): violation entries must be objects with msg, path and fix, got %v", r.ID, r.File, it)
	}
	msg, _ := m["msg"].(string)
	path, _ := m["path"].(string)
	fix, _ := m["fix"].(string)
	a, hasAction := m["action"]
	action, _ := a.(string)
	return newFinding(r, it, msg, path, fix, action, hasAction)
}

func astViolation(r *Rule, it *ast.Term) (Finding, error) {
	m, ok := it.Value.(ast.Object)
	if !ok {
		return Finding{}, fmt.Errorf("rule %s (%s): violation entries must be objects with msg, path and fix, got %v", r.ID, r.File, it)
	}
	str := func(key *ast.Term) (string, bool) {
		v := m.Get(key)
		if v == nil {
			return "", false
		}
		s, _ := v.Value.(ast.String)
		return string(s), true
	}
	msg, _ := str(msgKey)
	path, _ := str(pathKey)
	fix, _ := str(fixKey)
	action, hasAction := str(actionKey)
	return newFinding(r, it, msg, path, fix, action, hasAction)
}

var msgKey, pathKey, fixKey, actionKey = ast.StringTerm("msg"), ast.StringTerm("path"), ast.StringTerm("fix"), ast.StringTerm("action")

// newFinding checks one violation entry's fields; a field of the wrong type reads
// as empty.
func newFinding(r *Rule, it any, msg, path, fix, action string, hasAction bool) (Finding, error) {
	f := Finding{RuleID: r.ID, Action: r.DefaultAction, Severity: r.Severity, Message: msg, Path: path, Fix: fix}
	if msg == "" {
		return f, fmt.Errorf("rule %s (%s): violation without msg: %v", r.ID, r.File, it)
	}
	if hasAction {
		f.Action = Action(action)
		if !f.Action.Valid() {
			return f, fmt.Errorf("rule %s (%s): violation action %v must be deny, warn, mutate or audit", r.ID, r.File, action)
		}
	}
	if r.AuditOnly {
		f.Action = ActionAudit
	}
	return f, nil
}

// namespaceLabels gives rules the labels of the object's namespace ({} when the
// front end does not know them).
func namespaceLabels(ns *Namespace) *ast.Term {
	if ns == nil || len(ns.Labels) == 0 {
		return ast.ObjectTerm()
	}
	items := make([][2]*ast.Term, 0, len(ns.Labels))
	for k, v := range ns.Labels {
		items = append(items, ast.Item(ast.StringTerm(k), ast.StringTerm(v)))
	}
	return ast.ObjectTerm(items...)
}

// lazyInput is the input document for the planned program: a lazy AST object
// whose object and oldObject convert only the fields rules read (not status,
// managedFields or most annotations). An AST object built eagerly would hash, and
// so convert, every value it holds.
func (e *Engine) lazyInput(in *Input) ast.Value { return ast.LazyObject(e.inputFields(in)) }

// inputFields are the fields of the input document rules see: AST values where
// the engine has them already, the JSON-shaped object, oldObject and userInfo.
func (e *Engine) inputFields(in *Input) map[string]any {
	return map[string]any{
		"operation": ast.String(in.Operation),
		"kind": ast.NewObject(
			ast.Item(ast.InternedTerm("group"), ast.StringTerm(in.Kind.Group)),
			ast.Item(ast.InternedTerm("version"), ast.StringTerm(in.Kind.Version)),
			ast.Item(ast.InternedTerm("kind"), ast.StringTerm(in.Kind.Kind)),
		),
		"namespace":       ast.String(in.Namespace),
		"name":            ast.String(in.Name),
		"object":          in.Object,
		"oldObject":       in.OldObject,
		"userInfo":        in.UserInfo,
		"dryRun":          ast.Boolean(in.DryRun),
		"params":          e.paramsV.Value,
		"namespaceLabels": namespaceLabels(in.NamespaceInfo).Value,
	}
}
