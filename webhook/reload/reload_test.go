package reload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/webhook"
)

const teamRule = `# METADATA
# title: Pods carry a team label
# custom:
#   id: TEAM-001
#   severity: low
#   kinds: [Pod]
#   default_action: deny
package kgate.rules.team.label

import data.kgate.lib

violation contains {"msg": "no team label", "path": "/metadata/labels", "fix": "add a team label"} if {
	not lib.labels.team
}
`

func TestReloadKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "team.rego")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(teamRule)
	ctx := context.Background()
	load := func(ctx context.Context) (*policies.Engine, error) {
		return policies.New(ctx, policies.Options{PolicyDirs: []string{dir}})
	}
	first, err := load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var failures []error
	r := &Reloader{Paths: []string{dir}, Load: load, Target: webhook.NewSwappable(first), Log: logr.Discard(), Metrics: m,
		OnFailure: func(err error) { failures = append(failures, err) }}
	r.last, _ = fingerprint(r.Paths)

	r.Check(ctx)
	if r.Target.Engine() != first {
		t.Fatal("an unchanged directory must not reload")
	}

	write(strings.Replace(teamRule, "default_action: deny", "default_action: warn", 1))
	r.Check(ctx)
	second := r.Target.Engine()
	if second == first {
		t.Fatal("a changed policy must be reloaded")
	}
	if rule, _ := second.Rule("TEAM-001"); rule.DefaultAction != policies.ActionWarn {
		t.Errorf("reloaded rule action = %s, want warn", rule.DefaultAction)
	}

	write(teamRule + "\nviolation contains if {\n") // syntax error
	r.Check(ctx)
	r.Check(ctx) // reported once, not on every poll
	if r.Target.Engine() != second {
		t.Error("a broken policy replaced the last good set")
	}
	if len(failures) != 1 || !strings.Contains(failures[0].Error(), "team.rego:") {
		t.Errorf("want one failure naming team.rego:<line>, got %v", failures)
	}
	if got := testutil.ToFloat64(m.healthy); got != 0 {
		t.Errorf("healthy = %v after a rejected reload, want 0", got)
	}
	if got := testutil.ToFloat64(m.reloads.WithLabelValues("failure")); got != 1 {
		t.Errorf("failure count = %v, want 1", got)
	}

	write(teamRule)
	r.Check(ctx)
	if r.Target.Engine() == second || testutil.ToFloat64(m.healthy) != 1 {
		t.Error("a fixed policy must be reloaded and mark the set healthy")
	}
}
