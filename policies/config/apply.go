package config

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kgate-dev/kgate/policies"
)

// Resolve checks the configuration against the loaded rules (rule IDs,
// parameters and their schemas, actions) and returns the engine parameters and
// settings. All problems are reported at once, each with file:line.
func (c *Config) Resolve(e *policies.Engine) (map[string]any, *policies.Settings, error) {
	type problem struct {
		line int
		msg  string
	}
	var errs []problem
	add := func(path string, format string, args ...any) {
		line := c.lines.of(path)
		errs = append(errs, problem{line, c.errorf(line, format, args...).Error()})
	}
	params := map[string]any{}
	owner := map[string]string{}
	setParam := func(path, name string, v any) {
		if err := e.ValidateParam(name, v); err != nil {
			add(path, "%v", err)
			return
		}
		if prev, dup := owner[name]; dup {
			add(path, "parameter %s is also set at line %d; parameters share one name space, set it once", name, c.lines.of(prev))
			return
		}
		owner[name] = path
		params[name] = v
	}

	// Top-level params may set any parameter; rules.<ID>.params only the rule's own.
	for _, name := range sortedKeys(c.Params) {
		setParam("params."+name, name, c.Params[name])
	}
	if c.ExemptNamespaces != nil {
		list := make([]any, len(c.ExemptNamespaces))
		for i, n := range c.ExemptNamespaces {
			list[i] = n
		}
		setParam("exemptNamespaces", "exemptNamespaces", list)
	}

	s := &policies.Settings{DryRun: c.DryRun, Rules: map[string]policies.RuleSettings{}}
	for _, id := range sortedKeys(c.Rules) {
		rc := c.Rules[id]
		base := "rules." + id
		r, ok := e.Rule(id)
		if !ok {
			add(base, "unknown rule %s (kgate policies lists the loaded rules)", id)
			continue
		}
		for _, name := range sortedKeys(rc.Params) {
			path := base + ".params." + name
			if _, own := r.Params[name]; !own {
				add(path, "rule %s has no parameter %s (it has: %s)", id, name, strings.Join(keys(r.Params), ", "))
				continue
			}
			setParam(path, name, rc.Params[name])
		}
		var rs policies.RuleSettings
		if rc.Action != "" {
			rs.Action = policies.Action(rc.Action)
			if err := r.ValidateAction(rs.Action); err != nil {
				add(base+".action", "%v", err)
			}
		}
		for i, o := range rc.Overrides {
			path := fmt.Sprintf("%s.overrides.%d", base, i)
			ov := policies.Override{Namespaces: o.Namespaces, Action: policies.Action(o.Action)}
			if err := r.ValidateAction(ov.Action); err != nil {
				add(path, "%v", err)
			}
			if len(o.Namespaces) == 0 && o.NamespaceSelector == nil {
				add(path, "an override needs namespaces or a namespaceSelector")
			}
			if o.NamespaceSelector != nil {
				sel, err := metav1.LabelSelectorAsSelector(o.NamespaceSelector.k8s())
				if err != nil {
					add(path+".namespaceSelector", "%v", err)
				}
				ov.Selector = sel
			}
			rs.Overrides = append(rs.Overrides, ov)
		}
		s.Rules[id] = rs
	}

	if sel := c.Generate.DefaultDenyIngress.NamespaceSelector; sel != nil {
		if _, err := metav1.LabelSelectorAsSelector(sel.k8s()); err != nil {
			add("generate.defaultDenyIngress.namespaceSelector", "%v", err)
		}
	}
	if a := c.Exemptions.Annotations; a != nil && !*a {
		s.Exemptions.Disabled = true
	}
	for i, id := range c.Exemptions.Rules {
		if _, ok := e.Rule(id); !ok {
			add(fmt.Sprintf("exemptions.rules.%d", i), "unknown rule %s", id)
		}
	}
	s.Exemptions.Rules = c.Exemptions.Rules

	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].line < errs[j].line })
		msgs := make([]string, len(errs))
		for i, p := range errs {
			msgs[i] = p.msg
		}
		return nil, nil, errors.New(strings.Join(msgs, "\n"))
	}
	return params, s, nil
}

// Apply returns the engine configured by c: e's compiled policies with c's
// parameters and settings.
func (c *Config) Apply(ctx context.Context, e *policies.Engine) (*policies.Engine, error) {
	params, s, err := c.Resolve(e)
	if err != nil {
		return nil, err
	}
	ce, err := e.Configure(ctx, params, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.file, err)
	}
	return ce, nil
}

func (l *LabelSelector) k8s() *metav1.LabelSelector {
	out := &metav1.LabelSelector{MatchLabels: l.MatchLabels}
	for _, r := range l.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key, Operator: metav1.LabelSelectorOperator(r.Operator), Values: r.Values,
		})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]any) []string { return sortedKeys(m) }

// DefaultDenySelector returns the namespaces the generator covers; nil when
// generation is off. An empty selector matches every namespace.
func (c *Config) DefaultDenySelector() (labels.Selector, error) {
	g := c.Generate.DefaultDenyIngress
	if !g.Enabled {
		return nil, nil
	}
	if g.NamespaceSelector == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(g.NamespaceSelector.k8s())
}
