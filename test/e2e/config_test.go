package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgate-dev/kgate/policies/manifest"
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

// sameFindings applies the book's objects of the kinds referential rules read
// (so the webhook's inventory and kgate check's see the same objects), then sends
// every other object through the webhook with a server dry run and compares the
// rules that deny, warn and mutate with kgate check's on the same set.
func sameFindings(t *testing.T, c *cluster, cfg, policiesDir string) {
	book := bookDir(t)
	inventoryKinds := inventoryKinds(t, c.bin)
	set := t.TempDir()
	writeFile(t, filepath.Join(set, "00-namespace.yaml"), bookNamespace)
	type object struct {
		file string
		doc  *manifest.Document
	}
	var probes []object
	source := map[*manifest.Document]string{}
	files, _ := filepath.Glob(filepath.Join(book, "*.yaml"))
	slices.Sort(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f := manifest.Parse(file, data)
		if len(f.Errors) > 0 {
			continue
		}
		var kept []string
		for _, d := range f.Docs {
			b, err := json.Marshal(d.Object) // JSON is YAML to kubectl and kgate check
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			if inventoryKinds[d.Kind()] && d.Kind() != "Namespace" {
				// Context: stored for real; it joins the set only if admitted.
				if _, _, err := c.kubectl(text, "apply", "-f", "-"); err != nil {
					continue
				}
			} else {
				probes = append(probes, object{filepath.Base(file), d})
				source[d] = text
			}
			kept = append(kept, text)
		}
		writeFile(t, filepath.Join(set, filepath.Base(file)), strings.Join(kept, "\n---\n"))
	}
	time.Sleep(time.Second) // the inventory cache rebuilds 200 ms after a change

	want := checkFindings(t, c.bin, set, cfg, policiesDir)
	compared := 0
	for _, p := range probes {
		got, ok := dryRunFindings(t, c, source[p.doc])
		if !ok {
			continue // kind not served by the test control plane (no CRD)
		}
		compared++
		key := p.file + "#" + p.doc.Name()
		w := want[key]
		slices.Sort(w)
		t.Logf("%s %s: %v", key, p.doc.Kind(), got)
		if !slices.Equal(got, w) {
			t.Errorf("%s %s: webhook %v, kgate check %v", key, p.doc.Kind(), got, w)
		}
	}
	if compared < 10 {
		t.Errorf("only %d objects compared", compared)
	}
	t.Logf("%d objects: the webhook's deny, warn and mutate findings equal kgate check's", compared)
}

// checkFindings runs kgate check on the set and returns, per file#name, the
// sorted "RULE action" entries of deny, warn and mutate findings.
func checkFindings(t *testing.T, bin, dir, cfg, policiesDir string) map[string][]string {
	cmd := exec.Command(bin, "check", "-o", "json", "--config", cfg, "--policies", policiesDir, ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate check: %v\n%s", err, out)
	}
	var rep struct {
		Findings []struct {
			Rule, Action, File, Name string
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Action == "deny" || f.Action == "warn" || f.Action == "mutate" {
			k := filepath.Base(f.File) + "#" + f.Name
			e := f.Rule + " " + f.Action
			if !slices.Contains(m[k], e) {
				m[k] = append(m[k], e)
			}
		}
	}
	return m
}

var (
	warningRE = regexp.MustCompile(`(?m)^Warning: ([A-Z]+-[0-9]+) .*?( \(not fixed: the mutating webhook did not run\))?$`)
	deniedRE  = regexp.MustCompile(`denied the request: (.*)$`)
	ruleRE    = regexp.MustCompile(`(?:^|; )([A-Z]+-[0-9]+) /`)
)

// dryRunFindings creates the object with a server dry run and reads kgate's
// answer: denials from the error, warnings from kubectl's stderr, mutations from
// the kgate.dev/mutated annotation of the returned object.
func dryRunFindings(t *testing.T, c *cluster, doc string) ([]string, bool) {
	out, stderr, err := c.kubectl(doc, "create", "--dry-run=server", "-o", "json", "-f", "-")
	if strings.Contains(stderr, "ensure CRDs are installed") || strings.Contains(stderr, "the server doesn't have a resource type") {
		return nil, false
	}
	var got []string
	add := func(e string) {
		if !slices.Contains(got, e) {
			got = append(got, e)
		}
	}
	for _, m := range warningRE.FindAllStringSubmatch(stderr, -1) {
		if m[2] != "" {
			add(m[1] + " mutate") // a mutation the validating webhook saw unapplied
			continue
		}
		add(m[1] + " warn")
	}
	if err != nil {
		m := deniedRE.FindStringSubmatch(strings.TrimSpace(stderr))
		if m == nil {
			t.Fatalf("dry run failed without a kgate denial: %v\n%s", err, stderr)
		}
		for _, r := range ruleRE.FindAllStringSubmatch(m[1], -1) {
			add(r[1] + " deny")
		}
	} else {
		var obj struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal([]byte(out), &obj)
		if a := obj.Metadata.Annotations["kgate.dev/mutated"]; a != "" {
			for _, r := range strings.Split(a, ",") {
				add(r + " mutate")
			}
		}
	}
	slices.Sort(got)
	return got, true
}

func inventoryKinds(t *testing.T, bin string) map[string]bool {
	out, err := exec.Command(bin, "policies", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Rules []struct {
			Inventory []string `json:"inventory"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range list.Rules {
		for _, k := range r.Inventory {
			kinds[k] = true
		}
	}
	return kinds
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

func auditCluster(t *testing.T, c *cluster, cfg, policiesDir string) {
	run := func(args ...string) (string, int) {
		cmd := exec.Command(c.bin, append([]string{"audit", "--kubeconfig", c.Kubeconfig, "--config", cfg, "--policies", policiesDir}, args...)...)
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run("-o", "json")
	if code > 1 {
		t.Fatalf("kgate audit exit %d\n%s", code, out)
	}
	var rep struct {
		Findings []struct{ Rule, Action, File, Kind, Namespace, Name string }
		Summary  struct{ Objects int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit -o json: %v\n%s", err, out)
	}
	has := func(rule, kind, name string) bool {
		for _, f := range rep.Findings {
			if f.Rule == rule && f.Kind == kind && f.Name == name {
				return true
			}
		}
		return false
	}
	// The namespace lacks a default-deny policy (NETPOL-001 reports the
	// Namespace); the book's LoadBalancer Service was stored and is audited.
	if !has("NETPOL-001", "Namespace", "default") {
		t.Errorf("audit lacks NETPOL-001 on Namespace default: %+v", rep.Findings)
	}
	if rep.Summary.Objects < 10 {
		t.Errorf("audit evaluated %d objects, want the stored book objects", rep.Summary.Objects)
	}
	for _, f := range rep.Findings {
		if f.Rule == "COST-001" {
			t.Errorf("COST-001 is off in the configuration but reported: %+v", f)
		}
		if !strings.HasPrefix(f.File, "namespace/") && !strings.HasPrefix(f.File, "cluster/") {
			t.Errorf("finding location %q does not name the object", f.File)
		}
	}
	narrow, _ := run("-o", "json", "--rule", "NETPOL-001", "--namespace", "default")
	rep.Findings = nil
	if err := json.Unmarshal([]byte(narrow), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 {
		t.Error("--rule NETPOL-001 --namespace default found nothing")
	}
	for _, f := range rep.Findings {
		if f.Rule != "NETPOL-001" || (f.Namespace != "default" && f.Name != "default") {
			t.Errorf("--rule/--namespace let through %+v", f)
		}
	}
	auditMatchesCheck(t, c, cfg, policiesDir, run)
	text, _ := run()
	if !strings.Contains(text, "by namespace:") || !strings.Contains(text, "by rule:") {
		t.Errorf("text output lacks the summaries by namespace and rule:\n%s", text)
	}
}

func inClusterReports(t *testing.T, c *cluster, cfg, policiesDir string) {
	// Workloads admitted with warnings (no default-deny policy, unpinned images)
	// stay findings for the audit.
	for i := 0; i < 4; i++ {
		d := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: audited-%d, namespace: default}
spec:
  selector: {matchLabels: {app: audited-%d}}
  template:
    metadata: {labels: {app: audited-%d}}
    spec:
      containers:
      - name: app
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app:latest
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
`, i, i, i)
		if _, stderr, err := c.kubectl(d, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
	}
	type summary struct{ Pass, Fail, Warn, Skip int }
	var rep struct {
		Summary       summary
		Configuration struct{ Limits struct{ MaxResults int } }
		Results       []struct {
			Policy, Result, Severity string
			Resources                []struct{ Kind, Name, Namespace string }
		}
	}
	// The summary counts every finding of the namespace, as kgate audit lists them.
	out, err := exec.Command(c.bin, "audit", "--kubeconfig", c.Kubeconfig, "--config", cfg, "--policies", policiesDir, "-n", "default", "-o", "json").Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate audit: %v", err)
	}
	var audited struct {
		Findings []struct{ Action, Namespace string }
	}
	if err := json.Unmarshal(out, &audited); err != nil {
		t.Fatal(err)
	}
	var want summary
	for _, f := range audited.Findings {
		if f.Namespace != "default" {
			continue
		}
		switch f.Action {
		case "deny":
			want.Fail++
		case "exempted":
			want.Skip++
		default:
			want.Warn++
		}
	}
	// The in-cluster audit runs every 2 s: wait for a Report whose summary
	// counts what kgate audit finds in the namespace now.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, err := c.kubectl("", "get", "reports.openreports.io", "kgate", "-n", "default", "-o", "json")
		if err == nil && json.Unmarshal([]byte(out), &rep) == nil &&
			(summary{Fail: rep.Summary.Fail, Warn: rep.Summary.Warn, Skip: rep.Summary.Skip}) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Report kgate in namespace default never counted what kgate audit finds: last %+v, want %+v", rep.Summary, want)
		}
		time.Sleep(time.Second)
	}
	if want.Fail+want.Warn+want.Skip < 8 {
		t.Errorf("kgate audit finds only %+v in namespace default; the test needs more findings than the cap", want)
	}
	if len(rep.Results) != 5 || rep.Configuration.Limits.MaxResults != 5 {
		t.Errorf("report holds %d results (limit %d), want the cap of 5 while the summary counts %+v", len(rep.Results), rep.Configuration.Limits.MaxResults, rep.Summary)
	}
	if rep.Summary.Pass == 0 {
		t.Errorf("summary counts no passes: %+v", rep.Summary)
	}
	order := map[string]int{"fail": 0, "warn": 1, "skip": 2}
	for i, r := range rep.Results {
		if len(r.Resources) != 1 || r.Resources[0].Name == "" || r.Policy == "" {
			t.Errorf("result without policy or subject: %+v", r)
		}
		if i > 0 && order[r.Result] < order[rep.Results[i-1].Result] {
			t.Errorf("results not ordered failures first: %+v", rep.Results)
		}
	}
	if _, stderr, err := c.kubectl("", "get", "clusterreports.openreports.io", "kgate"); err != nil {
		t.Errorf("no ClusterReport kgate for cluster-scoped objects: %v\n%s", err, stderr)
	}
}

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

// auditMatchesCheck exports the objects stored in namespace default, checks the
// export offline and compares, object by object, the rules each reports with
// kgate audit's. Actions may differ by design: an audit judges existing objects
// (operation AUDIT) where check judges new ones (CREATE).
func auditMatchesCheck(t *testing.T, c *cluster, cfg, policiesDir string, run func(args ...string) (string, int)) {
	kinds := "deployments,services,networkpolicies,jobs,statefulsets,daemonsets,persistentvolumeclaims,limitranges,ingresses"
	export, stderr, err := c.kubectl("", "get", kinds, "-n", "default", "-o", "yaml")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	ns, stderr, err := c.kubectl("", "get", "namespace", "default", "-o", "yaml")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	export = ns + "---\n" + export
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "export.yaml"), export)
	checked := map[string][]string{}
	cmd := exec.Command(c.bin, "check", "-o", "json", "--config", cfg, "--policies", policiesDir, "export.yaml")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("kgate check: %v\n%s", err, out)
	}
	var rep struct {
		Findings []struct{ Rule, Kind, Namespace, Name string }
		Summary  struct{ Objects int }
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	exported := rep.Summary.Objects
	add := func(m map[string][]string, kind, name, rule string) {
		k := kind + "/" + name
		if !slices.Contains(m[k], rule) {
			m[k] = append(m[k], rule)
		}
	}
	for _, f := range rep.Findings {
		add(checked, f.Kind, f.Name, f.Rule)
	}
	aout, _ := run("-o", "json", "--namespace", "default")
	rep.Findings = nil
	if err := json.Unmarshal([]byte(aout), &rep); err != nil {
		t.Fatal(err)
	}
	audited := map[string][]string{}
	for _, f := range rep.Findings {
		add(audited, f.Kind, f.Name, f.Rule)
	}
	compared := 0
	for obj, rules := range checked {
		slices.Sort(rules)
		a := audited[obj]
		slices.Sort(a)
		if !slices.Equal(rules, a) {
			t.Errorf("%s: kgate check %v, kgate audit %v", obj, rules, a)
		}
		compared++
	}
	for obj := range audited {
		if _, ok := checked[obj]; !ok {
			t.Errorf("%s: kgate audit reports %v, kgate check nothing", obj, audited[obj])
		}
	}
	if exported < 10 || compared < 5 {
		t.Errorf("only %d objects exported and %d with findings compared", exported, compared)
	}
	t.Logf("%d exported objects: kgate audit and kgate check report the same rules for each", exported)
}
