package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

// writeRulesMarkdown renders docs/rules.md from the rules' METADATA, so the
// reference cannot drift from the policies (a test compares the two).
func writeRulesMarkdown(w io.Writer, rules []*policies.Rule, params map[string]any) error {
	var b strings.Builder
	b.WriteString("# kgate rules\n\n")
	b.WriteString("Generated from the rules' METADATA by `make docs` (`kgate policies -o markdown`); do not edit.\n\n")
	b.WriteString("| ID | Title | Default action | Severity | Kinds |\n|---|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Title, r.DefaultAction, r.Severity, strings.Join(r.Kinds, ", "))
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s: %s\n\n", strings.ToLower(r.ID), r.ID, r.Title)
		b.WriteString(r.Description + "\n\n")
		fmt.Fprintf(&b, "- Default action: `%s`; severity: `%s`\n", r.DefaultAction, r.Severity)
		fmt.Fprintf(&b, "- Kinds: %s\n", strings.Join(r.Kinds, ", "))
		if len(r.Inventory) > 0 {
			fmt.Fprintf(&b, "- Reads other objects: %s\n", strings.Join(r.Inventory, ", "))
		}
		if r.Mutates() {
			b.WriteString("- Mutates: yes\n")
		}
		fmt.Fprintf(&b, "- Source: `%s` (package `%s`)\n", r.File, strings.TrimPrefix(r.Package, "data."))
		if len(r.Params) > 0 {
			b.WriteString("\nParameters (default):\n\n")
			names := make([]string, 0, len(r.Params))
			for n := range r.Params {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				v, _ := json.Marshal(r.Params[n])
				fmt.Fprintf(&b, "- `%s`: `%s`\n", n, v)
			}
		}
	}
	b.WriteString("\n## Global parameters\n\nDeclared by the shared library and read by several rules (default):\n\n")
	own := map[string]bool{}
	for _, r := range rules {
		for n := range r.Params {
			own[n] = true
		}
	}
	var names []string
	for n := range params {
		if !own[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		v, _ := json.Marshal(params[n])
		fmt.Fprintf(&b, "- `%s`: `%s`\n", n, v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
