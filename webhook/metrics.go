package webhook

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kgate-dev/kgate/policies"
)

// Metrics are kgate's own Prometheus metrics, next to controller-runtime's
// per-path webhook metrics: decisions by kind and operation, evaluation latency,
// and findings by rule and action.
type Metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	evaluation prometheus.Histogram
	findings   *prometheus.CounterVec

	// The children of the vectors by label values: WithLabelValues hashes
	// the values and takes a lock on every call, a few per finding.
	requestsBy sync.Map // requestLabels → prometheus.Counter
	latencyBy  sync.Map // string → prometheus.Observer
	findingsBy sync.Map // findingLabels → prometheus.Counter
}

type requestLabels struct{ hook, op, kind, decision string }

type findingLabels struct{ hook, rule, action string }

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgate_admission_requests_total",
			Help: "Admission requests by webhook, operation, kind and decision (allowed, mutated, warned, denied, error).",
		}, []string{"webhook", "operation", "kind", "decision"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kgate_admission_duration_seconds",
			Help:    "Time to answer an admission request, decoding and evaluation included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"webhook"}),
		evaluation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kgate_engine_evaluation_seconds",
			Help:    "Time the policy engine takes to evaluate one object.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05},
		}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgate_findings_total",
			Help: "Findings by webhook, rule and action.",
		}, []string{"webhook", "rule", "action"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.evaluation, m.findings} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe records one answered request; a nil Metrics records nothing.
func (m *Metrics) observe(hook, op, kind, decision string, start time.Time, d *policies.Decision) {
	if m == nil {
		return
	}
	m.requestCounter(requestLabels{hook, op, kind, decision}).Inc()
	m.latencyObserver(hook).Observe(time.Since(start).Seconds())
	if d == nil {
		return
	}
	for _, f := range d.Findings {
		m.findingCounter(findingLabels{hook, f.RuleID, string(f.Action)}).Inc()
	}
}

func (m *Metrics) requestCounter(l requestLabels) prometheus.Counter {
	if c, ok := m.requestsBy.Load(l); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.requestsBy.LoadOrStore(l, m.requests.WithLabelValues(l.hook, l.op, l.kind, l.decision))
	return c.(prometheus.Counter)
}

func (m *Metrics) latencyObserver(hook string) prometheus.Observer {
	if o, ok := m.latencyBy.Load(hook); ok {
		return o.(prometheus.Observer)
	}
	o, _ := m.latencyBy.LoadOrStore(hook, m.latency.WithLabelValues(hook))
	return o.(prometheus.Observer)
}

func (m *Metrics) findingCounter(l findingLabels) prometheus.Counter {
	if c, ok := m.findingsBy.Load(l); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.findingsBy.LoadOrStore(l, m.findings.WithLabelValues(l.hook, l.rule, l.action))
	return c.(prometheus.Counter)
}

func (m *Metrics) observeEvaluation(took time.Duration) {
	if m != nil {
		m.evaluation.Observe(took.Seconds())
	}
}
