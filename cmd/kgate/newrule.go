package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

func newNewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Scaffold policy files",
	}
	cmd.AddCommand(newNewRuleCommand())
	return cmd
}

type ruleScaffold struct {
	Name, Snake, Family, ID, Package string
	Kinds                            []string
}

func newNewRuleCommand() *cobra.Command {
	var (
		dir, family, id string
		kinds           []string
	)
	cmd := &cobra.Command{
		Use:   "rule NAME",
		Short: "Scaffold a rule package with METADATA and a passing test",
		Long: `Write DIR/FAMILY/NAME.rego and DIR/FAMILY/NAME_test.rego: a rule that follows the
kgate rule contract (docs/policy-contract.md) and tests for its violation and its
pass. The rule requires a label named by its parameter; replace the logic with
yours and keep the tests green with kgate test DIR.`,
		Example: `  kgate new rule gpu-team-label --id TEAM-001 --kinds Pod,Deployment,Job
  kgate test policies/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(name) {
				return fmt.Errorf("rule name %q: use lower-case letters, digits and dashes, e.g. gpu-team-label", name)
			}
			if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(family) {
				return fmt.Errorf("family %q: use lower-case letters, digits and underscores", family)
			}
			if !regexp.MustCompile(`^[A-Z][A-Z0-9]*-[0-9]{3}$`).MatchString(id) {
				return fmt.Errorf("rule id %q: use a prefix and three digits, e.g. TEAM-001", id)
			}
			s := ruleScaffold{Name: name, Snake: strings.ReplaceAll(name, "-", "_"), Family: family, ID: id, Kinds: kinds}
			s.Package = "kgate.rules." + family + "." + s.Snake
			base := filepath.Join(dir, family, s.Snake)
			files := map[string]*template.Template{base + ".rego": ruleTemplate, base + "_test.rego": testTemplate}
			for path := range files {
				if _, err := os.Stat(path); err == nil {
					return fmt.Errorf("%s exists: choose another name or remove it", path)
				} else if !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			if err := os.MkdirAll(filepath.Join(dir, family), 0o755); err != nil {
				return err
			}
			for _, path := range []string{base + ".rego", base + "_test.rego"} {
				var b bytes.Buffer
				if err := files[path].Execute(&b, s); err != nil {
					return err
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write %s: %w", path, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", path)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "next: kgate test %s && kgate check --policies %s <manifests>\n", dir, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "policies", "policy `DIR` to write into (the one you pass to --policies)")
	cmd.Flags().StringVar(&family, "family", "custom", "rule family: the package is kgate.rules.FAMILY.NAME")
	cmd.Flags().StringVar(&id, "id", "CUSTOM-001", "rule `ID`, unique across all loaded policies")
	cmd.Flags().StringSliceVar(&kinds, "kinds", []string{"Pod", "Deployment", "StatefulSet", "Job"}, "object kinds the rule evaluates")
	return cmd
}

var ruleTemplate = template.Must(template.New("rule").Parse(`# METADATA
# title: Objects carry a required label
# description: |
#   Describe what the rule checks and what the user must change.
# custom:
#   id: {{.ID}}
#   severity: medium
#   kinds: [{{range $i, $k := .Kinds}}{{if $i}}, {{end}}{{$k}}{{end}}]
#   default_action: warn
#   why: |
#     Say what the practice saves or protects.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: trainer, namespace: ml}
#       spec:
#         containers: [{name: main, image: trainer:1.0}]
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: trainer, namespace: ml, labels: {team: ml-platform}}
#       spec:
#         containers: [{name: main, image: trainer:1.0}]
#   params:
#     requiredLabel: team
#   schema:
#     requiredLabel: {type: string, minLength: 1, description: "label every object must carry"}
package {{.Package}}

import data.kgate.lib

# applies tells reports that the object is in scope (a pass, not "not applicable").
applies if not lib.exempt_namespace

violation contains {
	"msg": sprintf("%s %q has no %q label", [lib.kind, input.name, lib.params.requiredLabel]),
	"path": "/metadata/labels",
	"fix": sprintf("add the label %s: <value>", [lib.params.requiredLabel]),
} if {
	applies
	not lib.labels[lib.params.requiredLabel]
}
`))

var testTemplate = template.Must(template.New("test").Parse(`package {{.Package}}_test

import data.kgate.lib.testing
import data.{{.Package}} as rule

pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "trainer", "namespace": "ml"},
	"spec": {"containers": [{"name": "main", "image": "trainer:1.0"}]},
}

test_missing_label_is_reported if {
	[v] := [v | some v in rule.violation with input as testing.review(pod)]
	v.path == "/metadata/labels"
}

test_labelled_pod_passes if {
	labelled := json.patch(pod, [{"op": "add", "path": "/metadata/labels", "value": {"team": "ml-platform"}}])
	rule.applies with input as testing.review(labelled)
	count(rule.violation) == 0 with input as testing.review(labelled)
}

test_label_name_is_a_parameter if {
	labelled := json.patch(pod, [{"op": "add", "path": "/metadata/labels", "value": {"owner": "ml-platform"}}])
	count(rule.violation) == 0 with input as testing.review_with(labelled, {"requiredLabel": "owner"})
}
`))
