package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bookConfig tunes rules the way a platform team would: scoped by a namespace
// label and by namespace name, with one rule off.
const bookConfig = `apiVersion: kgate.dev/v1alpha1
kind: Config
rules:
  COMPUTE-001:
    action: warn
    overrides:
    - namespaceSelector: {matchLabels: {kgate.dev/genai: "true"}}
      action: deny
  NET-005:
    action: warn
  COST-001:
    action: off
  IMAGE-001:
    overrides:
    - namespaces: [default]
      action: audit
`

// bookNamespace is the namespace the book's objects land in, with the label the
// configuration scopes by; it is part of the manifest set kgate check reads.
const bookNamespace = `apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels: {kgate.dev/genai: "true"}
`

// TestConfiguredWebhook runs kgate serve with a configuration file and a user
// policy directory, both watched.
func TestConfiguredWebhook(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kgate.yaml")
	writeFile(t, cfg, bookConfig)
	policiesDir := filepath.Join(dir, "policies")
	writeFile(t, filepath.Join(policiesDir, "team", "team_label.rego"), teamRule("deny"))
	if err := c.StopKgate(); err != nil {
		t.Fatal(err)
	}
	c.ServeArgs = []string{"--config", cfg, "--policies", policiesDir, "--reload-interval", "300ms",
		"--audit-interval", "2s", "--audit-max-results", "5"}
	if err := c.StartKgate(); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := c.kubectl(bookNamespace, "apply", "-f", "-"); err != nil {
		t.Fatalf("label namespace: %v\n%s", err, stderr)
	}
	t.Run("kgate check and kubectl apply --dry-run=server report the same findings", func(t *testing.T) {
		sameFindings(t, c, cfg, policiesDir)
	})
	t.Run("the in-cluster audit writes bounded OpenReports reports", func(t *testing.T) {
		inClusterReports(t, c, cfg, policiesDir)
	})
	t.Run("kgate audit reports the stored objects with the same configuration", func(t *testing.T) {
		auditCluster(t, c, cfg, policiesDir)
	})
	t.Run("an exempted object is admitted and the exemption is logged with its reason", func(t *testing.T) {
		exempted := strings.Replace(teamPod, "metadata: {name: probe, namespace: default}",
			"metadata:\n  name: exempted\n  namespace: default\n  annotations: {kgate.dev/exempt: TEAM-001, kgate.dev/exempt-reason: \"batch import owned by the data team\"}", 1)
		if _, stderr, err := c.kubectl(exempted, "create", "--dry-run=server", "-f", "-"); err != nil {
			t.Fatalf("an exempted Pod must be admitted: %v\n%s", err, stderr)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !exemptionLogged(c.Logs.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("no exemption log line with rule and reason:\n%s", c.Logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("a changed policy is enforced without restart; a broken one keeps the last good set", func(t *testing.T) {
		hotReload(t, c, policiesDir)
	})
	t.Run("generation switched on by a configuration change creates and restores default-deny policies", func(t *testing.T) {
		generation(t, c, cfg)
	})
	t.Run("a deleted default-deny policy is reflected by the next admission at once", func(t *testing.T) {
		staleCache(t, c)
	})
}

// staleCache deletes a namespace's default-deny policy and at once creates a
// workload there: the warning must come, with the age of the state it saw.
func staleCache(t *testing.T, c *cluster) {
	for _, m := range []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: stale}\n",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-ingress, namespace: stale}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
	} {
		if _, stderr, err := c.kubectl(m, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
	}
	deploy := strings.ReplaceAll(strings.ReplaceAll(teamPod, "name: probe, namespace: default", "name: fresh, namespace: stale, labels: {team: ml}"), "image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app:1.0", "image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app@sha256:0d2f1e5c1a7ad8c0a1c3e9b4d8e6c0f5b2a7c9d1e3f5a7b9c1d3e5f7a9b1c3d5")
	waitUntil(t, 10*time.Second, "the policy to protect namespace stale", func() bool {
		_, stderr, _ := c.kubectl(deploy, "create", "--dry-run=server", "-f", "-")
		return !strings.Contains(stderr, "NETPOL-001")
	})
	if _, stderr, err := c.kubectl("", "delete", "networkpolicy", "default-deny-ingress", "-n", "stale"); err != nil {
		t.Fatalf("delete: %v\n%s", err, stderr)
	}
	_, stderr, err := c.kubectl(deploy, "create", "--dry-run=server", "-f", "-")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "Warning: NETPOL-001") || !strings.Contains(stderr, "cluster state read") {
		t.Errorf("right after the delete, creating a Pod must warn NETPOL-001 with the state's age; kubectl said:\n%s", stderr)
	}
}

// teamRule is a user policy: Pods need a team label; action is its default.
func teamRule(action string) string {
	return `# METADATA
# title: Pods carry a team label
# custom:
#   id: TEAM-001
#   severity: medium
#   kinds: [Pod]
#   default_action: ` + action + `
package kgate.rules.team.label

import data.kgate.lib

violation contains {"msg": "the Pod has no team label", "path": "/metadata/labels", "fix": "add the label team"} if {
	not lib.labels.team
}
`
}

const teamPod = `apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default}
spec:
  containers:
  - name: main
    image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app:1.0
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
`

func hotReload(t *testing.T, c *cluster, policiesDir string) {
	file := filepath.Join(policiesDir, "team", "team_label.rego")
	teamVerdict := func() string {
		_, stderr, err := c.kubectl(teamPod, "create", "--dry-run=server", "-f", "-")
		switch {
		case err != nil && strings.Contains(stderr, "TEAM-001"):
			return "deny"
		case strings.Contains(stderr, "Warning: TEAM-001"):
			return "warn"
		case err != nil:
			t.Fatalf("dry run: %v\n%s", err, stderr)
		}
		return "none"
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := teamVerdict()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("TEAM-001 verdict %s, want %s\nkgate serve logs:\n%s", got, want, c.Logs.String())
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitFor("deny")
	writeFile(t, file, teamRule("warn"))
	waitFor("warn")
	writeFile(t, file, teamRule("warn")+"\nviolation contains if {\n") // broken
	time.Sleep(2 * time.Second)
	if got := teamVerdict(); got != "warn" {
		t.Errorf("after a broken change TEAM-001 verdict is %s, want the last good warn", got)
	}
	logs := c.Logs.String()
	if !strings.Contains(logs, "policy reload rejected") || !strings.Contains(logs, "team_label.rego:") {
		t.Errorf("a rejected reload must be logged with file:line; logs:\n%s", logs)
	}
	events, _, _ := c.kubectl("", "get", "events", "-A", "--field-selector", "reason=PolicyReloadFailed", "-o", "name")
	if strings.TrimSpace(events) == "" {
		t.Error("a rejected reload must be reported as a PolicyReloadFailed Event")
	}
	writeFile(t, file, teamRule("deny"))
	waitFor("deny")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exemptionLogged finds the webhook's log line for the exempted Pod: rule,
// reason and the action it would have had.
func exemptionLogged(logs string) bool {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"exempted"`) && strings.Contains(l, `"rule":"TEAM-001"`) &&
			strings.Contains(l, `"reason":"batch import owned by the data team"`) && strings.Contains(l, `"wouldBe":"deny"`) {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// generation checks that kgate serve creates the default-deny-ingress policy of
// the namespaces its configuration selects, recreates it when deleted, and
// leaves alone a policy of that name it did not create.
func generation(t *testing.T, c *cluster, cfg string) {
	for _, ns := range []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: gen-a, labels: {kgate.dev/default-deny: \"true\"}}\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: gen-b, labels: {kgate.dev/default-deny: \"true\"}}\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: gen-c}\n",
		// gen-b already has a policy of that name, written by its team.
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-ingress, namespace: gen-b}\nspec:\n  podSelector: {matchLabels: {app: legacy}}\n  policyTypes: [Ingress]\n",
	} {
		if _, stderr, err := c.kubectl(ns, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
	}
	managed := func(ns string) (string, bool) {
		out, _, err := c.kubectl("", "get", "networkpolicy", "default-deny-ingress", "-n", ns, "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by} {.metadata.uid}")
		return strings.TrimSpace(out), err == nil
	}
	if _, ok := managed("gen-a"); ok {
		t.Fatal("a policy exists in gen-a while generation is off")
	}
	writeFile(t, cfg, bookConfig+`  NETPOL-001:
    params: {protectDelete: false}
generate:
  defaultDenyIngress:
    enabled: true
    namespaceSelector: {matchLabels: {kgate.dev/default-deny: "true"}}
`)
	waitUntil(t, 20*time.Second, "kgate to create default-deny-ingress in gen-a", func() bool {
		out, ok := managed("gen-a")
		return ok && strings.HasPrefix(out, "kgate ")
	})
	first, _ := managed("gen-a")
	if _, stderr, err := c.kubectl("", "delete", "networkpolicy", "default-deny-ingress", "-n", "gen-a"); err != nil {
		t.Fatalf("delete: %v\n%s", err, stderr)
	}
	waitUntil(t, 20*time.Second, "kgate to recreate the deleted policy", func() bool {
		out, ok := managed("gen-a")
		return ok && strings.HasPrefix(out, "kgate ") && out != first
	})
	if out, _ := managed("gen-b"); strings.HasPrefix(out, "kgate ") {
		t.Error("kgate took over the policy gen-b's team wrote")
	}
	sel, _, _ := c.kubectl("", "get", "networkpolicy", "default-deny-ingress", "-n", "gen-b", "-o", "jsonpath={.spec.podSelector.matchLabels.app}")
	if strings.TrimSpace(sel) != "legacy" {
		t.Errorf("kgate changed the policy it did not create: podSelector app=%q", sel)
	}
	if _, ok := managed("gen-c"); ok {
		t.Error("a namespace outside the selector got a policy")
	}
}
