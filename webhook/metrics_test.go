package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kgate-dev/kgate/policies"
)

func TestMetricsRecordDecisionsAndFindings(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := testEngine(t)
	mut := &Mutator{Sources{Engines: Fixed{e}, Metrics: m}}
	val := &Validator{Sources{Engines: Fixed{e}, Metrics: m}}
	ctx := context.Background()
	mut.Handle(ctx, request(admissionv1.Create, "storage.k8s.io", "v1", "StorageClass", "", "ebs-gp2", gp2Class, ""))
	val.Handle(ctx, request(admissionv1.Create, "karpenter.sh", "v1", "NodePool", "", "training-p5", multiZonePool, ""))
	val.Handle(ctx, request(admissionv1.Create, "", "v1", "Service", "genai", "x", `[1]`, ""))

	checks := []struct {
		labels []string
		want   float64
	}{
		{[]string{"mutate", "CREATE", "StorageClass", "mutated"}, 1},
		{[]string{"validate", "CREATE", "NodePool", "denied"}, 1},
		{[]string{"validate", "CREATE", "Service", "error"}, 1},
	}
	for _, c := range checks {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("kgate_admission_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.findings.WithLabelValues("validate", "TOPO-002", "deny")); got != 1 {
		t.Errorf("TOPO-002 deny findings = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.findings.WithLabelValues("mutate", "STORAGE-001", "mutate")); got != 1 {
		t.Errorf("STORAGE-001 mutate findings = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.evaluation); n != 1 {
		t.Errorf("evaluation histogram series = %d, want 1", n)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice must fail")
	}
}

// BenchmarkObserve is what recording one review with six findings costs.
func BenchmarkObserve(b *testing.B) {
	m, _ := NewMetrics(prometheus.NewRegistry())
	d := &policies.Decision{}
	for _, id := range []string{"NET-001", "TOPO-001", "COST-001", "COST-002", "IMG-001", "NETPOL-001"} {
		d.Findings = append(d.Findings, policies.Finding{RuleID: id, Action: policies.ActionWarn})
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		m.observe("validate", "CREATE", "Deployment", "warned", start, d)
	}
}
