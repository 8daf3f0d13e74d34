package kgate.rules.netpol.namespace_default_deny_ingress_test

import data.kgate.lib.testing
import data.kgate.rules.netpol.namespace_default_deny_ingress as rule

default_deny := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "default-deny-ingress", "namespace": "genai"},
	"spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}

allow_rag := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "rag-app-ingress-policy", "namespace": "genai"},
	"spec": {
		"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rag-app"}},
		"policyTypes": ["Ingress"],
		"ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chatbot-ui"}}}], "ports": [{"protocol": "TCP", "port": 80}]}],
	},
}

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "qdrant", "namespace": "genai"},
	"spec": {"template": {"spec": {"containers": [{"name": "qdrant", "image": "qdrant:1.12"}]}}},
}

namespace := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "genai"}}

inventory(policies) := {"namespace": {"genai": {"NetworkPolicy": {p.metadata.name: p | some p in policies}}}, "cluster": {}}

delete(old) := object.union(testing.review(old), {"operation": "DELETE", "object": null, "oldObject": old})

test_workload_without_default_deny_warns if {
	[v] := [v | some v in rule.violation with input as testing.review(deployment) with data.inventory as inventory([allow_rag])]
	v.action == "warn"
	v.path == "/metadata/namespace"
	contains(v.msg, `namespace "genai"`)
	contains(v.msg, `Deployment "qdrant"`)
	contains(v.fix, "name: default-deny-ingress, namespace: genai")
}

test_workload_with_default_deny_passes if {
	rule.applies with input as testing.review(deployment) with data.inventory as inventory([default_deny, allow_rag])
	count(rule.violation) == 0 with input as testing.review(deployment) with data.inventory as inventory([default_deny, allow_rag])
}

test_default_deny_shapes if {
	every spec in [
		{"podSelector": {}, "policyTypes": ["Ingress"]},
		{"podSelector": {}},
		{"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": []},
		{"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"]},
		{"podSelector": {}, "policyTypes": [], "egress": [{}]},
	] {
		np := json.patch(default_deny, [{"op": "replace", "path": "/spec", "value": spec}])
		count(rule.violation) == 0 with input as testing.review(deployment) with data.inventory as inventory([np])
	}
}

test_policies_that_are_not_default_deny if {
	every spec in [
		# allow policy for selected pods
		allow_rag.spec,
		# egress only
		{"podSelector": {}, "policyTypes": ["Egress"]},
		# selects some pods only
		{"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress"]},
		# allows everything
		{"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]},
	] {
		np := json.patch(default_deny, [{"op": "replace", "path": "/spec", "value": spec}])
		count(rule.violation) == 1 with input as testing.review(deployment) with data.inventory as inventory([np])
	}
}

test_default_deny_of_another_namespace_does_not_count if {
	inv := {"namespace": {"other": {"NetworkPolicy": {"default-deny-ingress": default_deny}}}}
	count(rule.violation) == 1 with input as testing.review(deployment) with data.inventory as inv
}

test_workload_without_namespace_points_at_metadata if {
	d := json.remove(deployment, ["metadata/namespace"])
	[v] := [v | some v in rule.violation with input as testing.review(d)]
	v.path == "/metadata"
	contains(v.msg, `namespace "default"`)
}

test_namespace_without_default_deny_is_audited if {
	[v] := [v | some v in rule.violation with input as testing.review(namespace) with data.inventory as inventory([allow_rag])]
	v.action == "audit"
	v.path == "/metadata/name"
	rule.applies with input as testing.review(namespace) with data.inventory as inventory([default_deny])
	count(rule.violation) == 0 with input as testing.review(namespace) with data.inventory as inventory([default_deny])
}

test_exempt_namespaces_not_in_scope if {
	ks := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}
	not rule.applies with input as testing.review(ks)
	count(rule.violation) == 0 with input as testing.review(ks)
	ds := json.patch(deployment, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(ds)
	count(rule.violation) == 0 with input as testing.review(ds)
}

test_other_kinds_and_policy_create_not_in_scope if {
	every obj in [default_deny, allow_rag, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "genai"}, "spec": {}}] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_delete_of_default_deny_is_denied if {
	inv := inventory([default_deny, allow_rag])
	rule.applies with input as delete(default_deny) with data.inventory as inv
	[v] := [v | some v in rule.violation with input as delete(default_deny) with data.inventory as inv]
	v.action == "deny"
	v.path == "/metadata/name"
	contains(v.msg, `deleting NetworkPolicy "default-deny-ingress"`)
}

test_delete_allowed_when_unprotected_or_another_deny_remains if {
	# protectDelete off
	count(rule.violation) == 0 with input as object.union(delete(default_deny), {"params": {"protectDelete": false}})

	# another default-deny policy stays
	second := json.patch(default_deny, [{"op": "replace", "path": "/metadata/name", "value": "deny-all"}])
	count(rule.violation) == 0 with input as delete(default_deny) with data.inventory as inventory([default_deny, second])

	# deleting an allow policy is none of this rule's business
	not rule.applies with input as delete(allow_rag) with data.inventory as inventory([default_deny, allow_rag])
	count(rule.violation) == 0 with input as delete(allow_rag) with data.inventory as inventory([default_deny, allow_rag])
}

test_update_that_stops_denying_is_denied if {
	inv := inventory([default_deny])
	every tc in [
		[[{"op": "add", "path": "/spec/ingress", "value": [{"from": [{"podSelector": {}}]}]}], "/spec/ingress"],
		[[{"op": "replace", "path": "/spec/podSelector", "value": {"matchLabels": {"app": "rag"}}}], "/spec/podSelector"],
		[[{"op": "replace", "path": "/spec/policyTypes", "value": ["Egress"]}], "/spec/policyTypes"],
	] {
		updated := json.patch(default_deny, tc[0])
		[v] := [v | some v in rule.violation with input as testing.review_update(updated, default_deny) with data.inventory as inv]
		v.action == "deny"
		v.path == tc[1]
	}
}

test_update_that_keeps_denying_passes if {
	updated := json.patch(default_deny, [
		{"op": "add", "path": "/metadata/labels", "value": {"team": "genai"}},
		{"op": "replace", "path": "/spec/policyTypes", "value": ["Ingress", "Egress"]},
	])
	rule.applies with input as testing.review_update(updated, default_deny)
	count(rule.violation) == 0 with input as testing.review_update(updated, default_deny) with data.inventory as inventory([default_deny])
}

test_pods_and_multi_template_objects_warn if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "genai"}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}
	pj := {
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "fsdp", "namespace": "genai"},
		"spec": {"pytorchReplicaSpecs": {
			"Master": {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t:1"}]}}},
			"Worker": {"replicas": 2, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t:1"}]}}},
		}},
	}
	every obj in [pod, pj] {
		[v] := [v | some v in rule.violation with input as testing.review(obj)]
		v.action == "warn"
	}
}

test_null_fields_count_as_empty if {
	np := json.patch(default_deny, [{"op": "replace", "path": "/spec", "value": {"podSelector": {"matchLabels": null, "matchExpressions": null}, "policyTypes": null, "ingress": null}}])
	count(rule.violation) == 0 with input as testing.review(deployment) with data.inventory as inventory([allow_rag, np])
}
