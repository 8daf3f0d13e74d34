package policies

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/kgate-dev/kgate/policies/internal/vm"
)

// outputs gives the rule outputs of one evaluation as JSON-shaped values (a
// violation set may also come as an ast.Set), by the rule's index in its
// ruleSet; nil means undefined.
type outputs interface {
	violation(i int) (any, error)
	patch(i int) (any, error)
	applies(i int) (bool, error)
}

// run evaluates the object with the planned program, or with the kind's prepared
// topdown query when the engine has none. release ends the evaluation.
func (e *Engine) run(ctx context.Context, rs *ruleSet, in *Input, scope bool) (outputs, func(), error) {
	if e.prog != nil {
		ev := e.prog.NewEval(ctx, ast.NewTerm(e.lazyInput(in)), e.data.v.Load(), e.now(), e.cache)
		return &planned{ev: ev, rs: rs, in: in}, ev.Release, nil
	}
	inputV, err := e.inputValue(in)
	if err != nil {
		return nil, nil, err
	}
	q := rs.plain
	if scope {
		q = rs.scoped
	}
	results, err := q.Eval(ctx, rego.EvalParsedInput(inputV))
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate %s %s: %w", in.Kind.Kind, in.Name, err)
	}
	if len(results) != 1 {
		return nil, nil, fmt.Errorf("evaluate %s %s: query returned %d results", in.Kind.Kind, in.Name, len(results))
	}
	return queryVars(results[0].Bindings), func() {}, nil
}

// queryVars are the results of a prepared topdown query (v0, p0, a0, ...).
type queryVars rego.Vars

func (b queryVars) violation(i int) (any, error) { return b[fmt.Sprintf("v%d", i)], nil }
func (b queryVars) patch(i int) (any, error)     { return b[fmt.Sprintf("p%d", i)], nil }
func (b queryVars) applies(i int) (bool, error) {
	a, _ := b[fmt.Sprintf("a%d", i)].([]any)
	return len(a) > 0, nil
}

// planned calls the rules' planned functions on demand: a patch is computed only
// for rules that report a mutation.
type planned struct {
	ev *vm.Eval
	rs *ruleSet
	in *Input
}

func (p *planned) call(f vm.Func, what string, i int) (*ast.Term, error) {
	t, err := p.ev.Call(f)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s %s: rule %s %s: %w", p.in.Kind.Kind, p.in.Name, p.rs.rules[i].ID, what, err)
	}
	return t, nil
}

func (p *planned) violation(i int) (any, error) {
	t, err := p.call(p.rs.funcs[i].violation, "violation", i)
	if t == nil || err != nil {
		return nil, err
	}
	if s, ok := t.Value.(ast.Set); ok {
		if s.Len() == 0 {
			return nil, nil
		}
		return s, nil
	}
	return ast.JSON(t.Value)
}

func (p *planned) patch(i int) (any, error) {
	t, err := p.call(p.rs.funcs[i].patch, "patch", i)
	if t == nil || err != nil {
		return nil, err
	}
	return ast.JSON(t.Value)
}

func (p *planned) applies(i int) (bool, error) {
	t, err := p.call(p.rs.funcs[i].applies, "applies", i)
	return t != nil, err
}
