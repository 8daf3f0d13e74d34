// Package policies loads kgate's Rego rules, compiles them once into prepared
// queries and evaluates Kubernetes objects against them. The webhook, the audit and
// the CLI share one Engine; it knows nothing of HTTP, flags or logging.
package policies

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kgate-dev/kgate/policies/internal/vm"
)

// Options configure an Engine.
type Options struct {
	// PolicyDirs adds user policy directories to the built-in library.
	PolicyDirs []string
	// Params overrides parameter defaults declared in METADATA blocks.
	Params map[string]any
	// Settings tunes actions per rule and namespace, exemptions and dry-run;
	// nil keeps every rule's own actions.
	Settings *Settings
	// Debug keeps print() calls in rules and the compiled modules, so Explain can
	// trace a rule and show its print() output; the admission path leaves it off.
	Debug bool
	// Now returns the current time for exemption expiry; nil means time.Now.
	Now func() time.Time
	// TopDown evaluates with OPA's topdown interpreter instead of the planned
	// program. Both give the same decisions (the tests check it on every corpus
	// object); topdown is slower and exists to cross-check. Debug implies it.
	TopDown bool
}

// Engine evaluates objects against a compiled policy set. It is safe for
// concurrent use; nothing is compiled after New returns.
type Engine struct {
	defaults map[string]any
	schemas  paramSchemas
	settings *Settings
	now      func() time.Time
	rules    []*Rule
	byID     map[string]*Rule
	params   map[string]any
	// schemaDocs is the raw JSON schema of each parameter, for documentation.
	schemaDocs map[string]map[string]any
	paramsV    *ast.Term
	store      storage.Store
	compiler   *ast.Compiler
	byKind     map[string]*ruleSet
	wildcard   *ruleSet
	// prog is the planned program of every rule and funcs its entry points by rule
	// ID; nil prog means topdown evaluation.
	prog  *vm.Program
	funcs map[string]ruleFuncs
	data  *dataDoc
	// cache keeps rule values that depend on parameters and data only; it
	// belongs to this engine's parameters.
	cache *vm.Cache
}

// New loads the built-in rules and the user's policy directories, compiles them
// and prepares one query per object kind.
func New(ctx context.Context, opts Options) (*Engine, error) {
	planned := !opts.TopDown && !opts.Debug
	var b *built
	var err error
	if planned && len(opts.PolicyDirs) == 0 {
		// A compiled library that is stale or unreadable (the tests catch both)
		// costs start-up time, never correctness: the sources are compiled instead.
		b, _ = loadCompiled()
	}
	if b == nil {
		if b, err = buildFromSources(ctx, opts.PolicyDirs, opts.Debug, planned); err != nil {
			return nil, err
		}
	}
	rules, defaults := b.rules, b.defaults
	params, err := mergeParams(defaults, b.schemas, opts.Params)
	if err != nil {
		return nil, err
	}
	pv, err := ast.InterfaceToValue(params)
	if err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	if err := validateSettings(opts.Settings, rules); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	e := &Engine{
		defaults:   defaults,
		schemas:    b.schemas,
		settings:   opts.Settings,
		now:        now,
		rules:      rules,
		byID:       map[string]*Rule{},
		params:     params,
		schemaDocs: b.docs,
		paramsV:    ast.NewTerm(pv),
		compiler:   b.compiler,
		byKind:     map[string]*ruleSet{},
		store:      newStore(defaults),
		data:       &dataDoc{},
	}
	for _, r := range rules {
		e.byID[r.ID] = r
	}
	if planned {
		prog, funcs, err := link(b.pol, rules)
		if err != nil {
			return nil, err
		}
		e.prog, e.funcs, e.cache = prog, map[string]ruleFuncs{}, vm.NewCache()
		for i, r := range rules {
			e.funcs[r.ID] = funcs[i]
		}
		if err := e.data.refresh(ctx, e.store); err != nil {
			return nil, err
		}
		// The compiled modules are two thirds of the engine's memory and only
		// topdown (Explain, TopDown, Debug) reads them; every byte less of live
		// heap makes each garbage collection cheaper.
		e.compiler = nil
	}
	if err := e.prepare(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func newStore(defaults map[string]any) storage.Store {
	return inmem.NewFromObjectWithOpts(map[string]any{
		"kgate":     map[string]any{"defaults": defaults, "cluster_scoped": clusterScopedKinds()},
		"inventory": map[string]any{"namespace": map[string]any{}, "cluster": map[string]any{}},
	}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
}

// Rules returns the loaded rules sorted by ID.
func (e *Engine) Rules() []*Rule { return e.rules }

// Rule returns the rule with the given ID.
func (e *Engine) Rule(id string) (*Rule, bool) {
	r, ok := e.byID[id]
	return r, ok
}

// Params returns the effective parameters (defaults overlaid with Options.Params).
func (e *Engine) Params() map[string]any { return e.params }

// InventoryKinds lists the kinds that referential rules read from data.inventory;
// callers feed only these kinds to SetInventory.
func (e *Engine) InventoryKinds() []string {
	set := map[string]bool{}
	for _, r := range e.rules {
		for _, k := range r.Inventory {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ruleSet is the prepared query for the rules of one kind.
type ruleSet struct {
	rules []*Rule
	// plain evaluates violation and patch; scoped also reports which rules apply.
	// Both are unset when the engine evaluates the planned program.
	plain, scoped rego.PreparedEvalQuery
	// funcs are the rules' planned functions, in the order of rules.
	funcs []ruleFuncs
}

func (e *Engine) prepare(ctx context.Context) error {
	kinds := map[string]bool{}
	for _, r := range e.rules {
		for _, k := range r.Kinds {
			if k != "*" {
				kinds[k] = true
			}
		}
	}
	build := func(match func(*Rule) bool) (*ruleSet, error) {
		rs := &ruleSet{}
		for _, r := range e.rules {
			// A rule switched off everywhere costs nothing per evaluation.
			if match(r) && !e.settings.offEverywhere(r.ID) {
				rs.rules = append(rs.rules, r)
			}
		}
		if len(rs.rules) == 0 {
			return nil, nil
		}
		if e.prog != nil {
			for _, r := range rs.rules {
				rs.funcs = append(rs.funcs, e.funcs[r.ID])
			}
			return rs, nil
		}
		var err error
		if rs.plain, err = e.prepareQuery(ctx, rs.rules, false); err != nil {
			return nil, err
		}
		if rs.scoped, err = e.prepareQuery(ctx, rs.rules, true); err != nil {
			return nil, err
		}
		return rs, nil
	}
	for k := range kinds {
		rs, err := build(func(r *Rule) bool { return r.AppliesTo(k) })
		if err != nil {
			return fmt.Errorf("prepare rules for kind %s: %w", k, err)
		}
		e.byKind[k] = rs
	}
	var err error
	e.wildcard, err = build(func(r *Rule) bool { return r.AppliesTo("*") })
	if err != nil {
		return fmt.Errorf("prepare rules for all kinds: %w", err)
	}
	return nil
}

// prepareQuery builds one query that evaluates every rule of a kind at once, so an
// object costs one evaluation however many rules apply to it.
func (e *Engine) prepareQuery(ctx context.Context, rules []*Rule, scoped bool) (rego.PreparedEvalQuery, error) {
	var b strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&b, "v%d := %s.violation\n", i, r.pkg)
		if r.hasPatch {
			fmt.Fprintf(&b, "p%d := %s.patch\n", i, r.pkg)
		}
		if scoped && r.hasApplies {
			// A comprehension keeps the query defined when applies is undefined.
			fmt.Fprintf(&b, "a%d := [x | x := %s.applies]\n", i, r.pkg)
		}
	}
	return rego.New(
		rego.Query(b.String()),
		rego.Compiler(e.compiler),
		rego.Store(e.store),
	).PrepareForEval(ctx)
}

// Configure returns an engine that shares e's compiled policies and inventory but
// evaluates with other parameters and settings. Reloading a configuration thus
// costs no compilation; e itself is unchanged and stays usable.
func (e *Engine) Configure(ctx context.Context, params map[string]any, s *Settings) (*Engine, error) {
	merged, err := mergeParams(e.defaults, e.schemas, params)
	if err != nil {
		return nil, err
	}
	if err := validateSettings(s, e.rules); err != nil {
		return nil, err
	}
	pv, err := ast.InterfaceToValue(merged)
	if err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	c := *e
	c.params, c.paramsV, c.settings = merged, ast.NewTerm(pv), s
	if c.prog != nil {
		c.cache = vm.NewCache()
	}
	for _, r := range e.rules {
		if s.offEverywhere(r.ID) || e.settings.offEverywhere(r.ID) {
			// The set of prepared rules changes: prepare again (no compilation).
			c.byKind, c.wildcard = map[string]*ruleSet{}, nil
			if err := c.prepare(ctx); err != nil {
				return nil, err
			}
			break
		}
	}
	return &c, nil
}

// ValidateParam checks one parameter value against its declared schema; an
// unknown name is an error.
func (e *Engine) ValidateParam(name string, value any) error {
	if _, ok := e.defaults[name]; !ok {
		return fmt.Errorf("unknown parameter %s", name)
	}
	return e.schemas.validate(map[string]any{name: value})
}
