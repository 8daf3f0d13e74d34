package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newPoliciesCommand() *cobra.Command {
	var (
		ef     engineFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "List the loaded rules: ID, title, kinds, default action, severity",
		Long: `List every rule kgate loads: the built-in library and the directories given with
--policies. Use -o json for the full metadata, including parameters and defaults,
and -o markdown for the reference in docs/rules.md.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := ef.build(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"rules": e.Rules(), "params": e.Params(), "schemas": e.ParamSchemas()})
			}
			if output == "markdown" {
				return writeRulesMarkdown(out, e.Rules(), e.Params(), e.ParamSchemas())
			}
			if output != "text" {
				return fmt.Errorf("unknown output format %q: use text, json or markdown", output)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACTION\tSEVERITY\tKINDS\tTITLE")
			for _, r := range e.Rules() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.DefaultAction, r.Severity, kindsLabel(r.Kinds), r.Title)
			}
			return tw.Flush()
		},
	}
	ef.register(cmd.Flags(), true)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or markdown")
	return cmd
}

func kindsLabel(kinds []string) string {
	if len(kinds) > 4 {
		return strings.Join(kinds[:3], ",") + fmt.Sprintf(",+%d", len(kinds)-3)
	}
	return strings.Join(kinds, ",")
}
