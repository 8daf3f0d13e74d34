package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/report"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: genai}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: api:1
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 128Mi}}
`

const defaultDeny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: genai}
spec: {podSelector: {}, policyTypes: [Ingress]}
`

const gp2ClassAndClaim = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: old-gp2}
provisioner: ebs.csi.aws.com
parameters: {type: gp2, iops: "3000"}
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: genai}
spec: {storageClassName: old-gp2, accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
`

// The objects of one run are the inventory of referential rules: a default-deny
// policy anywhere in the run protects the namespace (NETPOL-001), and a PVC is
// judged by the StorageClass it names (STORAGE-001), whatever the input order.
func TestRunUsesTheRunAsInventory(t *testing.T) {
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
		want  map[string]bool // rule -> reported
	}{
		{"namespace without default deny", deployment, map[string]bool{"NETPOL-001": true}},
		{"default deny after the workload", deployment + "---\n" + defaultDeny, map[string]bool{"NETPOL-001": false}},
		{"default deny as a List item", "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(defaultDeny), "\n", "\n  ") + "\n---\n" + deployment, map[string]bool{"NETPOL-001": false}},
		{"PVC of a gp2 class", gp2ClassAndClaim, map[string]bool{"STORAGE-001": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), e, Options{Paths: []string{"-"}, Stdin: strings.NewReader(tc.input)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Report.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Report.Errors)
			}
			got := map[string]bool{}
			for _, f := range res.Report.Findings {
				got[f.Rule] = true
				if f.Rule == "STORAGE-001" && f.Kind == "PersistentVolumeClaim" && (f.Action != policies.ActionWarn || f.File != StdinName || f.Line != 11) {
					t.Errorf("PVC finding = %+v, want a warn on line 11 of %s", f, StdinName)
				}
			}
			for rule, want := range tc.want {
				if got[rule] != want {
					t.Errorf("%s reported = %v, want %v (findings %+v)", rule, got[rule], want, res.Report.Findings)
				}
			}
		})
	}
}

// A run over files of several tasks gives the same report whatever the number of
// workers, and releases each file's text once it is checked unless fixing.
func TestRunReleasesCheckedFiles(t *testing.T) {
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var docs []string
	for i := 0; i < 2*chunksPerTask+5; i++ {
		docs = append(docs, strings.ReplaceAll(deployment, "name: api, namespace", fmt.Sprintf("name: api-%d, namespace", i)))
	}
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(docs, "---\n")+"---\n"+defaultDeny), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var reports []*report.Report
	for _, o := range []Options{{Workers: 1}, {Workers: 2}, {Workers: 2, Fix: true}} {
		o.Paths = []string{dir}
		res, err := Run(context.Background(), e, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Summary.Objects != 2*len(docs)+2 || len(res.Report.Findings) == 0 {
			t.Fatalf("%+v: summary %+v", o, res.Report.Summary)
		}
		for _, f := range res.Files {
			if released := f.NumChunks() == 0; released == o.Fix {
				t.Errorf("%+v: %s released = %v", o, f.Path, released)
			}
		}
		reports = append(reports, res.Report)
	}
	for _, r := range reports[1:] {
		if !reflect.DeepEqual(r.Findings, reports[0].Findings) {
			t.Errorf("reports differ between runs")
		}
	}
}
