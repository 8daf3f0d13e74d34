package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kgate-dev/kgate/policies/check"
	"github.com/kgate-dev/kgate/policies/manifest"
	"github.com/kgate-dev/kgate/policies/report"
)

type checkFlags struct {
	output  string
	fix     bool
	fixDir  string
	engine  engineFlags
	passes  bool
	explain bool
	noColor bool
	workers int
}

func newCheckCommand() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [PATH|-]...",
		Short: "Check manifests against the policies (for CI and GitOps pipelines)",
		Long: `Check Kubernetes manifests with the same engine the admission webhook uses.

PATH is a file, a directory (searched recursively for .yaml, .yml and .json files)
or - for standard input, so rendered charts and overlays can be piped in:

  helm template my-release ./chart | kgate check -
  kustomize build overlays/prod | kgate check -

Files may hold several YAML documents, kind: List objects or JSON. Every finding
names the file, the document index (0-based, counting documents that hold an
object), the line of the offending field, the object, the rule, the action, the
message and the fix. The objects given in one run are the inventory referential
rules look at (e.g. NETPOL-001 looks for a default-deny NetworkPolicy among them).

Exit status: 0 when no finding has action deny, 1 when at least one has, 2 on an
input or usage error (broken documents are reported with file and position; the
other documents are still checked).

Memory: kgate check streams through its inputs. Unless GOMEMLIMIT is set, it
runs with a soft memory limit of 95 MiB and, unless GOGC is set, GOGC=off: it
collects garbage only as it nears the limit, for a peak of about 150 MiB of
resident memory, program included. Set GOMEMLIMIT (the runtime's usual GOGC
pacing then applies) for inventories that do not fit in the limit, or to trade
memory for speed.`,
		Example: `  kgate check deploy/
  kgate check -o json manifests/ > findings.json
  kgate check --fix storageclass.yaml > fixed.yaml
  kgate check --fix-dir . k8s/          # rewrite the files in place with all mutations
  kgate check --config kgate.yaml k8s/  # the configuration the webhook uses`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, args, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, json, junit, sarif or github")
	fl.BoolVar(&f.fix, "fix", false, "print the manifests with every mutation applied to stdout (the report goes to stderr)")
	fl.StringVar(&f.fixDir, "fix-dir", "", "write the changed manifests under `DIR` (same relative paths; DIR=. rewrites in place)")
	f.engine.register(fl, true)
	fl.BoolVar(&f.passes, "passes", false, "also list, per object, the rules it was in scope of and passed")
	fl.BoolVar(&f.explain, "explain", false, "show under each finding the rule's evaluated expressions with their values and its print() output, to debug a rule")
	fl.BoolVar(&f.noColor, "no-color", false, "never colour the text output (it is coloured only on a terminal)")
	fl.IntVar(&f.workers, "workers", 0, "parallel workers (default: number of CPUs)")
	return cmd
}

// checkMemoryLimit is the soft memory limit of kgate check when GOMEMLIMIT is
// not set. kgate check streams, so its live heap is the engine, the inventory
// and the findings (50-60 MiB on the 10,000-object benchmark); everything else
// is garbage from evaluation, and the limit, not GOGC, paces collection once
// the inventory is loaded. GOGC is turned off so that the limit is the only
// trigger: the engine build, which allocates much but keeps little, then runs
// without the dozen collections GOGC=100 started on its critical path (which is
// single-threaded: ~70 ms of a 0.55 s start). The ~40 MiB of the binary's
// mapped pages come on top of the Go memory the limit bounds, and the peak is
// when the report is written (encoding/json holds a large report twice, and a
// collection started by the limit lags such large allocations, more so when
// other processes compete for the CPUs): with 95 MiB the benchmark peaked at
// 131-148 MiB in all but 2 of ~80 runs, alone or two at a time (153 MiB);
// with 100 MiB, at ~140 MiB alone but 151-152 MiB in one run of ten under
// contention. Small runs reach the limit too: ~130 MiB instead of ~95 MiB.
const checkMemoryLimit = 95 << 20

func runCheck(cmd *cobra.Command, args []string, f *checkFlags) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(checkMemoryLimit)
		if os.Getenv("GOGC") == "" {
			// Never without the limit: GOGC off alone would let the heap grow
			// unbounded.
			debug.SetGCPercent(-1)
		}
	}
	write, err := writer(f.output)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return fmt.Errorf("no input: give files, directories or - for standard input (see kgate check --help)")
	}
	f.engine.debug = f.explain
	engine, err := f.engine.build(cmd)
	if err != nil {
		return err
	}
	fixing := f.fix || f.fixDir != ""
	res, err := check.Run(cmd.Context(), engine, check.Options{
		Paths: args, Stdin: cmd.InOrStdin(), Workers: f.workers, Passes: f.passes, Fix: fixing, Explain: f.explain,
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.fix && f.fixDir == "" {
		if err := printFixed(out, res.Files); err != nil {
			return err
		}
		out = cmd.ErrOrStderr()
	}
	if f.fixDir != "" {
		if err := writeFixed(cmd.ErrOrStderr(), f.fixDir, res.Files); err != nil {
			return err
		}
	}
	color := !f.noColor && isTerminal(out) && os.Getenv("NO_COLOR") == ""
	if err := write(out, res.Report, color); err != nil {
		return err
	}
	switch {
	case res.Report.Summary.Errors > 0:
		return &exitError{exitUsage}
	case res.Report.Summary.Deny > 0:
		return &exitError{exitDeny}
	}
	return nil
}

type reportWriter func(w io.Writer, r *report.Report, color bool) error

func writer(format string) (reportWriter, error) {
	switch format {
	case "text":
		return func(w io.Writer, r *report.Report, color bool) error {
			return report.WriteText(w, r, report.TextOptions{Color: color})
		}, nil
	case "json":
		return func(w io.Writer, r *report.Report, _ bool) error { return report.WriteJSON(w, r) }, nil
	case "junit":
		return func(w io.Writer, r *report.Report, _ bool) error { return report.WriteJUnit(w, r) }, nil
	case "sarif":
		return func(w io.Writer, r *report.Report, _ bool) error { return report.WriteSARIF(w, r) }, nil
	case "github":
		return func(w io.Writer, r *report.Report, _ bool) error { return report.WriteGitHub(w, r) }, nil
	}
	return nil, fmt.Errorf("unknown output format %q: use text, json, junit, sarif or github", format)
}

// printFixed writes every input file, fixed where a mutation applied, as one
// stream; several files are separated by document markers and named in a comment.
func printFixed(w io.Writer, files []*manifest.File) error {
	for i, file := range files {
		b, err := file.Bytes()
		if err != nil {
			return err
		}
		if len(files) > 1 {
			if i > 0 {
				if _, err := io.WriteString(w, "---\n"); err != nil {
					return err
				}
			}
			if _, err := fmt.Fprintf(w, "# Source: %s\n", file.Path); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFixed(log io.Writer, dir string, files []*manifest.File) error {
	for _, file := range files {
		if !file.Changed() {
			continue
		}
		b, err := file.Bytes()
		if err != nil {
			return err
		}
		rel := file.Path
		if rel == check.StdinName {
			rel = "stdin.yaml"
		}
		rel = strings.TrimLeft(filepath.Clean("/"+rel), "/")
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write fix: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return fmt.Errorf("write fix: %w", err)
		}
		fmt.Fprintf(log, "fixed %s\n", dst)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
