package report

import (
	"fmt"
	"io"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

// BenchmarkWriteJSON encodes a report of the size `kgate check -o json` writes for
// the 10,000-object benchmark workload: 15,000 findings, a third with a patch.
func BenchmarkWriteJSON(b *testing.B) {
	r := &Report{Errors: []Error{}}
	for i := range 15000 {
		f := Finding{
			Rule: "COST-001", Action: policies.ActionWarn, Severity: "medium", File: fmt.Sprintf("/work/workload-%04d.yaml", i/100),
			Doc: i % 100, Line: 13, Kind: "Deployment", APIVersion: "apps/v1", Namespace: "team-00", Name: fmt.Sprintf("app-%d", i),
			Path:    "/spec/template/metadata/labels",
			Message: fmt.Sprintf(`Deployment "app-%d" lacks usable cost allocation labels on its pods: team (missing), project (missing)`, i),
			Fix:     "set team, project, environment in the pod template labels (/spec/template/metadata/labels)",
			Patch:   []policies.PatchOp{},
		}
		if i%3 == 0 {
			f.Action = policies.ActionMutate
			f.Patch = []policies.PatchOp{{Op: "add", Path: "/spec/trafficDistribution", Value: "PreferSameZone"}}
		}
		r.Findings = append(r.Findings, f)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
