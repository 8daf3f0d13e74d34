package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// auditCluster runs kgate audit against the cluster the configured webhook
// guards: its exit codes and outputs, and that it agrees with kgate check.
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
