package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

// writeRulesMarkdown renders docs/rules.md from the rules' METADATA, so the
// reference cannot drift from the policies (a test compares the two).
func writeRulesMarkdown(w io.Writer, rules []*policies.Rule, params map[string]any, docs map[string]map[string]any) error {
	var b strings.Builder
	b.WriteString("# kgate rules\n\n")
	b.WriteString("Generated from the rules' METADATA by `make docs` (`kgate policies -o markdown`); do not edit.\n")
	b.WriteString("`kgate explain RULE-ID` prints the same explanation with the findings of the bad example.\n\n")
	b.WriteString("| ID | Title | Default action | Severity | Kinds |\n|---|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s%s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Title, r.DefaultAction, map[bool]string{true: " (audit-only)"}[r.AuditOnly], r.Severity, strings.Join(r.Kinds, ", "))
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s: %s\n\n", strings.ToLower(r.ID), r.ID, r.Title)
		b.WriteString(r.Description + "\n\n")
		if r.Why != "" {
			b.WriteString("**Why it matters.** " + strings.Join(strings.Fields(r.Why), " ") + "\n\n")
		}
		fmt.Fprintf(&b, "- Default action: `%s`; severity: `%s`\n", r.DefaultAction, r.Severity)
		if r.AuditOnly {
			b.WriteString("- Audit-only: reported by `kgate check` and audits, never blocks or patches at admission\n")
		}
		fmt.Fprintf(&b, "- Kinds: %s\n", strings.Join(r.Kinds, ", "))
		if r.Referential {
			fmt.Fprintf(&b, "- Referential: reads %s from the inventory\n", orNone(r.Inventory))
		}
		if r.Mutates() {
			b.WriteString("- Mutates: yes\n")
		}
		fmt.Fprintf(&b, "- Source: `%s` (package `%s`)\n", r.File, strings.TrimPrefix(r.Package, "data."))
		if len(r.Params)+len(r.Reads) > 0 {
			b.WriteString("\n| Parameter | Default | Schema | Description |\n|---|---|---|---|\n")
			for _, n := range slices.Sorted(maps.Keys(r.Params)) {
				paramRow(&b, n, r.Params[n], docs[n], "")
			}
			for _, n := range r.Reads {
				paramRow(&b, n, params[n], docs[n], " (global)")
			}
		}
		if r.Examples.Bad != "" {
			fmt.Fprintf(&b, "\nReported:\n\n```yaml\n%s\n```\n", strings.TrimSpace(r.Examples.Bad))
		}
		if r.Examples.Good != "" {
			fmt.Fprintf(&b, "\nAccepted:\n\n```yaml\n%s\n```\n", strings.TrimSpace(r.Examples.Good))
		}
	}
	b.WriteString("\n## Global parameters\n\nDeclared by the shared library and read by several rules:\n\n")
	b.WriteString("| Parameter | Default | Schema | Description |\n|---|---|---|---|\n")
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
		paramRow(&b, n, params[n], docs[n], "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func paramRow(b *strings.Builder, name string, def any, schema map[string]any, note string) {
	v, _ := json.Marshal(def)
	desc, _ := schema["description"].(string)
	rest := map[string]any{}
	for k, x := range schema {
		if k != "description" {
			rest[k] = x
		}
	}
	sch, _ := json.Marshal(rest)
	fmt.Fprintf(b, "| `%s`%s | `%s` | `%s` | %s |\n", name, note, cell(string(v)), cell(string(sch)), cell(desc))
}

// cell escapes the characters that would end a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
