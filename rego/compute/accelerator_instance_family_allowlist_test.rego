package kgate.rules.compute.accelerator_instance_family_allowlist_test

import data.kgate.lib.testing
import data.kgate.rules.compute.accelerator_instance_family_allowlist as rule

req(key, operator, values) := {"key": key, "operator": operator, "values": values}

family(values) := req("karpenter.k8s.aws/instance-family", "In", values)

gpu_count := req("karpenter.k8s.aws/instance-gpu-count", "Gt", ["0"])

nodepool(labels, requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": "gpu-pool", "labels": labels},
	"spec": {"template": {"spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
		"requirements": requirements,
	}}},
}

accel := {"kgate.dev/pool-type": "accelerator"}

violations(pool) := [v | some v in rule.violation with input as testing.review(pool)]

# The catalog's bad example: a missing family requirement means "any family".
test_accelerator_pool_without_family_is_denied if {
	[v] := violations(nodepool(accel, [gpu_count]))
	v.action == "deny"
	v.path == "/spec/template/spec/requirements"
	contains(v.msg, `"gpu-pool"`)
	contains(v.msg, "NodePool labels match acceleratorPoolSelector")
	contains(v.fix, "karpenter.k8s.aws/instance-family")
}

# The catalog's good example.
test_allowed_families_pass if {
	pool := nodepool(accel, [family(["p5", "p5e"]), gpu_count])
	rule.applies with input as testing.review(pool)
	count(rule.violation) == 0 with input as testing.review(pool)
}

test_disallowed_family_is_denied if {
	pool := nodepool({}, [req("karpenter.sh/capacity-type", "In", ["on-demand"]), family(["p5", "p4d", "g4dn"])])
	[v] := violations(pool)
	v.action == "deny"
	v.path == "/spec/template/spec/requirements/1"
	contains(v.msg, "allows instance families g4dn")
	not contains(v.msg, "p5,")
	contains(v.fix, "add g4dn")
}

test_allowlist_param if {
	pool := nodepool({}, [family(["g6e", "g5"])])
	count(rule.violation) == 0 with input as testing.review(pool)
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, {"allowedAcceleratorFamilies": ["p5", "p5e", "p5en", "g6e"]})]
	contains(v.msg, "allows instance families g5,")
}

# Karpenter intersects the requirements: an instance-type requirement narrows a family one.
test_requirements_are_intersected if {
	pool := nodepool({}, [family(["p5", "p3"]), req("node.kubernetes.io/instance-type", "In", ["p5.48xlarge"])])
	count(rule.violation) == 0 with input as testing.review(pool)

	# and NotIn removes a family from an In set
	narrowed := nodepool({}, [family(["p5", "p3"]), req("karpenter.k8s.aws/instance-family", "NotIn", ["p3"])])
	count(rule.violation) == 0 with input as testing.review(narrowed)
}

test_instance_types_and_template_labels_name_families if {
	types := nodepool({}, [req("node.kubernetes.io/instance-type", "In", ["p5.48xlarge", "p3dn.24xlarge"])])
	[v] := violations(types)
	contains(v.msg, "families p3dn,")
	v.path == "/spec/template/spec/requirements/0"

	labelled := json.patch(nodepool(accel, [gpu_count]), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"karpenter.k8s.aws/instance-family": "p3"}}}])
	[w] := violations(labelled)
	w.path == "/spec/template/metadata/labels/karpenter.k8s.aws~1instance-family"
}

# Edge cases: NotIn alone, Exists with minValues, Gt on instance-generation and
# instance-category do not bound the family set.
test_unbounded_requirements_are_denied if {
	every reqs in [
		[req("karpenter.k8s.aws/instance-family", "NotIn", ["p3", "g4dn"]), gpu_count],
		[{"key": "karpenter.k8s.aws/instance-family", "operator": "Exists", "minValues": 3}, gpu_count],
		[req("karpenter.k8s.aws/instance-category", "In", ["p"]), req("karpenter.k8s.aws/instance-generation", "Gt", ["4"])],
		[req("karpenter.k8s.aws/instance-category", "In", ["g", "p"])],
		[req("karpenter.k8s.aws/instance-gpu-name", "In", ["h100"])],
	] {
		[v] := violations(nodepool({}, reqs))
		v.action == "deny"
		contains(v.msg, "do not name its instance families")
	}
	[v] := violations(nodepool({}, [req("karpenter.k8s.aws/instance-family", "NotIn", ["p3", "g4dn"]), gpu_count]))
	contains(v.msg, "NotIn g4dn, p3 only excludes families")
}

test_accelerator_pool_detection if {
	every pool in [
		nodepool({"kgate.dev/pool-type": "gpu"}, []),
		json.patch(nodepool({}, []), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"kgate.dev/pool-type": "training"}}}]),
		nodepool({}, [req("eks.amazonaws.com/instance-gpu-count", "Exists", [])]),
		nodepool({}, [req("karpenter.k8s.aws/instance-accelerator-name", "In", ["trainium2"])]),
		json.patch(nodepool({}, []), [{"op": "add", "path": "/spec/template/spec/taints", "value": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]}]),
		json.patch(nodepool({}, []), [{"op": "add", "path": "/spec/limits", "value": {"aws.amazon.com/neuron": "64"}}]),
	] {
		[v] := violations(pool)
		v.action == "deny"
	}
}

test_cpu_pools_pass if {
	every pool in [
		nodepool({}, [req("karpenter.k8s.aws/instance-category", "In", ["c", "m", "r"])]),
		nodepool({}, [family(["m7i", "c7g"])]),
		nodepool({}, [req("karpenter.k8s.aws/instance-category", "NotIn", ["p", "g", "gr", "inf", "trn", "dl"])]),
		nodepool({}, [req("karpenter.k8s.aws/instance-gpu-count", "DoesNotExist", []), req("karpenter.k8s.aws/instance-accelerator-count", "DoesNotExist", [])]),
	] {
		rule.applies with input as testing.review(pool)
		count(rule.violation) == 0 with input as testing.review(pool)
	}
}

# CPU pools are audit-only: they do not keep accelerator instances out.
test_open_cpu_pool_is_audited if {
	pool := nodepool({}, [req("kubernetes.io/arch", "In", ["amd64", "arm64"])])
	[v] := violations(pool)
	v.action == "audit"
	contains(v.msg, "does not keep accelerator instances out")
}

# A mixed pool with one accelerator family is an accelerator pool.
test_mixed_pool_is_an_accelerator_pool if {
	[v] := violations(nodepool({}, [family(["m7i", "g4dn"])]))
	v.action == "deny"
	contains(v.msg, "accelerator families g4dn")
}

# Auto Mode pools use the eks.amazonaws.com keys.
test_auto_mode_keys if {
	pool := json.patch(nodepool(accel, [req("eks.amazonaws.com/instance-family", "In", ["p5"])]), [{"op": "replace", "path": "/spec/template/spec/nodeClassRef", "value": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}}])
	count(rule.violation) == 0 with input as testing.review(pool)
	open := json.patch(pool, [{"op": "replace", "path": "/spec/template/spec/requirements", "value": []}])
	[v] := violations(open)
	contains(v.fix, "eks.amazonaws.com/instance-family")
}

# Edge: a Capacity Block pool is judged on its families only; its zone is TOPO-002's.
test_capacity_block_pool if {
	reserved := req("karpenter.sh/capacity-type", "In", ["reserved"])
	cb := json.patch(nodepool(accel, [reserved, family(["p5e"])]), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"karpenter.k8s.aws/capacity-reservation-type": "capacity-block"}}}])
	count(rule.violation) == 0 with input as testing.review(cb)
	[v] := violations(nodepool(accel, [reserved, family(["p4de", "p3"])]))
	contains(v.msg, "families p3,")
}

# UPDATE: widening the family set is denied, other updates of a non-compliant pool warned.
test_update_widening_is_denied if {
	old := nodepool(accel, [family(["p5"])])
	new := nodepool(accel, [family(["p5", "p3"])])
	[v] := [v | some v in rule.violation with input as testing.review_update(new, old)]
	v.action == "deny"

	# removing the family requirement widens to "any family"
	[w] := [w | some w in rule.violation with input as testing.review_update(nodepool(accel, [gpu_count]), old)]
	w.action == "deny"
}

test_update_of_noncompliant_pool_is_warned if {
	old := nodepool(accel, [family(["p5", "p3"])])
	new := json.patch(old, [{"op": "add", "path": "/spec/limits", "value": {"nvidia.com/gpu": "32"}}])
	[v] := [v | some v in rule.violation with input as testing.review_update(new, old)]
	v.action == "warn"

	unbounded := nodepool(accel, [gpu_count])
	[w] := [w | some w in rule.violation with input as testing.review_update(unbounded, unbounded)]
	w.action == "warn"

	# narrowing an unbounded pool to a disallowed family is no widening either
	[x] := [x | some x in rule.violation with input as testing.review_update(nodepool(accel, [family(["p3"])]), unbounded)]
	x.action == "warn"
}

test_v1beta1_not_in_scope if {
	pool := json.patch(nodepool(accel, [gpu_count]), [{"op": "replace", "path": "/apiVersion", "value": "karpenter.sh/v1beta1"}])
	not rule.applies with input as testing.review(pool)
	count(rule.violation) == 0 with input as testing.review(pool)
}
