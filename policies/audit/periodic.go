package audit

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kgate-dev/kgate/policies"
)

// Periodic audits the cluster on an interval and whenever the configuration
// changes, and writes the results as OpenReports objects. It runs on the elected
// leader only, so one replica of the webhook audits.
type Periodic struct {
	Config *rest.Config
	// Client writes the reports; its scheme knows the OpenReports types.
	Client     client.Client
	Engine     func() *policies.Engine
	Interval   time.Duration
	MaxResults int
	Log        logr.Logger
	Metrics    *Metrics
	// Trigger starts an audit at once (e.g. after a configuration reload).
	Trigger <-chan struct{}
}

// Metrics are the audit's gauges.
type Metrics struct {
	findings *prometheus.GaugeVec
	duration prometheus.Gauge
}

// NewMetrics registers kgate_audit_findings{rule,action} and
// kgate_audit_duration_seconds.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kgate_audit_findings",
			Help: "Findings of the last in-cluster audit by rule and action.",
		}, []string{"rule", "action"}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kgate_audit_duration_seconds",
			Help: "Duration of the last in-cluster audit.",
		}),
	}
	for _, c := range []prometheus.Collector{m.findings, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// NeedLeaderElection makes the audit run on one replica only.
func (p *Periodic) NeedLeaderElection() bool { return true }

// Start audits at once, then on every interval or trigger until ctx ends.
func (p *Periodic) Start(ctx context.Context) error {
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		p.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-p.Trigger:
		}
	}
}

// RunOnce audits and writes the reports; failures are logged, never fatal.
func (p *Periodic) RunOnce(ctx context.Context) {
	start := time.Now()
	rep, err := Run(ctx, p.Config, p.Engine(), Options{Passes: true})
	if err != nil {
		p.Log.Error(err, "in-cluster audit")
		return
	}
	took := time.Since(start)
	if p.Metrics != nil {
		p.Metrics.duration.Set(took.Seconds())
		p.Metrics.findings.Reset()
		for _, f := range rep.Findings {
			p.Metrics.findings.WithLabelValues(f.Rule, string(f.Action)).Inc()
		}
	}
	reports, cluster := Reports(rep, p.MaxResults, time.Now())
	written, err := p.write(ctx, reports, cluster)
	if err != nil {
		p.Log.Error(err, "write audit reports")
	}
	p.Log.Info("in-cluster audit", "objects", rep.Summary.Objects, "findings", len(rep.Findings),
		"reports", written, "took", took.String())
}

// write creates or updates the reports and deletes kgate's reports of namespaces
// that no longer have results.
func (p *Periodic) write(ctx context.Context, reports []*openreports.Report, cluster *openreports.ClusterReport) (int, error) {
	keep := map[string]bool{}
	n := 0
	for _, r := range reports {
		keep[r.Namespace] = true
		if err := upsert(ctx, p.Client, r, &openreports.Report{}); err != nil {
			if meta.IsNoMatchError(err) {
				p.Log.Info("OpenReports CRDs are not installed; audit results only in metrics and logs")
				return 0, nil
			}
			return n, err
		}
		n++
	}
	if cluster != nil {
		if err := upsert(ctx, p.Client, cluster, &openreports.ClusterReport{}); err != nil {
			return n, err
		}
		n++
	}
	var existing openreports.ReportList
	if err := p.Client.List(ctx, &existing, client.MatchingLabels{ManagedByLabel: "kgate"}); err != nil {
		return n, err
	}
	for i := range existing.Items {
		r := &existing.Items[i]
		if r.Name == ReportName && !keep[r.Namespace] {
			if err := p.Client.Delete(ctx, r); err != nil && !apierrors.IsNotFound(err) {
				return n, err
			}
		}
	}
	return n, nil
}

// upsert creates obj or replaces the stored copy's content with it.
func upsert(ctx context.Context, c client.Client, obj, current client.Object) error {
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), current)
	if apierrors.IsNotFound(err) {
		return c.Create(ctx, obj)
	}
	if err != nil {
		return err
	}
	obj.SetResourceVersion(current.GetResourceVersion())
	return c.Update(ctx, obj)
}
