package kgate.rules.compute.goldilocks_namespace_enabled_test

import data.kgate.lib.testing
import data.kgate.rules.compute.goldilocks_namespace_enabled as rule

namespace(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

bare_namespace(name) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

enable_op := {"op": "add", "path": "/metadata/labels/goldilocks.fairwinds.com~1enabled", "value": "true"}

deployment(labels, owners) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "rag-app", "namespace": "genai", "labels": labels, "ownerReferences": owners},
	"spec": {
		"selector": {"matchLabels": {"app": "rag"}},
		"template": {
			"metadata": {"labels": {"app": "rag"}},
			"spec": {"containers": [{"name": "rag", "image": "rag:3.0.1"}]},
		},
	},
}

exclude := {"alsoSetExcludeContainers": "istio-proxy,linkerd-proxy"}

exclude_op := {"op": "add", "path": "/metadata/labels/goldilocks.fairwinds.com~1exclude-containers", "value": "istio-proxy,linkerd-proxy"}

# The catalog's bad example.
test_namespace_without_label_is_mutated if {
	ns := namespace("genai", {"kgate.dev/genai": "true"})
	[v] := [v | some v in rule.violation with input as testing.review(ns)]
	v.action == "mutate"
	v.path == "/metadata/labels"
	contains(v.msg, `Namespace "genai" has no label goldilocks.fairwinds.com/enabled: "true"`)
	contains(v.fix, `set label goldilocks.fairwinds.com/enabled: "true"`)
	rule.patch == {enable_op} with input as testing.review(ns)
}

test_namespace_without_labels_gets_label if {
	ns := bare_namespace("genai")
	[v] := [v | some v in rule.violation with input as testing.review(ns)]
	v.path == "/metadata"
	rule.patch == {enable_op} with input as testing.review(ns)
}

test_patch_is_idempotent if {
	every ns in [bare_namespace("genai"), namespace("genai", {}), namespace("genai", {"kgate.dev/genai": "true"}), namespace("genai", {"goldilocks.fairwinds.com/enabled": "yes"})] {
		ops := rule.patch with input as testing.review(ns)
		patched := testing.apply(ns, ops)
		patched.metadata.labels["goldilocks.fairwinds.com/enabled"] == "true"
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

# The catalog's good example, and every value Goldilocks (strconv.ParseBool) reads as true.
test_enabled_namespace_passes if {
	every value in ["true", "True", "TRUE", "t", "1"] {
		ns := namespace("genai", {"kgate.dev/genai": "true", "goldilocks.fairwinds.com/enabled": value})
		rule.applies with input as testing.review(ns)
		count(rule.violation) == 0 with input as testing.review(ns)
		count(rule.patch) == 0 with input as testing.review(ns)
	}
}

test_update_is_mutated_too if {
	ns := namespace("genai", {"team": "ml"})
	[v] := [v | some v in rule.violation with input as testing.review_update(ns, ns)]
	v.action == "mutate"
	rule.patch == {enable_op} with input as testing.review_update(ns, ns)
}

# respectExplicitFalse (default true): an explicit "false" is an opt-out.
test_explicit_false_is_left_alone if {
	every value in ["false", "False", "0", "f"] {
		ns := namespace("genai", {"goldilocks.fairwinds.com/enabled": value})
		rule.applies with input as testing.review(ns)
		count(rule.violation) == 0 with input as testing.review(ns)
		count(rule.patch) == 0 with input as testing.review(ns)
	}
}

test_explicit_false_is_replaced_without_respect if {
	ns := namespace("genai", {"goldilocks.fairwinds.com/enabled": "false"})
	params := {"respectExplicitFalse": false}
	[v] := [v | some v in rule.violation with input as testing.review_with(ns, params)]
	v.path == "/metadata/labels/goldilocks.fairwinds.com~1enabled"
	contains(v.msg, `sets label goldilocks.fairwinds.com/enabled to "false"`)
	not contains(v.fix, "opt the namespace out")
	rule.patch == {enable_op} with input as testing.review_with(ns, params)
}

# A value Goldilocks cannot parse disables it: replaced by "true".
test_unparsable_value_is_replaced if {
	ns := namespace("genai", {"goldilocks.fairwinds.com/enabled": "yes"})
	[v] := [v | some v in rule.violation with input as testing.review(ns)]
	v.path == "/metadata/labels/goldilocks.fairwinds.com~1enabled"
	contains(v.msg, `to "yes", which Goldilocks reads as false`)
	rule.patch == {enable_op} with input as testing.review(ns)
}

# Edge case: do not label kube-system (nor any other exempt namespace).
test_exempt_namespaces_are_not_in_scope if {
	every name in ["kube-system", "karpenter", "kgate-system"] {
		ns := namespace(name, {})
		not rule.applies with input as testing.review(ns)
		count(rule.violation) == 0 with input as testing.review(ns)
		count(rule.patch) == 0 with input as testing.review(ns)
	}
}

# Edge case: the rule only enables recommendations. It never sets the VPA update mode
# (Goldilocks' VPAs stay in updateMode Off, recommending CPU and memory only) and leaves
# a namespace's own update-mode label alone.
test_never_sets_vpa_update_mode if {
	ns := namespace("genai", {"goldilocks.fairwinds.com/vpa-update-mode": "auto"})
	ops := rule.patch with input as testing.review(ns)
	ops == {enable_op}
	patched := testing.apply(ns, ops)
	patched.metadata.labels["goldilocks.fairwinds.com/vpa-update-mode"] == "auto"
	every op in ops {
		not contains(op.path, "vpa-update-mode")
	}
}

# alsoSetExcludeContainers: off by default, workloads are not in scope.
test_workloads_not_in_scope_by_default if {
	d := deployment({"app": "rag"}, [])
	not rule.applies with input as testing.review(d)
	count(rule.violation) == 0 with input as testing.review(d)
}

test_exclude_containers_label_is_added if {
	d := deployment({"app": "rag"}, [])
	[v] := [v | some v in rule.violation with input as testing.review_with(d, exclude)]
	v.action == "mutate"
	v.path == "/metadata/labels"
	contains(v.msg, `Deployment "rag-app" has no label goldilocks.fairwinds.com/exclude-containers`)
	ops := rule.patch with input as testing.review_with(d, exclude)
	ops == {exclude_op}
	patched := testing.apply(d, ops)
	count(rule.violation) == 0 with input as testing.review_with(patched, exclude)
	count(rule.patch) == 0 with input as testing.review_with(patched, exclude)
}

test_exclude_containers_label_set_by_owner_is_kept if {
	d := deployment({"goldilocks.fairwinds.com/exclude-containers": "envoy"}, [])
	rule.applies with input as testing.review_with(d, exclude)
	count(rule.violation) == 0 with input as testing.review_with(d, exclude)
}

test_exclude_containers_skips_owned_and_exempt_workloads if {
	owned := deployment({}, [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "r", "uid": "1", "controller": true}])
	not rule.applies with input as testing.review_with(owned, exclude)
	system := json.patch(deployment({}, []), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review_with(system, exclude)
}
