package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/check"
)

func newExplainCommand() *cobra.Command {
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "explain RULE-ID",
		Short: "Explain a rule: what it checks, why it matters, its parameters and examples",
		Long: `Explain one rule: what it checks and changes, why the practice matters (its cost or
network effect), the parameters that tune it with their defaults, and a manifest it
reports next to one it accepts. The bad example is evaluated on the spot, so the
findings shown are exactly what kgate check and the webhook report for it.`,
		Example: `  kgate explain EFA-001
  kgate explain storage-001 --params params.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := ef.build(cmd)
			if err != nil {
				return err
			}
			id := strings.ToUpper(args[0])
			r, ok := e.Rule(id)
			if !ok {
				return fmt.Errorf("no rule %s: `kgate policies` lists the loaded rules", args[0])
			}
			return explain(cmd, e, r)
		},
	}
	ef.register(cmd.Flags(), true)
	return cmd
}

func explain(cmd *cobra.Command, e *policies.Engine, r *policies.Rule) error {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s: %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "Default action: %s%s. Severity: %s.\n", r.DefaultAction, auditOnlyNote(r), r.Severity)
	fmt.Fprintf(w, "Evaluates: %s.\n", strings.Join(r.Kinds, ", "))
	if r.Referential {
		fmt.Fprintf(w, "Reads other objects: %s.\n", orNone(r.Inventory))
	}
	if r.Mutates() {
		fmt.Fprintln(w, "Mutates: yes (the webhook patches the object; kgate check --fix writes the fix).")
	}
	section(w, "What it checks", r.Description)
	section(w, "Why it matters", r.Why)
	writeParams(w, e, r)
	if r.Examples.Bad != "" {
		section(w, "Reported (bad example)", r.Examples.Bad)
		if err := writeExampleFindings(cmd, w, e, r); err != nil {
			return err
		}
	}
	if r.Examples.Good != "" {
		section(w, "Accepted (good example)", r.Examples.Good)
	}
	fmt.Fprintf(w, "\nSource: %s\n", r.File)
	for _, rel := range r.Related {
		fmt.Fprintf(w, "More: %s\n", rel)
	}
	return nil
}

func auditOnlyNote(r *policies.Rule) string {
	if r.AuditOnly {
		return " (audit-only: reported by kgate check and audits, never blocks admission)"
	}
	return ""
}

func section(w io.Writer, title, body string) {
	body = strings.TrimSpace(body)
	if body == "" {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	for _, line := range strings.Split(body, "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func writeParams(w io.Writer, e *policies.Engine, r *policies.Rule) {
	own := slices.Sorted(maps.Keys(r.Params))
	if len(own)+len(r.Reads) == 0 {
		return
	}
	fmt.Fprintln(w, "\nParameters (current value)")
	docs := e.ParamSchemas()
	line := func(name, scope string) {
		v, _ := json.Marshal(e.Params()[name])
		fmt.Fprintf(w, "  %s = %s%s\n", name, v, scope)
		if d, ok := docs[name]["description"].(string); ok && d != "" {
			fmt.Fprintf(w, "      %s\n", d)
		}
	}
	for _, n := range own {
		line(n, "")
	}
	for _, n := range r.Reads {
		line(n, "  (global)")
	}
}

// writeExampleFindings evaluates the bad example with the engine and prints the
// rule's findings on it, so the explanation shows real output, not prose.
func writeExampleFindings(cmd *cobra.Command, w io.Writer, e *policies.Engine, r *policies.Rule) error {
	res, err := check.Run(cmd.Context(), e, check.Options{Paths: []string{"-"}, Stdin: strings.NewReader(r.Examples.Bad)})
	if err != nil {
		return fmt.Errorf("evaluate the bad example of %s: %w", r.ID, err)
	}
	var lines []string
	for _, f := range res.Report.Findings {
		if f.Rule != r.ID {
			continue
		}
		l := fmt.Sprintf("  -> %s %s at %s: %s", f.Action, f.Rule, f.Path, f.Message)
		if f.Fix != "" {
			l += "; fix: " + f.Fix
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		fmt.Fprintln(w, "\n  kgate reports:")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
