package policies

import (
	"context"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"
)

// Explanation shows how one rule reached its verdict on one object, for
// debugging a rule without a cluster: the expressions of the rule's own file that
// were evaluated, with the values of their variables, and its print() output.
type Explanation struct {
	RuleID string `json:"rule"`
	// Trace lists evaluated expressions of the rule's file with variable values.
	Trace []string `json:"trace"`
	// Prints holds the print() output of the evaluation.
	Prints []string `json:"prints,omitempty"`
}

// Explain evaluates one rule on in with tracing. It compiles a query for the
// rule, so it belongs to debugging front ends (kgate check --explain), never to
// the admission path. It needs an engine built with Options.Debug (or TopDown);
// print() output is only kept with Debug.
func (e *Engine) Explain(ctx context.Context, in *Input, id string) (*Explanation, error) {
	r, ok := e.byID[id]
	if !ok {
		return nil, fmt.Errorf("no rule %s", id)
	}
	if e.compiler == nil {
		return nil, fmt.Errorf("explain %s: the engine was built without Options.Debug and keeps no compiled modules to trace", id)
	}
	inputV, err := e.inputValue(in)
	if err != nil {
		return nil, err
	}
	pq, err := rego.New(
		rego.Query(fmt.Sprintf("v := %s.violation", r.pkg)),
		rego.Compiler(e.compiler),
		rego.Store(e.store),
		rego.EnablePrintStatements(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", id, err)
	}
	buf := topdown.NewBufferTracer()
	prints := &printCollector{}
	if _, err := pq.Eval(ctx, rego.EvalParsedInput(inputV), rego.EvalQueryTracer(buf), rego.EvalPrintHook(prints)); err != nil {
		return nil, fmt.Errorf("explain %s: %w", id, err)
	}
	x := &Explanation{RuleID: id, Prints: prints.lines}
	seen := map[string]bool{}
	for _, ev := range *buf {
		if ev.Op != topdown.EvalOp || ev.Location == nil || ev.Location.File != r.File || !ev.HasExpr() {
			continue
		}
		line := fmt.Sprintf("line %d: %s%s", ev.Location.Row, ev.Node, bindings(ev))
		if !seen[line] {
			seen[line] = true
			x.Trace = append(x.Trace, line)
		}
	}
	return x, nil
}

// bindings renders the values of the variables of an evaluated expression, under
// the names the rule's author wrote where the compiler renamed them.
func bindings(ev *topdown.Event) string {
	expr, _ := ev.Node.(*ast.Expr)
	if expr == nil || ev.Locals == nil {
		return ""
	}
	var parts []string
	done := map[ast.Var]bool{}
	ast.WalkVars(expr, func(v ast.Var) bool {
		if done[v] {
			return false
		}
		done[v] = true
		val := ev.Locals.Get(v)
		if val == nil {
			return false
		}
		name := string(v)
		if md, ok := ev.LocalMetadata[v]; ok && md.Name != "" {
			name = string(md.Name)
		}
		if strings.HasPrefix(name, "__local") {
			name = "_"
		}
		parts = append(parts, fmt.Sprintf("%s = %s", name, clip(val.String(), 80)))
		return false
	})
	if len(parts) == 0 {
		return ""
	}
	return "    [" + strings.Join(parts, ", ") + "]"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type printCollector struct{ lines []string }

func (p *printCollector) Print(_ print.Context, msg string) error {
	p.lines = append(p.lines, msg)
	return nil
}
