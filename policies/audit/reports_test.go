package audit

import (
	"fmt"
	"testing"
	"time"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/report"
)

func TestReportsAreBoundedAndCountEverything(t *testing.T) {
	rep := &report.Report{}
	for i := 0; i < 30; i++ {
		a := policies.ActionWarn
		switch {
		case i%10 == 0:
			a = policies.ActionDeny
		case i%10 == 1:
			a = policies.ActionExempted
		}
		rep.Findings = append(rep.Findings, report.Finding{Rule: "NETPOL-001", Action: a, Severity: "high",
			Kind: "Deployment", Namespace: "genai", Name: fmt.Sprintf("d%02d", i), APIVersion: "apps/v1"})
	}
	rep.Findings = append(rep.Findings, report.Finding{Rule: "STORAGE-001", Action: policies.ActionAudit, Kind: "StorageClass", Name: "gp2"})
	rep.Passes = []report.Pass{{Rule: "COMPUTE-001", Namespace: "genai"}, {Rule: "COMPUTE-001", Namespace: "tools"}}

	reports, cluster := Reports(rep, 5, time.Unix(1700000000, 0))
	if len(reports) != 2 || reports[0].Namespace != "genai" || reports[1].Namespace != "tools" {
		t.Fatalf("want Reports for genai and tools, got %d", len(reports))
	}
	g := reports[0]
	if s := g.Summary; s.Fail != 3 || s.Skip != 3 || s.Warn != 24 || s.Pass != 1 {
		t.Errorf("genai summary = %+v, want fail 3, warn 24, skip 3, pass 1", s)
	}
	if len(g.Results) != 5 || g.Configuration.Limits.MaxResults != 5 {
		t.Errorf("genai holds %d results, want the cap of 5", len(g.Results))
	}
	for i, r := range g.Results[:3] {
		if r.Result != "fail" {
			t.Errorf("result %d is %s: failures come first", i, r.Result)
		}
	}
	if r := g.Results[0]; len(r.Subjects) != 1 || r.Subjects[0].Name == "" || r.Policy != "NETPOL-001" || r.Properties["action"] != "deny" {
		t.Errorf("result lacks its subject or policy: %+v", r)
	}
	if tools := reports[1]; tools.Summary.Pass != 1 || len(tools.Results) != 0 {
		t.Errorf("tools: a namespace with passes only gets an empty Report with its pass count, got %+v", tools.Summary)
	}
	if cluster == nil || cluster.Summary.Warn != 1 || len(cluster.Results) != 1 {
		t.Errorf("the StorageClass finding belongs in the ClusterReport, got %+v", cluster)
	}
}
