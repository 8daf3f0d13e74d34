package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/policies"
)

// Mutator is the mutating admission handler: it applies the merged patch of the
// mutate findings and records the rules in the kgate.dev/mutated annotation.
// Evaluating the patched object again yields no patch, so reinvocation
// (reinvocationPolicy: IfNeeded) changes nothing.
type Mutator struct{ Sources }

var _ admission.Handler = (*Mutator)(nil)

// Handle implements admission.Handler.
func (m *Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	if len(req.Object.Raw) == 0 {
		m.Metrics.observe("mutate", string(req.Operation), req.Kind.Kind, "allowed", start, nil)
		return admission.Allowed("")
	}
	d, _, errResp := m.evaluate(ctx, m.Engines.Engine(), &req)
	if errResp != nil {
		m.Metrics.observe("mutate", string(req.Operation), req.Kind.Kind, "error", start, nil)
		return *errResp
	}
	if d.Patched == nil {
		m.Metrics.observe("mutate", string(req.Operation), req.Kind.Kind, "allowed", start, nil)
		return admission.Allowed("")
	}
	patched, ok := d.Patched.(map[string]any)
	if !ok {
		return admission.Errored(http.StatusInternalServerError, errNotObject)
	}
	ids := mutatedRules(d)
	recordMutation(patched, ids)
	logf.FromContext(ctx).Info("mutated", "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name,
		"operation", req.Operation, "dryRun", req.DryRun != nil && *req.DryRun, "rules", strings.Join(ids, ","))
	out, err := json.Marshal(patched)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	m.Metrics.observe("mutate", string(req.Operation), req.Kind.Kind, "mutated", start, d)
	return admission.PatchResponseFromRaw(req.Object.Raw, out)
}

func mutatedRules(d *policies.Decision) []string {
	var ids []string
	for _, f := range d.Findings {
		if f.Action == policies.ActionMutate && !slices.Contains(ids, f.RuleID) {
			ids = append(ids, f.RuleID)
		}
	}
	return ids
}

// recordMutation adds rule IDs to the kgate.dev/mutated annotation, keeping the
// IDs an earlier admission recorded.
func recordMutation(obj map[string]any, ids []string) {
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	var all []string
	if prev, _ := ann[MutatedAnnotation].(string); prev != "" {
		all = strings.Split(prev, ",")
	}
	for _, id := range ids {
		if !slices.Contains(all, id) {
			all = append(all, id)
		}
	}
	slices.Sort(all)
	ann[MutatedAnnotation] = strings.Join(all, ",")
}
