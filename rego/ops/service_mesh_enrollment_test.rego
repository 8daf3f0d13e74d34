package kgate.rules.ops.service_mesh_enrollment_test

import data.kgate.lib.testing
import data.kgate.rules.ops.service_mesh_enrollment as rule

namespace(labels, annotations) := {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": "genai", "labels": labels, "annotations": annotations},
}

plain := namespace({"kgate.dev/genai": "true"}, {})

opted_in := namespace({"kgate.dev/genai": "true", "kgate.dev/require-mesh": "true"}, {})

findings(ns) := [v | some v in rule.violation with input as testing.review(ns)]

findings_with(ns, params) := [v | some v in rule.violation with input as testing.review_with(ns, params)]

required := {"requireMesh": true}

# Off by default: nothing is reported and no Namespace is in scope.
test_off_by_default if {
	not rule.applies with input as testing.review(plain)
	count(findings(plain)) == 0
}

test_require_mesh_reports_unenrolled_namespace if {
	[v] := findings_with(plain, required)
	v.path == "/metadata/labels"
	contains(v.msg, "requireMesh")
	contains(v.msg, "not enrolled")
	contains(v.fix, "istio.io/dataplane-mode=ambient")
}

test_namespace_opt_in_label if {
	[v] := findings(opted_in)
	contains(v.msg, "label kgate.dev/require-mesh")
}

test_namespace_opt_out_of_require_mesh if {
	ns := namespace({"kgate.dev/require-mesh": "false"}, {})
	not rule.applies with input as testing.review_with(ns, required)
	count(findings_with(ns, required)) == 0
}

test_namespace_without_labels if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "genai"}}
	[v] := findings_with(ns, required)
	v.path == "/metadata"
}

test_enrolled_namespaces_pass if {
	every ns in [
		namespace({"istio-injection": "enabled"}, {}),
		namespace({"istio.io/rev": "1-23-2"}, {}),
		namespace({"istio.io/dataplane-mode": "ambient"}, {}),
		namespace({}, {"linkerd.io/inject": "enabled"}),
	] {
		rule.applies with input as testing.review_with(ns, required)
		count(findings_with(ns, required)) == 0
	}
}

test_disabled_injection_is_not_enrolled if {
	every ns in [
		namespace({"istio-injection": "disabled", "istio.io/rev": "1-23-2"}, {}),
		namespace({"istio.io/dataplane-mode": "none"}, {}),
		namespace({}, {"linkerd.io/inject": "disabled"}),
		namespace({"linkerd.io/inject": "enabled"}, {}),
	] {
		count(findings_with(ns, required)) == 1
	}
}

test_mesh_flavor if {
	sidecar := namespace({"istio-injection": "enabled"}, {})
	params := {"requireMesh": true, "meshFlavor": "istio-ambient"}
	[v] := findings_with(sidecar, params)
	contains(v.msg, "enrolled as istio-sidecar, but meshFlavor requires istio-ambient")
	contains(v.fix, "istio.io/dataplane-mode=ambient")
	count(findings_with(namespace({"istio.io/dataplane-mode": "ambient"}, {}), params)) == 0
}

# Edge cases: sidecars add CPU/memory per pod (COMPUTE-001 ignoredContainers), ambient
# needs ztunnel, mesh ports must stay open in NetworkPolicies (NETPOL-005).
test_fix_names_the_costs_of_enrolling if {
	[v] := findings(opted_in)
	contains(v.fix, "ignoredContainers")
	contains(v.fix, "ztunnel")
	contains(v.fix, "NETPOL-005")
	contains(v.fix, "restart")
}

test_exempt_namespaces_out_of_scope if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "labels": {"kgate.dev/require-mesh": "true"}}}
	not rule.applies with input as testing.review_with(ns, required)
	count(findings_with(ns, required)) == 0
}
