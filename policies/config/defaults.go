package config

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

// WriteDefault writes the complete default configuration of the loaded rules, with
// a comment on every field. Applying it changes nothing, so it is a safe start
// for editing.
func WriteDefault(w io.Writer, e *policies.Engine) error {
	var b strings.Builder
	docs := e.ParamSchemas()
	params := e.Params()
	comment := func(indent, text string) {
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			fmt.Fprintf(&b, "%s# %s\n", indent, l)
		}
	}
	value := func(v any) string {
		j, _ := json.Marshal(v) // JSON is valid YAML flow style
		return string(j)
	}
	param := func(indent, name string, v any) {
		if d, ok := docs[name]["description"].(string); ok {
			comment(indent, d)
		}
		fmt.Fprintf(&b, "%s%s: %s\n", indent, name, value(v))
	}

	b.WriteString(`# kgate configuration. The same file drives kgate check --config, kgate audit and
# the webhook (mounted from a ConfigMap). Reference: docs/configuration.md.
# This is the default: applying it changes nothing.
`)
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\n\n", APIVersion, Kind)
	comment("", "dryRun: true turns every deny into a warning; the webhook logs what it would have denied.")
	b.WriteString("dryRun: false\n\n")
	comment("", "Namespaces no rule applies to (the global parameter exemptNamespaces).")
	fmt.Fprintf(&b, "exemptNamespaces: %s\n\n", value(params["exemptNamespaces"]))

	ruleParams := map[string]string{}
	for _, r := range e.Rules() {
		for name := range r.Params {
			if _, seen := ruleParams[name]; !seen {
				ruleParams[name] = r.ID
			}
		}
	}
	comment("", "Global parameters, read by several rules. Any parameter may also be set here.")
	b.WriteString("params:\n")
	for _, name := range sortedKeys(params) {
		if _, ofRule := ruleParams[name]; ofRule || name == "exemptNamespaces" {
			continue
		}
		param("  ", name, params[name])
	}

	b.WriteString("\n")
	comment("", `Exemptions: an object (or its Namespace) annotated kgate.dev/exempt: "RULE-ID[,RULE-ID]"
with kgate.dev/exempt-reason (and optionally kgate.dev/exempt-until: YYYY-MM-DD, the last
day it applies) is reported as exempted instead of denied, warned or patched.`)
	b.WriteString("exemptions:\n")
	comment("  ", "false ignores exemption annotations altogether.")
	b.WriteString("  annotations: true\n")
	comment("  ", "When not empty, only these rules may be exempted.")
	b.WriteString("  rules: []\n\n")

	comment("", `Generation: kgate serve creates the default-deny ingress NetworkPolicy of NETPOL-001
(named by the parameter defaultDenyName, labelled app.kubernetes.io/managed-by: kgate) in every
namespace the selector matches and outside exemptNamespaces, and recreates it if it is deleted
while generation is on. It never changes or deletes a policy it did not create.`)
	b.WriteString("generate:\n  defaultDenyIngress:\n    enabled: false\n")
	comment("    ", "Empty selects every namespace; e.g. {matchLabels: {kgate.dev/genai: \"true\"}}.")
	b.WriteString("    namespaceSelector: {}\n\n")

	comment("", `Per rule: action deny | warn | mutate (rules that patch) | audit | off, the rule's
parameters, and overrides by namespace name or namespace label selector, e.g.
  overrides:
  - namespaceSelector: {matchLabels: {kgate.dev/genai: "true"}}
    action: deny`)
	b.WriteString("rules:\n")
	for _, r := range e.Rules() {
		actions := "deny | warn | audit | off"
		if r.Mutates() {
			actions = "mutate | deny | warn | audit | off"
		}
		if r.AuditOnly {
			actions = "audit | off (audit-only rule)"
		}
		comment("  ", fmt.Sprintf("%s: %s. Actions: %s.", r.ID, r.Title, actions))
		fmt.Fprintf(&b, "  %s:\n    action: %s\n", r.ID, r.DefaultAction)
		var own []string
		for _, name := range sortedKeys(r.Params) {
			if ruleParams[name] == r.ID {
				own = append(own, name)
			} else {
				comment("    ", fmt.Sprintf("%s is shared with %s and set there.", name, ruleParams[name]))
			}
		}
		if len(own) > 0 {
			b.WriteString("    params:\n")
			for _, name := range own {
				param("      ", name, params[name])
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
