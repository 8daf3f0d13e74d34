package audit

import (
	"sort"
	"time"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/report"
)

// ReportName is the name of the Report kgate writes in each namespace and of its
// ClusterReport.
const ReportName = "kgate"

// ManagedByLabel marks the reports kgate owns, so stale ones can be found and
// removed without touching other engines' reports.
const ManagedByLabel = "app.kubernetes.io/managed-by"

// Reports turns an audit into OpenReports objects: one Report per namespace with
// findings and one ClusterReport for cluster-scoped objects. Each holds at most
// maxResults results, the most severe first, while its summary counts every
// finding, so a report's size is bounded however large the cluster is.
func Reports(rep *report.Report, maxResults int, now time.Time) ([]*openreports.Report, *openreports.ClusterReport) {
	byNS := map[string][]report.Finding{}
	for _, f := range rep.Findings {
		byNS[f.Namespace] = append(byNS[f.Namespace], f)
	}
	passes := map[string]int{}
	for _, p := range rep.Passes {
		passes[p.Namespace]++
	}
	for ns := range passes {
		if _, ok := byNS[ns]; !ok {
			byNS[ns] = nil
		}
	}
	var out []*openreports.Report
	var cluster *openreports.ClusterReport
	for _, ns := range sortedNS(byNS) {
		summary, results := summarize(byNS[ns], passes[ns], maxResults, now)
		meta := metav1.ObjectMeta{Name: ReportName, Namespace: ns, Labels: map[string]string{ManagedByLabel: "kgate"}}
		cfg := &openreports.ReportConfiguration{Limits: openreports.Limits{MaxResults: maxResults}}
		if ns == "" {
			cluster = &openreports.ClusterReport{ObjectMeta: meta, Source: "kgate", Configuration: cfg, Summary: summary, Results: results}
			cluster.Namespace = ""
			continue
		}
		out = append(out, &openreports.Report{ObjectMeta: meta, Source: "kgate", Configuration: cfg, Summary: summary, Results: results,
			Scope: &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: ns}})
	}
	return out, cluster
}

func summarize(fs []report.Finding, passes, maxResults int, now time.Time) (openreports.ReportSummary, []openreports.ReportResult) {
	s := openreports.ReportSummary{Pass: passes}
	for _, f := range fs {
		switch result(f.Action) {
		case "fail":
			s.Fail++
		case "warn":
			s.Warn++
		case "skip":
			s.Skip++
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := rank(fs[i]), rank(fs[j])
		if a != b {
			return a < b
		}
		return fs[i].File < fs[j].File
	})
	if len(fs) > maxResults {
		fs = fs[:maxResults]
	}
	results := make([]openreports.ReportResult, 0, len(fs))
	for _, f := range fs {
		props := map[string]string{"action": string(f.Action), "path": f.Path, "fix": f.Fix}
		if x := f.Exemption; x != nil {
			props["exemptReason"], props["exemptUntil"], props["wouldBe"] = x.Reason, x.Until, string(x.Action)
		}
		results = append(results, openreports.ReportResult{
			Source: "kgate", Policy: f.Rule, Rule: f.Rule,
			Severity:    openreports.ResultSeverity(f.Severity),
			Timestamp:   metav1.Timestamp{Seconds: now.Unix()},
			Result:      openreports.Result(result(f.Action)),
			Scored:      true,
			Subjects:    []corev1.ObjectReference{{APIVersion: f.APIVersion, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name}},
			Description: f.Message,
			Properties:  props,
		})
	}
	return s, results
}

// result maps kgate's actions to OpenReports results: a deny is a failure, what
// would only warn, be patched or be reported is a warning, an exemption a skip.
func result(a policies.Action) string {
	switch a {
	case policies.ActionDeny:
		return "fail"
	case policies.ActionExempted:
		return "skip"
	}
	return "warn"
}

// rank orders results for truncation: failures first, then by severity.
func rank(f report.Finding) int {
	r := map[string]int{"fail": 0, "warn": 10, "skip": 20}[result(f.Action)]
	return r + map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}[f.Severity]
}

func sortedNS(m map[string][]report.Finding) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
