package policies

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// RunTests runs the *_test.rego files of the built-in library and of the given
// policy directories with OPA's tester, against the same data the engine uses
// (data.kgate.defaults holds every declared parameter default).
func RunTests(ctx context.Context, dirs []string) ([]*tester.Result, error) {
	lib, err := loadLibrary(dirs, true)
	if err != nil {
		return nil, err
	}
	runner := tester.NewRunner().
		SetStore(newStore(lib.defaults)).
		CapturePrintOutput(true).
		SetDefaultRegoVersion(ast.RegoV1)
	ch, err := runner.Run(ctx, lib.modules)
	if err != nil {
		return nil, fmt.Errorf("run rego tests: %w", err)
	}
	var out []*tester.Result
	for r := range ch {
		out = append(out, r)
	}
	return out, nil
}
