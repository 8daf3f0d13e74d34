package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kgate-dev/kgate/policies/audit"
	"github.com/kgate-dev/kgate/policies/report"
)

type auditFlags struct {
	engine     engineFlags
	kubeconfig string
	context    string
	namespace  string
	rules      []string
	kinds      []string
	output     string
	passes     bool
	noColor    bool
	pageSize   int64
}

func newAuditCommand() *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit the objects of a live cluster (read-only)",
		Long: `Evaluate every object of a live cluster that a rule covers, with the same engine
and configuration as the webhook: operation AUDIT (objects are judged as if they
were created now), the cluster's objects as the inventory of referential rules,
and namespace labels and annotations for scoped settings and exemptions.

Objects are listed in pages (--page-size) and evaluated page by page. Output
formats are those of kgate check; findings name the object as
namespace/<ns>/<kind>/<name> or cluster/<kind>/<name>. The text output ends with a
summary by namespace and by rule, and a progress line is shown on a terminal.

The audit needs only read access: get and list of the kinds the rules cover (see
docs/audit.md for a ClusterRole). Kinds the cluster does not serve are skipped.

Exit status as kgate check: 0 when no finding has action deny, 1 when one has, 2
on an error (unreachable cluster, a kind that cannot be listed).`,
		Example: `  kgate audit
  kgate audit --namespace genai --config kgate.yaml
  kgate audit --rule NETPOL-001 --rule STORAGE-001 -o json > audit.json
  kgate audit --kind NodePool --context prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAudit(cmd, &f) },
	}
	fl := cmd.Flags()
	f.engine.register(fl, true)
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig `CONTEXT` to use (default: the current one)")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "audit only this namespace's objects (and the Namespace itself)")
	fl.StringArrayVar(&f.rules, "rule", nil, "report only this rule `ID` (repeatable)")
	fl.StringArrayVar(&f.kinds, "kind", nil, "audit only objects of this `KIND` (repeatable), e.g. NodePool")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, json, junit, sarif or github")
	fl.BoolVar(&f.passes, "passes", false, "also list the rules each object passed")
	fl.BoolVar(&f.noColor, "no-color", false, "never colour the text output")
	fl.Int64Var(&f.pageSize, "page-size", 500, "objects per list request")
	return cmd
}

func runAudit(cmd *cobra.Command, f *auditFlags) error {
	write, err := writer(f.output)
	if err != nil {
		return err
	}
	e, err := f.engine.build(cmd)
	if err != nil {
		return err
	}
	for _, id := range f.rules {
		if _, ok := e.Rule(id); !ok {
			return fmt.Errorf("--rule %s: no such rule (kgate policies lists them)", id)
		}
	}
	loading := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		loading.ExplicitPath = f.kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loading, &clientcmd.ConfigOverrides{CurrentContext: f.context}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	stderr := cmd.ErrOrStderr()
	opts := audit.Options{Namespace: f.namespace, Rules: f.rules, Kinds: f.kinds, PageSize: f.pageSize, Passes: f.passes}
	if isTerminal(stderr) {
		opts.Progress = func(kind string, done, total, objects int) {
			fmt.Fprintf(stderr, "\r\033[Kaudit: %d/%d kinds (%s), %d objects", done, total, kind, objects)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	rep, err := audit.Run(cmd.Context(), cfg, e, opts)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	color := !f.noColor && isTerminal(out) && os.Getenv("NO_COLOR") == ""
	if err := write(out, rep, color); err != nil {
		return err
	}
	if f.output == "text" && len(rep.Findings) > 0 {
		writeAuditSummary(out, rep)
	}
	switch {
	case rep.Summary.Errors > 0:
		return &exitError{exitUsage}
	case rep.Summary.Deny > 0:
		return &exitError{exitDeny}
	}
	return nil
}

// writeAuditSummary counts findings by namespace and by rule, by action.
func writeAuditSummary(w io.Writer, rep *report.Report) {
	type counts map[string]int
	byNS, byRule := map[string]counts{}, map[string]counts{}
	for _, f := range rep.Findings {
		ns := f.Namespace
		if ns == "" {
			ns = "(cluster-scoped)"
		}
		for _, m := range []struct {
			table map[string]counts
			key   string
		}{{byNS, ns}, {byRule, f.Rule}} {
			if m.table[m.key] == nil {
				m.table[m.key] = counts{}
			}
			m.table[m.key][string(f.Action)]++
		}
	}
	table := func(title string, t map[string]counts) {
		fmt.Fprintf(w, "\nby %s:\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  \tdeny\twarn\tmutate\taudit\texempted")
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := t[k]
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\n", k, c["deny"], c["warn"], c["mutate"], c["audit"], c["exempted"])
		}
		tw.Flush()
	}
	table("namespace", byNS)
	table("rule", byRule)
}
