package policies

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestOptions select the Rego tests to run.
type TestOptions struct {
	// Dirs are user policy directories whose *_test.rego files run; the built-in
	// library is always loaded so their rules can import it.
	Dirs []string
	// Builtin also runs the built-in library's tests.
	Builtin bool
	// Filter is a regular expression on test names (package.test_name).
	Filter string
	// Coverage measures which lines of the rules the tests evaluate.
	Coverage bool
}

// TestRun holds the results of a test run. Failed and errored tests were run a
// second time with tracing, so their results carry the trace that shows the
// failing expression and the values of its variables.
type TestRun struct {
	Results  []*tester.Result
	Coverage *cover.Report
}

// RunTests runs *_test.rego files with OPA's tester against the same data the
// engine uses (data.kgate.defaults holds every declared parameter default).
func RunTests(ctx context.Context, opts TestOptions) (*TestRun, error) {
	lib, err := loadLibrary(opts.Dirs, opts.Builtin, true, true)
	if err != nil {
		return nil, err
	}
	// Tests of a rule kgate would refuse to load prove nothing: check the
	// METADATA contract as the engine does.
	if _, err := rulesFromCompiler(lib.compiler); err != nil {
		return nil, err
	}
	var cov *cover.Cover
	if opts.Coverage {
		cov = cover.New()
	}
	results, err := runTests(ctx, lib, opts.Filter, false, cov)
	if err != nil {
		return nil, err
	}
	var failed []string
	for _, r := range results {
		if r.Fail || r.Error != nil {
			failed = append(failed, regexp.QuoteMeta(r.Package+"."+r.Name)+"$")
		}
	}
	if len(failed) > 0 {
		traced, err := runTests(ctx, lib, strings.Join(failed, "|"), true, nil)
		if err != nil {
			return nil, err
		}
		byName := map[string]*tester.Result{}
		for _, r := range traced {
			byName[r.Package+"."+r.Name] = r
		}
		for i, r := range results {
			if t, ok := byName[r.Package+"."+r.Name]; ok {
				results[i] = t
			}
		}
	}
	run := &TestRun{Results: results}
	if cov != nil {
		rep := cov.Report(ruleModules(lib.modules))
		run.Coverage = &rep
	}
	return run, nil
}

func runTests(ctx context.Context, lib *library, filter string, trace bool, cov *cover.Cover) ([]*tester.Result, error) {
	runner := tester.NewRunner().
		SetStore(newStore(lib.defaults)).
		CapturePrintOutput(true).
		EnableTracing(trace).
		SetDefaultRegoVersion(ast.RegoV1)
	if filter != "" {
		runner = runner.Filter(filter)
	}
	if cov != nil {
		runner = runner.SetCoverageQueryTracer(cov)
	}
	ch, err := runner.Run(ctx, lib.modules)
	if err != nil {
		return nil, fmt.Errorf("run rego tests: %w", err)
	}
	var out []*tester.Result
	for r := range ch {
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Package+"."+out[i].Name < out[j].Package+"."+out[j].Name
	})
	return out, nil
}

// ruleModules are the modules coverage is reported for: rules, not tests.
func ruleModules(all map[string]*ast.Module) map[string]*ast.Module {
	out := map[string]*ast.Module{}
	for name, m := range all {
		if !strings.HasSuffix(name, "_test.rego") {
			out[name] = m
		}
	}
	return out
}
