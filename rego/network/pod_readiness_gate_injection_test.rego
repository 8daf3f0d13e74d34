package kgate.rules.network.pod_readiness_gate_injection_test

import data.kgate.lib.testing
import data.kgate.rules.network.pod_readiness_gate_injection as rule

label_key := "elbv2.k8s.aws/pod-readiness-gate-inject"

label_path := "/metadata/labels/elbv2.k8s.aws~1pod-readiness-gate-inject"

namespace(name, labels) := {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": name, "labels": labels},
}

# The catalog's bad example.
genai := namespace("genai", {"kgate.dev/genai": "true"})

labelled := namespace("genai", {"kgate.dev/genai": "true", label_key: "enabled"})

bare := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rag"}}

test_namespace_without_label_gets_it if {
	[v] := [v | some v in rule.violation with input as testing.review(genai)]
	v.action == "mutate"
	v.path == "/metadata/labels"
	contains(v.msg, `"genai"`)
	contains(v.fix, "restart")
	rule.patch == {{"op": "add", "path": label_path, "value": "enabled"}} with input as testing.review(genai)
}

test_namespace_without_labels_gets_the_label if {
	[v] := [v | some v in rule.violation with input as testing.review(bare)]
	v.path == "/metadata"
	rule.patch == {{"op": "add", "path": label_path, "value": "enabled"}} with input as testing.review(bare)
}

test_patched_namespaces_pass if {
	every ns in [genai, bare] {
		patched := testing.apply(ns, [op | some op in rule.patch with input as testing.review(ns)])
		patched.metadata.labels[label_key] == "enabled"
		rule.applies with input as testing.review(patched)
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

test_labelled_namespace_passes if {
	rule.applies with input as testing.review(labelled)
	count(rule.violation) == 0 with input as testing.review(labelled)
	count(rule.patch) == 0 with input as testing.review(labelled)
}

# Namespaces are mutable: an UPDATE that drops the label gets it back.
test_update_is_mutated_too if {
	[v] := [v | some v in rule.violation with input as testing.review_update(genai, labelled)]
	v.action == "mutate"
	rule.patch == {{"op": "add", "path": label_path, "value": "enabled"}} with input as testing.review_update(genai, labelled)
}

# Audits of existing namespaces report the same finding.
test_audit_reports_existing_namespace if {
	req := object.union(testing.review(genai), {"operation": "AUDIT"})
	count(rule.violation) == 1 with input as req
}

test_exempt_namespaces_are_not_labelled if {
	every name in ["kube-system", "karpenter", "kgate-system"] {
		not rule.applies with input as testing.review(namespace(name, {}))
		count(rule.violation) == 0 with input as testing.review(namespace(name, {}))
		count(rule.patch) == 0 with input as testing.review(namespace(name, {}))
	}
}

test_delete_is_ignored if {
	req := object.union(testing.review_update(genai, genai), {"operation": "DELETE", "object": null})
	not rule.applies with input as req
}

test_other_kinds_are_ignored if {
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "genai", "namespace": "genai"}, "spec": {}}
	not rule.applies with input as testing.review(svc)
}

# An explicit other value is a deliberate opt-out (or a typo): warned, not overwritten.
test_other_value_is_warned_not_overwritten if {
	every value in ["disabled", "Enabled", "true"] {
		ns := namespace("genai", {label_key: value})
		[v] := [v | some v in rule.violation with input as testing.review(ns)]
		v.action == "warn"
		v.path == label_path
		contains(v.msg, value)
		count(rule.patch) == 0 with input as testing.review(ns)
	}
}

# Without LBC nothing injects or satisfies the gates: no label, and a leftover label is
# warned (keep the label in sync with LBC presence).
test_without_lbc_no_label_is_added if {
	params := {"lbcInstalled": false}
	not rule.applies with input as testing.review_with(genai, params)
	count(rule.violation) == 0 with input as testing.review_with(genai, params)
	count(rule.patch) == 0 with input as testing.review_with(genai, params)
}

test_without_lbc_leftover_label_is_warned if {
	params := {"lbcInstalled": false}
	rule.applies with input as testing.review_with(labelled, params)
	[v] := [v | some v in rule.violation with input as testing.review_with(labelled, params)]
	v.action == "warn"
	v.path == label_path
	contains(v.fix, "remove label")
	count(rule.patch) == 0 with input as testing.review_with(labelled, params)
}

# onlyIfLbcInstalled: false labels namespaces even before LBC is installed.
test_label_regardless_of_lbc if {
	params := {"lbcInstalled": false, "onlyIfLbcInstalled": false}
	[v] := [v | some v in rule.violation with input as testing.review_with(genai, params)]
	v.action == "mutate"
	count(rule.patch) == 1 with input as testing.review_with(genai, params)
	count(rule.violation) == 0 with input as testing.review_with(labelled, params)
}
