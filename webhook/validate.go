package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/policies"
)

var errNotObject = errors.New("patched object is not a JSON object")

// Validator is the validating admission handler. It sees objects after every
// mutating webhook ran: deny findings reject the request with one message that
// names each rule, field and fix; warn findings, and mutate findings whose patch
// was not applied (the mutating webhook was skipped), become admission warnings,
// which kubectl prints. With a State, a deny of a referential rule is re-checked
// against the API server before it is returned, and referential findings say how
// old the state they saw was.
type Validator struct{ Sources }

var _ admission.Handler = (*Validator)(nil)

// Handle implements admission.Handler.
func (v *Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	e := v.Engines.Engine()
	d, in, errResp := v.evaluate(ctx, e, &req)
	if errResp != nil {
		v.Metrics.observe("validate", string(req.Operation), req.Kind.Kind, "error", start, nil)
		return *errResp
	}
	if kinds := referentialDenials(e, d); v.State != nil && len(kinds) > 0 {
		// No stale denials: read what the deny depends on from the API server
		// and decide again.
		if err := v.State.Recheck(ctx, in.Namespace, kinds); err != nil {
			logf.FromContext(ctx).Error(err, "re-check cluster state before denying")
		} else if again, err := e.Evaluate(ctx, in); err == nil {
			d = again
		}
	}
	var denials, warnings, denied []string
	log := logf.FromContext(ctx)
	for _, f := range d.Findings {
		switch {
		case f.Exemption != nil:
			log.Info("exempted", "rule", f.RuleID, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name,
				"operation", req.Operation, "reason", f.Exemption.Reason, "until", f.Exemption.Until,
				"source", f.Exemption.Source, "wouldBe", f.Exemption.Action)
		case f.DryRun:
			log.Info("would deny (dry run)", "rule", f.RuleID, "kind", req.Kind.Kind, "namespace", req.Namespace,
				"name", req.Name, "operation", req.Operation, "message", describe(f))
		}
		switch f.Action {
		case policies.ActionDeny:
			denials = append(denials, warning(f, v.stateNote(e, f)))
			denied = append(denied, f.RuleID)
		case policies.ActionWarn:
			warnings = append(warnings, warning(f, v.stateNote(e, f)))
		case policies.ActionMutate:
			warnings = append(warnings, warning(f, " (not fixed: the mutating webhook did not run)"))
		}
	}
	if len(denials) == 0 {
		decision := "allowed"
		if len(warnings) > 0 {
			decision = "warned"
		}
		v.Metrics.observe("validate", string(req.Operation), req.Kind.Kind, decision, start, d)
		return admission.Allowed("").WithWarnings(warnings...)
	}
	v.Metrics.observe("validate", string(req.Operation), req.Kind.Kind, "denied", start, d)
	log.Info("denied", "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name,
		"operation", req.Operation, "dryRun", req.DryRun != nil && *req.DryRun, "rules", strings.Join(denied, ","))
	// kubectl already names the webhook and the object: the message starts with
	// the first rule ID.
	resp := admission.Denied(strings.Join(denials, "; "))
	resp.Result.Code = http.StatusForbidden
	resp.Result.Reason = metav1.StatusReasonForbidden
	return resp.WithWarnings(warnings...)
}

// describe renders a finding as the catalog asks: rule ID first, fix last.
func describe(f policies.Finding) string {
	return warning(f, "")
}

// warning is describe(f) followed by note, built in one allocation: the
// validating webhook renders several findings on almost every review.
func warning(f policies.Finding, note string) string {
	var b strings.Builder
	b.Grow(len(f.RuleID) + 1 + len(f.Path) + 2 + len(f.Message) + len("; fix: ") + len(f.Fix) + len(note))
	b.WriteString(f.RuleID)
	if f.Path != "" {
		b.WriteByte(' ')
		b.WriteString(f.Path)
	}
	b.WriteString(": ")
	b.WriteString(f.Message)
	if f.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(f.Fix)
	}
	b.WriteString(note)
	return b.String()
}

// referentialDenials lists the inventory kinds that the decision's denials depend on.
func referentialDenials(e *policies.Engine, d *policies.Decision) []string {
	seen := map[string]bool{}
	var kinds []string
	for _, f := range d.Findings {
		if f.Action != policies.ActionDeny {
			continue
		}
		r, ok := e.Rule(f.RuleID)
		if !ok || !r.Referential {
			continue
		}
		for _, k := range r.Inventory {
			if !seen[k] {
				seen[k] = true
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

// stateNote tells how old the cluster state behind a referential finding was.
func (v *Validator) stateNote(e *policies.Engine, f policies.Finding) string {
	if v.State == nil {
		return ""
	}
	if r, ok := e.Rule(f.RuleID); !ok || !r.Referential {
		return ""
	}
	return fmt.Sprintf(" (cluster state read %s ago)", v.State.Age().Round(time.Millisecond))
}
