package policies

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/kgate-dev/kgate/policies/internal/vm"
)

// OPA hands a query's plan only to a registered target plugin, and registration
// is process-wide. kgate registers its capture target once, on first use, and
// serialises planning so that each caller gets its own plan.
const planTargetName = "kgate-plan"

var (
	planRegister sync.Once
	planMu       sync.Mutex
	planSink     *ir.Policy
)

type planTarget struct{}

func (planTarget) IsTarget(t string) bool { return t == planTargetName }

func (planTarget) PrepareForEval(_ context.Context, pol *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	planSink = pol
	return nil, nil
}

// ruleFuncs are the planned functions of one rule's outputs.
type ruleFuncs struct{ violation, patch, applies vm.Func }

// planIR asks OPA's planner for one plan covering every rule's outputs.
func planIR(ctx context.Context, c *ast.Compiler, store storage.Store, rules []*Rule) (*ir.Policy, error) {
	planRegister.Do(func() { rego.RegisterPlugin(planTargetName, planTarget{}) })
	var q strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&q, "v%d := %s.violation\n", i, r.pkg)
		if r.hasPatch {
			fmt.Fprintf(&q, "p%d := %s.patch\n", i, r.pkg)
		}
		if r.hasApplies {
			fmt.Fprintf(&q, "a%d := [x | x := %s.applies]\n", i, r.pkg)
		}
	}
	planMu.Lock()
	_, err := rego.New(rego.Query(q.String()), rego.Compiler(c), rego.Store(store), rego.Target(planTargetName)).PrepareForEval(ctx)
	// Planning switches the shared compiler to IR mode; topdown queries prepared
	// later (Configure, Explain) need topdown mode back, which the engine's
	// compiler always has.
	c.WithEvalMode(ast.EvalModeTopdown)
	pol := planSink
	planSink = nil
	planMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("plan policies: %w", err)
	}
	return pol, nil
}

// link compiles a plan for the VM and finds the functions of each rule, in the
// order of rules.
func link(pol *ir.Policy, rules []*Rule) (*vm.Program, []ruleFuncs, error) {
	prog, err := vm.Compile(pol, intrinsics)
	if err != nil {
		return nil, nil, fmt.Errorf("compile plan: %w", err)
	}
	funcs := make([]ruleFuncs, len(rules))
	for i, r := range rules {
		path := strings.TrimPrefix(r.pkg.String(), "data.")
		var ok bool
		if funcs[i].violation, ok = prog.Func(path + ".violation"); !ok {
			return nil, nil, fmt.Errorf("plan policies: no plan for %s.violation", r.pkg)
		}
		if r.hasPatch {
			if funcs[i].patch, ok = prog.Func(path + ".patch"); !ok {
				return nil, nil, fmt.Errorf("plan policies: no plan for %s.patch", r.pkg)
			}
		}
		if r.hasApplies {
			if funcs[i].applies, ok = prog.Func(path + ".applies"); !ok {
				return nil, nil, fmt.Errorf("plan policies: no plan for %s.applies", r.pkg)
			}
		}
	}
	return prog, funcs, nil
}

// dataDoc is the data document as the VM reads it: the engine's store, read back
// after every write. Engines made by Configure share it with their origin.
type dataDoc struct{ v atomic.Pointer[ast.Term] }

func (d *dataDoc) refresh(ctx context.Context, store storage.Store) error {
	var v any
	err := storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		var err error
		v, err = store.Read(ctx, txn, storage.RootPath)
		return err
	})
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	val, ok := v.(ast.Value)
	if !ok {
		if val, err = ast.InterfaceToValue(v); err != nil {
			return fmt.Errorf("read data: %w", err)
		}
	}
	d.v.Store(ast.NewTerm(val))
	return nil
}
