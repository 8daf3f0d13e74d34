package policies

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// allowAll is a NetworkPolicy NETPOL-002 denies in any GenAI namespace.
func allowAll(ns string, ann map[string]any) map[string]any {
	meta := map[string]any{"name": "open", "namespace": ns}
	if ann != nil {
		meta["annotations"] = ann
	}
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
		"spec": map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}, "ingress": []any{map[string]any{}}},
	}
}

func gp2Class(ann map[string]any) map[string]any {
	meta := map[string]any{"name": "slow"}
	if ann != nil {
		meta["annotations"] = ann
	}
	return map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
		"provisioner": "ebs.csi.aws.com", "parameters": map[string]any{"type": "gp2"}}
}

func TestSettings(t *testing.T) {
	genai := &Namespace{Name: "genai", Labels: map[string]string{"kgate.dev/genai": "true"}}
	other := &Namespace{Name: "tools"}
	exemptNS := &Namespace{Name: "lab", Annotations: map[string]string{AnnotationExempt: "NETPOL-002", AnnotationExemptReason: "shared demo namespace"}}
	scoped := &Settings{Rules: map[string]RuleSettings{"NETPOL-002": {
		Action:    ActionWarn,
		Overrides: []Override{{Selector: labels.SelectorFromSet(labels.Set{"kgate.dev/genai": "true"}), Action: ActionDeny}},
	}}}
	today := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	objExempt := func(until string) map[string]any {
		a := map[string]any{AnnotationExempt: "NETPOL-002, STORAGE-001", AnnotationExemptReason: "ingress controller"}
		if until != "" {
			a[AnnotationExemptUntil] = until
		}
		return a
	}
	netpol := GVK{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	sc := GVK{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"}
	tests := []struct {
		name     string
		settings *Settings
		kind     GVK
		obj      map[string]any
		ns       *Namespace
		rule     string
		want     Action // "" = no finding of rule
		wantNote string
		patched  bool
	}{
		{"default action", nil, netpol, allowAll("genai", nil), genai, "NETPOL-002", ActionDeny, "", false},
		{"selector override matches", scoped, netpol, allowAll("genai", nil), genai, "NETPOL-002", ActionDeny, "", false},
		{"rule action elsewhere", scoped, netpol, allowAll("tools", nil), other, "NETPOL-002", ActionWarn, "", false},
		{"override by namespace name", &Settings{Rules: map[string]RuleSettings{"NETPOL-002": {Action: ActionDeny, Overrides: []Override{{Namespaces: []string{"tools"}, Action: ActionAudit}}}}}, netpol, allowAll("tools", nil), other, "NETPOL-002", ActionAudit, "", false},
		{"off", &Settings{Rules: map[string]RuleSettings{"NETPOL-002": {Action: ActionOff}}}, netpol, allowAll("genai", nil), genai, "NETPOL-002", "", "", false},
		{"dry run turns deny into warn", &Settings{DryRun: true}, netpol, allowAll("genai", nil), genai, "NETPOL-002", ActionWarn, "", false},
		{"object exemption", nil, netpol, allowAll("genai", objExempt("")), genai, "NETPOL-002", ActionExempted, "", false},
		{"object exemption beats config deny", scoped, netpol, allowAll("genai", objExempt("2026-11-23")), genai, "NETPOL-002", ActionExempted, "", false},
		{"expired exemption", nil, netpol, allowAll("genai", objExempt("2026-11-22")), genai, "NETPOL-002", ActionDeny, "expired on 2026-11-22", false},
		{"bad expiry date", nil, netpol, allowAll("genai", objExempt("next week")), genai, "NETPOL-002", ActionDeny, "not a date", false},
		{"exemption without reason", nil, netpol, allowAll("genai", map[string]any{AnnotationExempt: "NETPOL-002"}), genai, "NETPOL-002", ActionDeny, "has no kgate.dev/exempt-reason", false},
		{"namespace exemption", nil, netpol, allowAll("lab", nil), exemptNS, "NETPOL-002", ActionExempted, "", false},
		{"exemptions disabled", &Settings{Exemptions: ExemptionPolicy{Disabled: true}}, netpol, allowAll("genai", objExempt("")), genai, "NETPOL-002", ActionDeny, "disabled", false},
		{"rule not exemptable", &Settings{Exemptions: ExemptionPolicy{Rules: []string{"STORAGE-001"}}}, netpol, allowAll("genai", objExempt("")), genai, "NETPOL-002", ActionDeny, "does not allow exempting NETPOL-002", false},
		{"mutation", nil, sc, gp2Class(nil), nil, "STORAGE-001", ActionMutate, "", true},
		{"exempted mutation is not applied", nil, sc, gp2Class(objExempt("")), nil, "STORAGE-001", ActionExempted, "", false},
		{"warn instead of mutate", &Settings{Rules: map[string]RuleSettings{"STORAGE-001": {Action: ActionWarn}}}, sc, gp2Class(nil), nil, "STORAGE-001", ActionWarn, "", false},
		{"deny instead of mutate", &Settings{Rules: map[string]RuleSettings{"STORAGE-001": {Action: ActionDeny}}}, sc, gp2Class(nil), nil, "STORAGE-001", ActionDeny, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(context.Background(), Options{Settings: tc.settings, Now: func() time.Time { return today }})
			if err != nil {
				t.Fatal(err)
			}
			ns := ""
			if tc.ns != nil {
				ns = tc.ns.Name
			}
			d, err := e.Evaluate(context.Background(), &Input{Operation: "CREATE", Kind: tc.kind, Namespace: ns, Name: "x", Object: tc.obj, NamespaceInfo: tc.ns})
			if err != nil {
				t.Fatal(err)
			}
			var got *Finding
			for i := range d.Findings {
				if d.Findings[i].RuleID == tc.rule {
					got = &d.Findings[i]
				}
			}
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("want no %s finding, got %+v", tc.rule, got)
			case tc.want == "":
			case got == nil:
				t.Fatalf("want a %s finding with action %s, got none (%+v)", tc.rule, tc.want, d.Findings)
			case got.Action != tc.want:
				t.Errorf("action = %s, want %s (%+v)", got.Action, tc.want, got)
			}
			if got != nil && tc.want == ActionExempted && (got.Exemption == nil || got.Exemption.Reason == "" || got.Exemption.Action == "") {
				t.Errorf("exempted finding must carry its reason and original action, got %+v", got.Exemption)
			}
			if got != nil && !strings.Contains(got.Note, tc.wantNote) {
				t.Errorf("note = %q, want it to mention %q", got.Note, tc.wantNote)
			}
			// Other rules patch the class too; only STORAGE-001 changes the type.
			typed := false
			for _, op := range d.Patch {
				typed = typed || op.Path == "/parameters/type"
			}
			if typed != tc.patched {
				t.Errorf("patch = %v, want the gp3 conversion: %v", d.Patch, tc.patched)
			}
		})
	}
}

func TestSettingsValidation(t *testing.T) {
	for name, s := range map[string]*Settings{
		"unknown rule":            {Rules: map[string]RuleSettings{"NOPE-1": {Action: ActionWarn}}},
		"mutate on a deny rule":   {Rules: map[string]RuleSettings{"NETPOL-002": {Action: ActionMutate}}},
		"bad override action":     {Rules: map[string]RuleSettings{"NETPOL-002": {Overrides: []Override{{Namespaces: []string{"a"}, Action: "block"}}}}},
		"unknown exemptable rule": {Exemptions: ExemptionPolicy{Rules: []string{"NOPE-2"}}},
	} {
		if _, err := New(context.Background(), Options{Settings: s}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
