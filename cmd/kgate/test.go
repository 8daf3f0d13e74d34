package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/spf13/cobra"

	"github.com/kgate-dev/kgate/policies"
)

func newTestCommand() *cobra.Command {
	var (
		filter   string
		verbose  bool
		coverage bool
	)
	cmd := &cobra.Command{
		Use:   "test [DIR]...",
		Short: "Run the Rego tests of policy directories (or of the built-in rules)",
		Long: `Run the *_test.rego files of each DIR with the engine kgate uses everywhere else:
the built-in library (kgate.lib, kgate.lib.testing) is loaded so tests can build
inputs with testing.review(obj) and apply patches with testing.apply, and
data.kgate.defaults holds every parameter default.

A failing test is printed with its file:line, the expression that failed and the
values of its variables, and any print() output. Coverage is reported for every
rule file of the directories. Without DIR, the built-in library's tests run.

Exit status: 0 when every test passes, 1 when one fails, 2 when the policies do
not load (the error names file:line).`,
		Example: `  kgate test policies/
  kgate test --run gpu policies/
  kgate new rule team-label --dir policies && kgate test policies/`,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			run, err := policies.RunTests(cmd.Context(), policies.TestOptions{
				Dirs: dirs, Builtin: len(dirs) == 0, Filter: filter, Coverage: coverage,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(run.Results) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "kgate: no tests found (test rules are named test_* in *_test.rego files)")
				return &exitError{exitDeny}
			}
			ch := make(chan *tester.Result, len(run.Results))
			failed := 0
			for _, r := range run.Results {
				if r.Fail || r.Error != nil {
					failed++
				}
				ch <- r
			}
			close(ch)
			rep := tester.PrettyReporter{Output: out, Verbose: verbose, FailureLine: true, LocalVars: true}
			if err := rep.Report(ch); err != nil {
				return err
			}
			if run.Coverage != nil {
				writeCoverage(cmd, run, dirs)
			}
			if failed > 0 {
				return &exitError{exitDeny}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&filter, "run", "", "run only the tests whose package.name matches `REGEX`")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every test, not only failures")
	cmd.Flags().BoolVar(&coverage, "coverage", true, "report the share of each rule file's lines the tests evaluate")
	return cmd
}

func writeCoverage(cmd *cobra.Command, run *policies.TestRun, dirs []string) {
	out := cmd.OutOrStdout()
	var files []string
	for f := range run.Coverage.Files {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		if len(dirs) == 0 || underAny(f, dirs) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return
	}
	fmt.Fprintln(out, "coverage:")
	for _, f := range files {
		fr := run.Coverage.Files[f]
		fmt.Fprintf(out, "  %5.1f%%  %s\n", fr.Coverage, f)
	}
}

func underAny(file string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(filepath.Clean(file), filepath.Clean(d)+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
