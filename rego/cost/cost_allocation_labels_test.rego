package kgate.rules.cost.cost_allocation_labels_test

import data.kgate.lib.testing
import data.kgate.rules.cost.cost_allocation_labels as rule

cost_labels := {"team": "search-ai", "project": "chatbot", "environment": "prod"}

namespace(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "genai", "labels": labels}}

deployment(meta_labels, template_labels) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "rag-app", "namespace": "genai", "labels": meta_labels},
	"spec": {
		"selector": {"matchLabels": {"app": "rag"}},
		"template": {
			"metadata": {"labels": object.union({"app": "rag"}, template_labels)},
			"spec": {"containers": [{"name": "rag", "image": "rag:1.0.0"}]},
		},
	},
}

pod(labels) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "genai", "labels": labels}, "spec": {"containers": [{"name": "sh", "image": "busybox:1.36"}]}}

inv(labels) := {"cluster": {"Namespace": {"genai": namespace(labels)}}}

violations(obj) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as {}]

# The catalog's bad example.
test_namespace_without_cost_labels_is_denied if {
	[v] := violations(namespace({"kgate.dev/genai": "true"}))
	v.action == "deny"
	v.path == "/metadata/labels"
	v.msg == `Namespace "genai" lacks usable cost allocation labels: team (missing), project (missing), environment (missing); Kubecost cannot attribute the cost of its workloads`
	v.fix == "set metadata.labels team, project, environment on Namespace genai (required: team, project, environment)"
}

# The catalog's good example.
test_labelled_namespace_passes if {
	ns := namespace(object.union({"kgate.dev/genai": "true"}, cost_labels))
	rule.applies with input as testing.review(ns) with data.inventory as {}
	count(violations(ns)) == 0
}

test_namespace_without_labels_map if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "genai"}}
	[v] := violations(ns)
	v.path == "/metadata"
}

# Edge: label values must be usable label values (not empty, at most 63 characters).
test_invalid_values_are_reported if {
	long := concat("", [x | some _ in numbers.range(1, 64); x := "a"])
	[v] := violations(namespace(object.union(cost_labels, {"team": ""})))
	v.path == "/metadata/labels/team"
	contains(v.msg, "labels: team (empty);")
	[w] := violations(namespace(object.union(cost_labels, {"project": long})))
	contains(w.msg, "not a valid label value")
	[x] := violations(namespace(object.union(cost_labels, {"environment": "-prod"})))
	x.path == "/metadata/labels/environment"
}

test_required_labels_param if {
	ns := namespace(cost_labels)
	[v] := [v | some v in rule.violation with input as testing.review_with(ns, {"requiredCostLabels": ["team", "cost-center"]}) with data.inventory as {}]
	contains(v.msg, "labels: cost-center (missing);")
}

test_exempt_namespaces_not_in_scope if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}
	not rule.applies with input as testing.review(ns) with data.inventory as {}
	count(violations(ns)) == 0
}

# UPDATE of an existing Namespace is warned, unless it removes a cost label.
test_namespace_update if {
	old := namespace({"team": "search-ai"})
	[w] := [v | some v in rule.violation with input as testing.review_update(old, old) with data.inventory as {}]
	w.action == "warn"
	contains(w.msg, "project (missing), environment (missing)")
	new := namespace({"project": "chatbot"})
	vs := [v | some v in rule.violation with input as testing.review_update(new, old) with data.inventory as {}]
	{[v.action, v.path] | some v in vs} == {["deny", "/metadata/labels"], ["warn", "/metadata/labels"]}
	[d] := [d | some d in vs; d.action == "deny"]
	startswith(d.msg, `this update removes cost allocation labels of Namespace "genai": team (missing)`)
}

# --- workloads ---

test_workload_without_labels_is_warned if {
	[v] := violations(deployment({}, {}))
	v.action == "warn"
	v.path == "/spec/template/metadata/labels"
	v.msg == `Deployment "rag-app" lacks usable cost allocation labels on its pods: team (missing), project (missing), environment (missing); namespace "genai" does not supply them, so Kubecost cannot attribute their cost`
	v.fix == "set team, project, environment in the pod template labels (/spec/template/metadata/labels), or on Namespace genai to cover all its workloads"
}

test_labelled_workload_passes if {
	d := deployment({}, cost_labels)
	rule.applies with input as testing.review(d) with data.inventory as {}
	count(violations(d)) == 0
}

# Labels on the Deployment itself do not reach its pods.
test_workload_metadata_labels_do_not_count if {
	[v] := violations(deployment(cost_labels, {}))
	contains(v.msg, "team (missing), project (missing), environment (missing)")
}

# Namespace labels cover workloads (OpenCost applies them to pods without the label).
test_namespace_labels_cover_workloads if {
	d := deployment({}, {"team": "search-ai"})
	count(rule.violation) == 0 with input as testing.review(d) with data.inventory as inv(cost_labels)
	[v] := [v | some v in rule.violation with input as testing.review(d) with data.inventory as inv({"team": "search-ai", "project": "chatbot"})]
	contains(v.msg, "labels on its pods: environment (missing);")
	v.path == "/spec/template/metadata/labels"

	# an empty pod label overrides the namespace's
	e := deployment({}, {"team": ""})
	[w] := [w | some w in rule.violation with input as testing.review(e) with data.inventory as inv(cost_labels)]
	w.path == "/spec/template/metadata/labels/team"
}

test_bare_pod_is_warned if {
	[v] := violations(pod({"team": "search-ai", "project": "chatbot"}))
	v.action == "warn"
	v.path == "/metadata/labels"
	v.msg == `Pod "debug" lacks usable cost allocation labels: environment (missing); namespace "genai" does not supply them, so Kubecost cannot attribute its cost`
	v.fix == "set environment in metadata.labels, or on Namespace genai to cover all its workloads"
}

# Edge: operators (Ray, Kubeflow) may not copy template labels; Pods created by a
# controller are left to their workload and to namespace-level aggregation.
test_controller_pods_not_in_scope if {
	owned := json.patch(pod({"ray.io/cluster": "rc"}), [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "ray.io/v1", "kind": "RayCluster", "name": "rc", "uid": "1", "controller": true}]}])
	not rule.applies with input as testing.review(owned) with data.inventory as {}
	count(violations(owned)) == 0
}

test_operator_templates_are_checked if {
	rc := {
		"apiVersion": "ray.io/v1",
		"kind": "RayCluster",
		"metadata": {"name": "rc", "namespace": "genai"},
		"spec": {
			"headGroupSpec": {"template": {"metadata": {"labels": cost_labels}, "spec": {"containers": [{"name": "head", "image": "ray:2.9"}]}}},
			"workerGroupSpecs": [{"groupName": "gpu", "replicas": 2, "template": {"spec": {"containers": [{"name": "worker", "image": "ray:2.9"}]}}}],
		},
	}
	[v] := violations(rc)
	v.path == "/spec/workerGroupSpecs/0/template"
	contains(v.msg, `RayCluster "rc", template "gpu" lacks`)
	count(rule.violation) == 0 with input as testing.review(rc) with data.inventory as inv(cost_labels)
}

test_exempt_namespace_workloads_not_in_scope if {
	d := json.patch(deployment({}, {}), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(d) with data.inventory as {}
}

# --- optional propagation ---

propagate := {"propagateNamespaceLabelsToPods": true}

test_namespace_labels_are_copied_onto_new_pods if {
	p := pod({"app": "rag", "team": "other"})
	vs := [v | some v in rule.violation with input as testing.review_with(p, propagate) with data.inventory as inv(cost_labels)]
	{[v.action, v.path] | some v in vs} == {["mutate", "/metadata/labels"]}
	count(vs) == 2
	rule.patch == {
		{"op": "add", "path": "/metadata/labels/project", "value": "chatbot"},
		{"op": "add", "path": "/metadata/labels/environment", "value": "prod"},
	} with input as testing.review_with(p, propagate)
		with data.inventory as inv(cost_labels)
}

test_propagation_is_idempotent if {
	owned := json.patch(pod({}), [
		{"op": "remove", "path": "/metadata/labels"},
		{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "1", "controller": true}]},
	])
	every p in [pod({}), owned] {
		ops := [op | some op in rule.patch with input as testing.review_with(p, propagate) with data.inventory as inv(cost_labels)]
		count(ops) == 3
		patched := testing.apply(p, ops)
		count(rule.violation) == 0 with input as testing.review_with(patched, propagate) with data.inventory as inv(cost_labels)
		count(rule.patch) == 0 with input as testing.review_with(patched, propagate) with data.inventory as inv(cost_labels)
	}
}

# No propagation on UPDATE (bare Pods are warned instead), nor without the parameter.
test_no_propagation_on_update_or_by_default if {
	p := pod({})
	count(rule.patch) == 0 with input as testing.review(p) with data.inventory as inv(cost_labels)
	update := object.union(testing.review_update(p, p), {"params": object.union(data.kgate.defaults, propagate)})
	count(rule.patch) == 0 with input as update with data.inventory as inv(cost_labels)
}

# A Deployment's ReplicaSets copy its template labels: only the Deployment is reported.
test_owned_replicasets_not_in_scope if {
	rs := json.patch(deployment({}, {}), [
		{"op": "replace", "path": "/kind", "value": "ReplicaSet"},
		{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "rag-app", "uid": "1", "controller": true}]},
	])
	not rule.applies with input as testing.review(rs) with data.inventory as {}
	count(violations(rs)) == 0
}
